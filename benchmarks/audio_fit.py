"""Audio fitting: CPU time to the tuned baseline's 3,000-step MSE, three sides interleaved.

Issue 19's audio goal: reach the MSE a tuned full-clip SIREN has after 3,000 steps, several
times sooner. On crops of the paper's clips (Bach, counting), the 5-layer 256-wide SIREN is
trained three ways in ONE process, one step of a side at a time (the turn goes to the side
that has used the least CPU: :class:`benchmarks.image_fit.Turns`), so load drift hits them
alike:

* **sirenkit**: ``sirenkit fit audio CROP.wav --w0 W`` with its defaults (``--set`` adds
  flags), through the shared loop, exactly as the CLI runs them;
* **tuned**: a short full-clip script a strong user would write
  (:func:`benchmarks.image_fit.tuned_siren`), Adam with a cosine decay to 0 over 3,000
  steps, at the learning rate a brief sweep picked (``--sweep``; docs/speed.md);
* **authors**: the authors' configuration (:class:`benchmarks.reference.ReferenceSiren` with
  first-layer w0 W, Adam 1e-4 constant, full clip), given the tuned side's CPU seconds.

**Crops.** A full-clip step on the whole of Bach costs ~6.4 CPU s at one thread, so 3,000 of
them are out of reach here; each clip is cropped (``--crop-seconds`` from ``--start``) and the
crop's samples mapped to [-1, 1] as ``sirenkit fit audio`` maps any clip. Time ``t`` in
[-1, 1] spans the clip's ``(N - 1) / rate`` seconds, and the first layer computes
``sin(w0 (a t + b))`` with ``|a| <= 1``: its highest frequency is ``w0 / pi`` cycles per unit
of ``t``, ``2 w0 / (pi T)`` cycles per second for a clip of T seconds. The paper's w0 = 3000
on a whole clip becomes ``W = 3000 (n - 1) / (N - 1)`` on a crop of n of its N samples: the
same cycles per second (:func:`crop_w0`). Every side trains on the same crop with the same W.

Reported per clip: the reference (the tuned side's MSE at its step 3,000), each side's CPU
seconds (process time, one thread, evaluations off the clock) and step to reach it, and the
MSE after fixed CPU seconds; ``--json`` keeps the records, ``--write-docs`` writes the table
into docs/speed.md (``<!-- generated: audio-fit -->``).

    python -m benchmarks.audio_fit [--clips bach counting] [--crop-seconds 0.25]
        [--sweep] [--sides sirenkit tuned authors] [--set train.lr=3e-3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.common import SHARED, load, machine, table, write_doc_block, write_json
from benchmarks.image_fit import (
    Clock,
    Turns,
    at_work,
    command_side,
    interleave,
    override,
    train_full,
    tuned_siren,
)
from benchmarks.reference import ReferenceSiren
from sirenkit.metrics import mse_to_psnr
from sirenkit.runtime import keep_freed_memory
from sirenkit.signals.audio import Audio, load_audio, save_audio
from sirenkit.tasks.audio import AUDIO_W0, AudioTask, FitAudioConfig

CLIPS = {"bach": ("gt_bach.wav", 2.0), "counting": ("gt_counting.wav", 1.5)}
"""The paper's clips and where their crops start (seconds): a stretch of music in Bach, a
spoken word in counting (whose pauses are near silence)."""
SIDES = ("sirenkit", "tuned", "authors")
TUNED_STEPS = 3000
TUNED_LR = 1e-3
"""The tuned side's learning rate: the best of 1e-4, 3e-4 and 1e-3 by MSE against steps in
a brief sweep on both crops (``--sweep``; docs/speed.md)."""
FIXED_SECONDS = (15.0, 30.0, 60.0, 120.0, 240.0, 480.0)
ROOT = Path(__file__).resolve().parents[1]


def crop_w0(crop_samples: int, clip_samples: int, w0: float = AUDIO_W0) -> float:
    """The first-layer w0 that gives a crop of ``crop_samples`` the cycles per second ``w0``
    gives the whole clip of ``clip_samples`` (both mapped to [-1, 1])."""
    return w0 * (crop_samples - 1) / max(clip_samples - 1, 1)


def crop(audio: Audio, start: float, seconds: float) -> Audio:
    """``seconds`` of ``audio`` from ``start`` (seconds), at the clip's own scale (so the
    crop's MSE is in the units of the paper's peak-normalised clip)."""
    a = round(start * audio.rate)
    n = round(seconds * audio.rate)
    if a < 0 or n < 2 or a + n > audio.samples.shape[0]:
        raise SystemExit(f"crop {start:g}+{seconds:g} s lies outside the {audio.duration:.2f} s")
    return Audio(audio.samples[a : a + n].copy(), audio.rate, audio.scale, audio.subtype)


def _evaluator(model: nn.Module, times: torch.Tensor, values: torch.Tensor) -> Callable:
    """The clip's PSNR on [-1, 1] (``10 log10(4 / MSE)``, how the records hold quality)."""

    def evaluate() -> float:
        with torch.no_grad():
            out = model(times)
        out = out[0] if isinstance(out, tuple) else out
        return mse_to_psnr(float(torch.mean((out.double() - values.double()) ** 2)))

    return evaluate


