"""When `--target-psnr` stops a fit: the training estimate's rule against the fitted network's.

A `sirenkit fit image` run is recorded once, without a target (and without the flat-curve
rule, which would end some fits first), step by step: the training
estimate at every measurement (a full image's worth of batches) and the PSNR of the network
the run would end with (the average of the weights, in float32) after every step. The run
does not depend on its stopping rule until it stops, so both rules are replayed on the same
record, exactly:

* **estimate**: stop at the first measurement whose estimate reaches the target and whose
  fitted network does too (the rule before session 19);
* **checked**: :class:`sirenkit.training.sampling.TargetCheck` (through
  :meth:`~sirenkit.training.sampling.TrainingQuality.confirm_target`), the rule of `fit image`
  since session 19 (the fitted network checked once the estimate comes near).

Reported per photograph: the step at which the fitted network first reaches the target, the
step and full images of work at which each rule stops, and the checks (full-image inferences,
about a third of a full batch's training step each) the checked rule spends. Steps and work
are noise-free; no seconds are reported.

    python -m benchmarks.target_stop --images moon camera --target 40 [--json out.json]
        [--write-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from pathlib import Path

import torch
from torch import nn

from benchmarks.common import load, machine, table, write_doc_block, write_json
from benchmarks.image_fit import image_source
from sirenkit.metrics import psnr
from sirenkit.nets.registry import model_from_config
from sirenkit.tasks.image import FitImageConfig
from sirenkit.training.loop import train
from sirenkit.training.sampling import GainStop, TrainingQuality

ROOT = Path(__file__).resolve().parents[1]


class _Decided(Exception):
    """Both rules have stopped: the rest of the run is not needed."""


def record(name: str, size: int, target: float, max_steps: int | None) -> list[dict]:
    """The default fit of ``name`` at ``size`` without a target, one row per step: ``step``,
    ``work`` (full images), ``measured`` (measurements so far), ``estimate`` (the newest
    measurement's, None before the first) and ``fitted`` (the fitted network's PSNR). It ends
    once both rules would have stopped (or at ``max_steps``)."""
    cfg = FitImageConfig(source=image_source(name), size=size)
    cfg.target_psnr = None
    cfg.min_gain = None  # the flat-curve rule would end some runs before the target
    if max_steps is not None:
        cfg.train.steps = max_steps
    cfg.train.eval_every = cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    cfg.train.log_every = 10**9
    task = cfg.setup()
    torch.manual_seed(cfg.train.seed)
    model = model_from_config(cfg.model, task.shape)
    rows: list[dict] = []

    def after_step(step: int, fitted: nn.Module) -> None:  # called on the fitted network
        history = task.quality.stop.history
        with torch.autocast(task.coords.device.type, enabled=False):
            value = psnr(task.predict(fitted), task.image)
        rows.append(
            {
                "step": step,
                "work": task.work,
                "measured": len(history),
                "estimate": history[-1][1] if history else None,
                "fitted": value,
            }
        )
        if all(r is not None for r in replay(rows, target).values()):
            raise _Decided

    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(_Decided):
        train(task, model, cfg.schedule(task), Path(tmp), callbacks=[after_step])
    return rows


def replay(rows: list[dict], target: float) -> dict[str, dict | None]:
    """Where each rule stops on ``rows`` (:func:`record`'s): the row it stops after, with the
    checks it spent; None where it has not stopped. The checked rule is the loop's own
    (:meth:`TrainingQuality.confirm_target`), fed the recorded measurements."""
    out: dict[str, dict | None] = {"estimate": None, "checked": None}
    quality, checks, seen = TrainingQuality(GainStop(target)), [], 0
    for row in rows:
        if row["measured"] == seen:
            continue  # the rules decide after a measurement
        seen = row["measured"]
        estimate, fitted = row["estimate"], row["fitted"]
        if out["estimate"] is None and estimate >= target and fitted >= target:
            out["estimate"] = {**row, "checks": 0}
        if out["checked"] is None:
            quality.stop.update(row["work"], estimate)

            def exact(value: float = fitted) -> float:  # one inference of the loop's
                checks.append(value)
                return value

            quality.confirm_target(exact)
            if quality.stop.reason:
                out["checked"] = {**row, "checks": len(checks)}
    return out


def report(runs: dict[str, list[dict]], target: float) -> str:
    """One row per photograph: where the fitted network reaches ``target`` and where each
    rule stops."""

    def at(row: dict | None) -> str:
        return "-" if row is None else f"{row['step']} ({row['work']:.1f})"

    lines = []
    for name, rows in runs.items():
        first = next((r for r in rows if r["fitted"] >= target), None)
        stops = replay(rows, target)
        old, new = stops["estimate"], stops["checked"]
        saved = None if old is None or new is None else old["step"] - new["step"]
        lines.append(
            {
                "image": name,
                f"fitted network first >= {target:g} dB, step (full images of work)": at(first),
                "estimate rule stops, step (work)": at(old),
                "checked rule stops, step (work)": at(new),
                "checks (inferences)": "-" if new is None else new["checks"],
                "steps saved": "-" if saved is None else saved,
            }
        )
    return table(lines, list(lines[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", nargs="+", default=["moon", "camera", "text", "grass"])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--target", type=float, default=40.0)
    ap.add_argument("--max-steps", type=int, default=None, help="default: the recipe's")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--from-json", type=Path, nargs="+", default=None)
    ap.add_argument("--write-docs", action="store_true", help="docs/speed.md's target-stop")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.from_json:
        data = [json.loads(p.read_text()) for p in args.from_json]
        runs = {k: v for d in data for k, v in d["runs"].items()}
        files = " ".join(map(str, args.from_json))
        command = f"python -m benchmarks.target_stop --from-json {files} --target {args.target:g}"
        command += "`, tabulating `" + "`; `".join(
            f"{d['command']} (on {d['machine']}; {d['load']})" for d in data
        )
    else:
        start = load()
        runs = {
            f"{n}@{args.size}": record(n, args.size, args.target, args.max_steps)
            for n in args.images
        }
        command = (
            f"python -m benchmarks.target_stop --images {' '.join(args.images)} "
            f"--size {args.size} --target {args.target:g} --threads {args.threads}"
        )
        write_json(
            args.json,
            {
                "machine": machine(),
                "command": command,
                "load": f"{start} at the start, {load()} at the end",
                "runs": runs,
            },
        )
    text = report(runs, args.target)
    print(text)
    if args.write_docs:
        write_doc_block(ROOT / "docs" / "speed.md", "target-stop", text, command)


if __name__ == "__main__":
    main()