def sirenkit_config(path: Path, w0: float, assignments: tuple[str, ...] = ()) -> FitAudioConfig:
    """``sirenkit fit audio PATH --w0 W`` as the CLI builds it (plus ``--set`` variants)."""
    cfg = FitAudioConfig(source=str(path))
    cfg.model.w0 = w0
    override(cfg, assignments)
    return cfg


def sirenkit_side(clock: Clock, cfg: FitAudioConfig, task: AudioTask) -> dict:
    """``cfg``'s run of ``task`` (``cfg.setup()``'s) through the shared loop, as the CLI
    trains it; evaluations, logs and checkpoints are left to the clock."""
    return command_side(clock, cfg, task, lambda m: _evaluator(m, task.coords, task.values))


def compare(
    clip: Audio,
    w0: float,
    sides: dict[str, dict],
    seconds: float,
    eval_every: float,
    assignments: tuple[str, ...] = (),
) -> dict[str, dict]:
    """Train ``sides`` on ``clip`` interleaved; each side's records and end.

    ``sides`` maps a name to its kind: ``{"kind": "sirenkit"}``, ``{"kind": "full", "lr": ..,
    "steps": .., "cosine": ..}`` (a tuned or authors-like full-clip loop, ``"net": "authors"``
    for the authors' network). Budgets, CPU seconds: ``seconds`` for every side, except that a
    side with ``"equal": NAME`` stops once it has used as much CPU as NAME's finished run.
    """
    values = torch.from_numpy(clip.samples.astype(np.float32))
    n, channels = clip.samples.shape
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "crop.wav"
        save_audio(path, clip.samples, clip.rate, scale=1.0, subtype="FLOAT")
        cfg = sirenkit_config(path, w0, assignments)
        task = cfg.setup()  # the same [-1, 1] times and values the CLI trains on
    times = task.coords
    values = task.values
    names = list(sides)
    turns = Turns(len(names))
    clocks: dict[str, Clock] = {}

    def budget(s: str) -> Callable[[], float]:
        other = sides[s].get("equal")

        def limit() -> float:
            ref = clocks.get(other) if other else None
            return min(seconds, ref.cpu) if ref is not None and ref.done else seconds

        return limit

    for i, s in enumerate(names):
        clocks[s] = Clock(turns, i, lambda: math.nan, eval_every, budget(s), n)

    def side(s: str) -> dict:
        spec = sides[s]
        if spec["kind"] == "sirenkit":
            return sirenkit_side(clocks[s], cfg, task)
        if spec.get("net") == "authors":
            net = ReferenceSiren(n_in=1, n_out=channels, first_w0=w0)
        else:
            net = tuned_siren(channels, in_features=1, first_w0=w0)
        clocks[s].evaluate = _evaluator(net, times, values)
        args = (spec["lr"], spec["steps"], spec["cosine"])
        return {"stopped": train_full(clocks[s], net, times, values, *args)}

    extra = interleave(turns, clocks, side)
    return {
        s: {"records": [_with_mse(r) for r in clocks[s].records], **extra[s], "samples": n}
        for s in names
    }


def _with_mse(record: dict) -> dict:
    return {**record, "mse": 4.0 / 10 ** (record["psnr"] / 10)}


def mse_at(records: list[dict], seconds: float) -> float | None:
    """MSE of the last evaluation within ``seconds`` of CPU training time."""
    within = [r["mse"] for r in records if r["cpu"] <= seconds]
    return within[-1] if within else None


def reach(records: list[dict], target: float, conservative_for_us: bool) -> dict | None:
    """The evaluation at which ``records`` first reach MSE ``target``, as ``{cpu, step}``:
    sirenkit's at its first evaluation at or below it; a reference's at the evaluation before
    (its crossing lies between the two: a lower bound on its time). None: never reached."""
    at = next((i for i, r in enumerate(records) if r["mse"] <= target), None)
    if at is None:
        return None
    if conservative_for_us or at == 0:
        r = records[at]
        return {"cpu": r["cpu"], "step": r["step"], "work": r["work"]}
    r = records[at - 1]
    return {"cpu": r["cpu"], "step": r["step"], "work": r["work"]}


def summary_rows(name: str, res: dict[str, dict], reference: str = "tuned") -> list[dict]:
    """One table row per side: CPU s and step to the reference MSE, MSE at fixed seconds."""
    ref = res[reference]["records"][-1]["mse"] if reference in res else None
    ours = res.get("sirenkit")
    hit_ours = reach(ours["records"], ref, True) if ours and ref is not None else None
    rows = []
    for s, side in res.items():
        rec = side["records"]
        last = rec[-1]
        row = {
            "clip": name,
            "side": s,
            "samples/step": round(last["work"] * side["samples"] / max(1, last["step"])),
            "CPU s per clip": last["cpu"] / max(last["work"], 1e-9),
        }
        hit = None if ref is None else reach(rec, ref, s == "sirenkit" or s == reference)
        row["CPU s (step) to ref MSE"] = (
            f"{hit['cpu']:.1f} ({hit['step']})" if hit else f"> {last['cpu']:.0f} (-)"
        )
        if hit_ours and s != "sirenkit":
            theirs = hit["cpu"] if hit else last["cpu"]
            row["x sirenkit's CPU s"] = f"{'' if hit else '> '}{theirs / hit_ours['cpu']:.1f}x"
        for t in FIXED_SECONDS:
            v = mse_at(rec, t)
            row[f"MSE@{t:g} s"] = None if v is None else f"{v:.2e}"
        row["final MSE (step, CPU s)"] = f"{last['mse']:.2e} ({last['step']}, {last['cpu']:.0f})"
        row["ended by"] = side["stopped"]
        rows.append(row)
    return rows


def report(results: dict[str, dict], meta: dict[str, dict]) -> str:
    """Markdown: the crops, then every side's row per clip."""
    lines = [
        "| clip | crop (s) | samples | rate | w0 (paper's 3000 x crop/clip) "
        "| reference: the tuned side's final MSE (step) |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in meta.items():
        ref = results[name].get("tuned")
        mse = f"{ref['records'][-1]['mse']:.3e} ({ref['records'][-1]['step']})" if ref else "-"
        lines.append(
            f"| {name} | {m['start']:g}-{m['start'] + m['seconds']:g} | {m['samples']} | "
            f"{m['rate']} | {m['w0']:.2f} | {mse} |"
        )
    rows = [row for name, res in results.items() for row in summary_rows(name, res)]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return "\n".join(lines) + "\n\n" + table(rows, columns)


def variant_table(paths: list[Path], labels: list[str], works: tuple[float, ...]) -> str:
    """Markdown, noise-free: every side of earlier ``--json`` runs (each a variant of
    sirenkit's options, named by ``labels``, one per run), per clip: the MSE after fixed work
    (whole crops' worth of samples trained on) and the work, step and CPU s to the reference
    (the tuned side's final MSE in any of the runs)."""
    runs = [json.loads(p.read_text()) for p in paths]
    refs = {
        clip: sides["tuned"]["records"][-1]["mse"]
        for run in runs
        for clip, sides in run["results"].items()
        if "tuned" in sides
    }
    rows = []
    for label, run in zip(labels, runs, strict=True):
        for clip, sides in run["results"].items():
            for s, side in sides.items():
                rec = side["records"]
                ref = refs.get(clip)
                hit = None if ref is None else reach(rec, ref, True)
                row = {"clip": clip, "run": label, "side": s}
                for w in works:
                    v = at_work(rec, w)
                    row[f"MSE@{w:g} clips"] = None if v is None else f"{v['mse']:.2e}"
                row["clips (step, CPU s) to ref"] = (
                    f"{hit['work']:.0f} ({hit['step']}, {hit['cpu']:.0f})" if hit else "-"
                )
                row["final MSE (step, clips)"] = (
                    f"{rec[-1]['mse']:.2e} ({rec[-1]['step']}, {rec[-1]['work']:.0f})"
                )
                rows.append(row)
    rows.sort(key=lambda r: (r["clip"], r["run"], r["side"]))
    return table(rows, list(rows[0]))


def whole_clip_run(source: str, assignments: tuple[str, ...]) -> dict:
    """``sirenkit fit audio SOURCE`` (its defaults, ``assignments`` added) at the CLI's w0:
    ``synthetic``, or ``CLIP:START:SECONDS`` (a crop of a paper's clip fitted as a clip of
    its own, not at a crop's scaled w0). One run through :func:`sirenkit.training.run`,
    evaluated every 250 steps; the CPU seconds at each (process time, its evaluations
    included; one side only: nothing interleaved)."""
    from sirenkit.training import run

    with tempfile.TemporaryDirectory() as tmp:
        path = source
        if source != "synthetic":
            name, start, seconds = source.split(":")
            part = crop(load_audio(SHARED / "audio" / CLIPS[name][0]), float(start), float(seconds))
            path = str(Path(tmp) / "crop.wav")
            save_audio(path, part.samples, part.rate, scale=1.0, subtype="FLOAT")
        cfg = FitAudioConfig(source=path, out=Path(tmp))
        cfg.train.progress = False
        cfg.train.eval_every, cfg.train.checkpoint_every = 250, 0
        override(cfg, assignments)
        cpu: dict[int, float] = {}
        start_cpu = time.process_time()

        def note(step: int, _model: nn.Module) -> None:  # after the step's evaluation
            if step % cfg.train.eval_every == 0:
                cpu[step] = time.process_time() - start_cpu

        out = run(cfg, callbacks=[note])
        total = time.process_time() - start_cpu
        lines = (out.run_dir / "metrics.jsonl").read_text().splitlines()
    evals = [r for r in map(json.loads, lines) if r.get("eval")]
    return {
        "source": source,
        "w0": out.model.net[0].w0,
        "evals": [{**r, "cpu": cpu.get(r["step"], total)} for r in evals],
        "cpu": total,
        "final": out.final,
    }


def whole_table(paths: list[Path], labels: list[str]) -> str:
    """Markdown: each ``--whole`` run's SNR (dB) and CPU seconds at its evaluations."""
    runs = [json.loads(p.read_text()) for p in paths]
    steps = sorted({r["step"] for run in runs for r in run["run"]["evals"]})
    rows = []
    for label, run in zip(labels, runs, strict=True):
        rec = run["run"]
        row = {"clip (w0)": f"{rec['source']} ({rec['w0']:g})", "run": label}
        at = {r["step"]: r for r in rec["evals"]}
        for k in steps:
            r = at.get(k)
            row[f"SNR dB (CPU s) at step {k}"] = f"{r['snr']:.1f} ({r['cpu']:.0f})" if r else "-"
        rows.append(row)
    return table(rows, list(rows[0]))


def sides_for(args: argparse.Namespace) -> dict[str, dict]:
    """The sides to run: the sweep's tuned learning rates, or the benchmark's three."""
    if args.sweep:
        return {
            f"tuned lr {lr:g}": {"kind": "full", "lr": lr, "steps": args.sweep, "cosine": True}
            for lr in (1e-4, 3e-4, 1e-3)
        }
    every = {
        "sirenkit": {"kind": "sirenkit"},
        "tuned": {"kind": "full", "lr": TUNED_LR, "steps": TUNED_STEPS, "cosine": True},
        "authors": {
            "kind": "full",
            "net": "authors",
            "lr": 1e-4,
            "steps": 10**9,
            "cosine": False,
            "equal": "tuned",
        },
    }
    return {s: every[s] for s in args.sides}


def _tabulating(flag: str, files: list[Path], labels: list[str], more: str = "") -> str:
    """The command line of a table made from earlier runs' records, and those runs' own
    commands and loads, for a docs block's provenance line."""
    runs = "`; `".join(f"{d['command']} ({d['load']})" for d in map(_record, files))
    return (
        f"python -m benchmarks.audio_fit {flag} {' '.join(map(str, files))} --labels "
        + " ".join(f"'{x}'" for x in labels)
        + f"{more}`, tabulating the runs `{runs}"
    )


def _record(path: Path) -> dict:
    return json.loads(path.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", nargs="+", default=list(CLIPS), choices=list(CLIPS))
    ap.add_argument("--crop-seconds", type=float, default=0.25)
    ap.add_argument(
        "--start", type=float, nargs="+", default=None, help="crop starts, s (one per clip)"
    )
    ap.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    ap.add_argument(
        "--seconds", type=float, default=1800.0, help="CPU budget cap of every side, per clip"
    )
    ap.add_argument(
        "--eval-every", type=float, default=10.0, help="whole crops' worth of samples per MSE"
    )
    ap.add_argument(
        "--sweep",
        type=int,
        default=0,
        metavar="STEPS",
        help="instead: the tuned side at lr 1e-4, 3e-4, 1e-3, cosine over STEPS steps",
    )
    ap.add_argument(
        "--set", nargs="+", default=[], metavar="FIELD=VALUE", help="sirenkit's options"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads, for every side")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--write-docs", action="store_true", help="the table in docs/speed.md")
    ap.add_argument(
        "--variants", nargs="+", type=Path, default=None, help="tabulate earlier --json runs"
    )
    ap.add_argument("--labels", nargs="+", default=None, help="names of the --variants runs")
    ap.add_argument(
        "--block",
        default="audio-recipes",
        help="--variants --write-docs: the generated block of docs/speed.md to write",
    )
    ap.add_argument(
        "--at-work",
        nargs="+",
        type=float,
        default=[100, 300, 1000, 3000],
        help="--variants: whole crops' worth of samples at which the MSE is read",
    )
    ap.add_argument(
        "--from-json", type=Path, default=None, help="tabulate an earlier --json run instead"
    )
    ap.add_argument(
        "--whole",
        default=None,
        metavar="SOURCE",
        help="instead: one run of fit audio's defaults (and --set) on 'synthetic' or "
        "CLIP:START:SECONDS at the CLI's w0",
    )
    ap.add_argument(
        "--whole-table", nargs="+", type=Path, default=None, help="tabulate --whole runs"
    )
    args = ap.parse_args()
    if args.whole_table:
        labels = args.labels or [p.stem for p in args.whole_table]
        text = whole_table(args.whole_table, labels)
        print(text)
        if args.write_docs:
            command = _tabulating("--whole-table", args.whole_table, labels)
            write_doc_block(ROOT / "docs" / "speed.md", "audio-whole", text, command)
        return
    if args.whole:
        torch.set_num_threads(args.threads)
        before = load()
        command = f"python -m benchmarks.audio_fit --whole {args.whole} --threads {args.threads}"
        command += f" --set {' '.join(args.set)}" if args.set else ""
        with keep_freed_memory():
            rec = whole_clip_run(args.whole, tuple(args.set))
        print(json.dumps(rec, indent=1))
        payload = {"machine": machine(), "command": command, "load": f"{before} -> {load()}"}
        write_json(args.json, {**payload, "run": rec})
        return
    if args.from_json:
        data = json.loads(args.from_json.read_text())
        text = report(data["results"], data["meta"])
        print(text)
        if args.write_docs:
            body = text + f"\n\nMeasured under {data['load']}."
            command = (
                f"python -m benchmarks.audio_fit --from-json {args.from_json}"
                f"`, tabulating the run `{data['command']}"
            )
            write_doc_block(ROOT / "docs" / "speed.md", "audio-fit", body, command)
        return
    if args.variants:
        labels = args.labels or [p.stem for p in args.variants]
        if len(labels) != len(args.variants):
            raise SystemExit("--labels needs one name per --variants file")
        text = variant_table(args.variants, labels, tuple(args.at_work))
        print(text)
        if args.write_docs:
            at_work = f" --at-work {' '.join(f'{w:g}' for w in args.at_work)}"
            more = f"{at_work} --block {args.block}"
            command = _tabulating("--variants", args.variants, labels, more)
            write_doc_block(ROOT / "docs" / "speed.md", args.block, text, command)
        return
    if args.start is not None and len(args.start) != len(args.clips):
        raise SystemExit("--start needs one time per clip")
    torch.set_num_threads(args.threads)
    command = (
        f"python -m benchmarks.audio_fit --clips {' '.join(args.clips)} "
        f"--crop-seconds {args.crop_seconds:g} --sides {' '.join(args.sides)} "
        f"--seconds {args.seconds:g} --eval-every {args.eval_every:g} --threads {args.threads}"
        + (f" --start {' '.join(f'{s:g}' for s in args.start)}" if args.start else "")
        + (f" --sweep {args.sweep}" if args.sweep else "")
        + (f" --set {' '.join(args.set)}" if args.set else "")
    )
    print(f"machine: {machine()}; {load()}", flush=True)
    sides = sides_for(args)
    results: dict[str, dict] = {}
    meta: dict[str, dict] = {}
    loads = [load()]
    with keep_freed_memory():  # for every side alike, as `sirenkit fit audio` runs
        tiny = Audio(np.sin(np.arange(64, dtype=np.float32))[:, None], 8000)
        warm = {s: {**v, "steps": 3} for s, v in sides.items()}
        compare(tiny, 30.0, warm, 0.5, 1.0, (*args.set, "train.steps=3"))  # first-call costs
        for i, name in enumerate(args.clips):
            file, start = CLIPS[name]
            start = args.start[i] if args.start else start
            whole = load_audio(SHARED / "audio" / file)
            part = crop(whole, start, args.crop_seconds)
            w0 = crop_w0(part.samples.shape[0], whole.samples.shape[0])
            meta[name] = {
                "start": start,
                "seconds": args.crop_seconds,
                "samples": part.samples.shape[0],
                "rate": part.rate,
                "w0": w0,
            }
            results[name] = compare(part, w0, sides, args.seconds, args.eval_every, tuple(args.set))
            loads.append(load())
            print(report({name: results[name]}, {name: meta[name]}), flush=True)
            print(loads[-1], flush=True)
            write_json(
                args.json,
                {
                    "machine": machine(),
                    "command": command,
                    "load": f"{loads[0]} at the start, {loads[-1]} at the end",
                    "args": {k: v for k, v in vars(args).items() if k != "json"},
                    "meta": meta,
                    "results": results,
                },
            )
    text = report(results, meta)
    print(text)
    if args.write_docs:
        body = text + f"\n\nMeasured under {loads[0]} at the start, {loads[-1]} at the end."
        write_doc_block(ROOT / "docs" / "speed.md", "audio-fit", body, command)


if __name__ == "__main__":
    main()
