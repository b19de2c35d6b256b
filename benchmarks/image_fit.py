"""Image fitting: time to quality of `sirenkit fit image` against two references, interleaved.

On scikit-image's built-in photographs (grey and RGB), resized as the authors' code does,
the 5-layer 256-wide SIREN (w0 30) is trained three ways in ONE process, one step of each side
in turn, so load drift on a shared machine hits every side alike:

* **sirenkit**: `sirenkit fit image`'s defaults (the shared training loop, its sampler, its
  precision phases and its stopping rule), exactly as the CLI runs them;
* **tuned**: a 30-line full-batch SIREN a strong user would write (:func:`tuned_siren`), Adam
  1e-3 with a cosine decay over ``--tuned-steps`` steps;
* **authors**: the authors' configuration (:class:`benchmarks.reference.ReferenceSiren`,
  Adam 1e-4 constant, full batch).

Every side runs under the same process settings (``--threads`` torch threads, freed memory
kept for all of them); training time (wall and process CPU) excludes PSNR evaluations, which
run off the clock every ``--eval-every`` full images' worth of trained pixels. Reported:
seconds and steps to 30, 35 and 40 dB, PSNR after fixed seconds, the final PSNR, and the work
per step (pixels per step, so a cheap partial-batch step is never read as a fast full one).

    python -m benchmarks.image_fit [--images camera astronaut] [--sizes 256 512]
        [--seconds 300] [--write-docs] [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.common import SHARED, load, machine, write_doc_block, write_json
from benchmarks.reference import ReferenceSiren
from sirenkit.metrics import psnr
from sirenkit.nets.registry import TaskShape, model_from_config
from sirenkit.nets.siren import bfloat16_backward
from sirenkit.runtime import keep_freed_memory
from sirenkit.signals import grid, load_image
from sirenkit.signals.audio import load_audio
from sirenkit.tasks.image import FitImageConfig
from sirenkit.training.config import TrainConfig
from sirenkit.training.loop import train
from sirenkit.training.sampling import SampledTask

PHOTOGRAPHS = (
    "camera",
    "astronaut",
    "brick",
    "coffee",
    "grass",
    "chelsea",
    "gravel",
    "rocket",
    "moon",
    "retina",
    "page",
    "hubble_deep_field",
    "text",
    "immunohistochemistry",
    "coins",
    "clock",
)
"""scikit-image's built-in photographs (the synthetic ones, horse's silhouette and cat, a
second copy of chelsea, left out), grey and RGB in turn so that a run cut short covers
both."""
HELD_OUT = {
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    "motorcycle": ("skimage", "data/motorcycle_left.png"),
    "cell": ("skimage", "data/cell.png"),
}
"""Photographs the recipe was never chosen on (``--images held-out``), shipped inside two of
sirenkit's dependencies: Grace Hopper's portrait (matplotlib, 600x512 RGB), the left view of
scikit-image's stereo pair (500x741 RGB; not one of its ``data`` names) and its
microscopy cell (660x550 grey), all at least 512 pixels on the longer side."""
TARGETS = (30.0, 35.0, 40.0)
SIDES = ("sirenkit", "tuned", "authors")
TUNED_STEPS = 500
"""The tuned baseline's steps (its cosine decays over them): the recipe of the issue's script."""
ROOT = Path(__file__).resolve().parents[1]


class _Done(Exception):
    """Ends a side whose time budget is spent."""


class Turns:
    """Exactly one side computes at a time; the turn goes to the living side that has used the
    least CPU so far, so every side is measured at the same CPU points of the run (and load
    drift hits them alike) whatever its step costs."""

    def __init__(self, n: int) -> None:
        self.cond = threading.Condition()
        self.turn = 0
        self.alive = [True] * n
        self.cpu = [0.0] * n

    def wait(self, i: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.turn == i)

    def give(self, i: int, cpu: float = 0.0, finished: bool = False) -> None:
        with self.cond:
            self.cpu[i] = cpu
            if finished:
                self.alive[i] = False
            living = [k for k in range(len(self.alive)) if self.alive[k]]
            if living:  # least CPU first; ties go round from the side after i
                n = len(self.alive)
                self.turn = min(living, key=lambda k: (self.cpu[k], (k - i - 1) % n))
            self.cond.notify_all()


class Clock:
    """One side's training clock (wall and process CPU seconds) and its PSNR record.

    ``start`` waits for the side's turn; ``stop`` books the step, evaluates off the clock
    whenever another ``eval_every`` full images' worth of pixels has been trained on (the same
    resolution in work for every side, whatever its batch) and hands the turn on. With one side
    computing at a time, the process CPU time of a turn is that side's.
    """

    def __init__(
        self,
        turns: Turns,
        index: int,
        evaluate: Callable[[], float],
        eval_every: float,
        budget: Callable[[], float],
        pixels: int,
    ) -> None:
        self.turns, self.index, self.evaluate = turns, index, evaluate
        self.eval_every, self.budget, self.pixels = eval_every, budget, pixels
        self.done = False
        self.wall = self.cpu = 0.0
        self.work = 0.0
        self.records: list[dict] = []
        self._t = (0.0, 0.0)
        self._next_eval = eval_every

    def start(self) -> None:
        self.turns.wait(self.index)
        self._t = (time.perf_counter(), time.process_time())

    def stop(self, step: int, pixels: int) -> bool:
        """Book a finished step of ``pixels`` pixels; True when the budget is spent."""
        self.wall += time.perf_counter() - self._t[0]
        self.cpu += time.process_time() - self._t[1]
        self.work += pixels / self.pixels
        over = self.cpu >= self.budget()
        if self.work >= self._next_eval - 1e-9 or over:
            self.record(step)
            while self._next_eval <= self.work + 1e-9:
                self._next_eval += self.eval_every
        self.turns.give(self.index, self.cpu)
        return over

    def record(self, step: int) -> None:
        if self.records and self.records[-1]["step"] == step:
            return
        p = self.evaluate()
        self.records.append(
            {"step": step, "wall": self.wall, "cpu": self.cpu, "work": self.work, "psnr": p}
        )

    def finish(self, step: int) -> None:
        """The side has ended (its own rule or the budget): last record, leave the round."""
        self.record(step)
        self.done = True
        self.turns.give(self.index, self.cpu, finished=True)


def image_source(name: str) -> str:
    """The path of a held-out photograph, else ``name`` (a built-in name or a file)."""
    if name not in HELD_OUT:
        return name
    package, rel = HELD_OUT[name]
    return str(Path(__import__(package).__file__).parent / rel)


def tuned_siren(
    channels: int, w0: float = 30.0, in_features: int = 2, first_w0: float | None = None
) -> nn.Module:
    """The tuned baseline's network: what a strong user writes from the paper in 30 lines
    (5 linear layers, 256 wide, sine activations, the paper's initialisation); 2 inputs for
    an image, 3 for a video, 1 for audio, whose first layer has its own ``first_w0``."""

    class Sine(nn.Module):
        def __init__(self, n_in: int, n_out: int, first: bool) -> None:
            super().__init__()
            self.w0 = first_w0 if first and first_w0 is not None else w0
            self.linear = nn.Linear(n_in, n_out)
            bound = 1 / n_in if first else math.sqrt(6 / n_in) / w0
            nn.init.uniform_(self.linear.weight, -bound, bound)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sin(self.w0 * self.linear(x))

    last = nn.Linear(256, channels)
    nn.init.uniform_(last.weight, -math.sqrt(6 / 256) / w0, math.sqrt(6 / 256) / w0)
    return nn.Sequential(
        Sine(in_features, 256, True), *(Sine(256, 256, False) for _ in range(3)), last
    )


def _evaluator(model: nn.Module, coords: torch.Tensor, image: np.ndarray) -> Callable[[], float]:
    def evaluate() -> float:
        with torch.no_grad():
            out = model(coords)
        out = out[0] if isinstance(out, tuple) else out
        return psnr(out.reshape(image.shape).float().numpy(), image)

    return evaluate


def full_batch_side(
    clock: Clock, model: nn.Module, image: np.ndarray, lr: float, steps: int, cosine: bool
) -> str:
    """A reference loop: full batch, Adam at ``lr``, constant or cosine-decayed to zero."""
    coords = grid(image.shape[:2])
    target = torch.from_numpy(image.reshape(-1, image.shape[-1]).copy())
    clock.evaluate = _evaluator(model, coords, image)
    return train_full(clock, model, coords, target, lr, steps, cosine)


def train_full(
    clock: Clock,
    model: nn.Module,
    coords: torch.Tensor,
    target: torch.Tensor,
    lr: float,
    steps: int,
    cosine: bool,
) -> str:
    """The reference loop of :func:`full_batch_side` on any points ``coords`` -> ``target``
    (an audio clip's): every point each step; why it ended."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cosine else None
    step, ended = 0, f"{steps} steps{', cosine' if cosine else ''}"
    for step in range(1, steps + 1):
        clock.start()
        out = model(coords)
        out = out[0] if isinstance(out, tuple) else out
        loss = ((out - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if clock.stop(step, coords.shape[0]):
            ended = "time budget"
            break
    clock.finish(step)
    return ended


def override(cfg: object, assignments: tuple[str, ...]) -> None:
    """Apply ``field.sub=value`` assignments (Python literals: 600, 0.7, None) to a config,
    the way the CLI flags would (``train.hold=0.7`` is ``--hold 0.7``)."""
    for item in assignments:
        key, _, text = item.partition("=")
        *path, last = key.split(".")
        target = cfg
        for part in path:
            target = getattr(target, part)
        if not hasattr(target, last):
            raise SystemExit(f"--set {item}: no field {key!r}")
        setattr(target, last, ast.literal_eval(text))


def loop_side(clock: Clock, task: SampledTask, model: nn.Module, cfg: TrainConfig) -> str:
    """Train ``task`` through the shared loop as ``cfg`` says, one step per turn of ``clock``
    (the pixels of a step from the task's work); why it ended."""
    seen = {"work": 0.0, "step": 0}

    def after_step(step: int, _model: nn.Module) -> None:
        pixels = round((task.work - seen["work"]) * clock.pixels)
        seen.update(work=task.work, step=step)
        if clock.stop(step, pixels):
            raise _Done
        clock.start()

    with tempfile.TemporaryDirectory() as tmp:
        clock.start()
        try:
            stopped = train(task, model, cfg, Path(tmp), callbacks=[after_step]).stopped
        except _Done:
            stopped = "time budget"
    clock.finish(seen["step"])
    return stopped or f"{cfg.steps} steps"


def sirenkit_side(
    clock: Clock, name: str, size: int, steps: int | None, assignments: tuple[str, ...] = ()
) -> dict:
    """``sirenkit fit image NAME --size SIZE`` with its defaults (or the given
    ``assignments``), through the shared loop."""
    cfg = FitImageConfig(source=image_source(name), size=size)
    if steps is not None:
        cfg.train.steps = steps
    override(cfg, assignments)
    task = cfg.setup()
    return command_side(clock, cfg, task, lambda m: _evaluator(m, task.coords, task.image))


def command_side(
    clock: Clock, cfg, task: SampledTask, evaluator: Callable[[nn.Module], Callable[[], float]]
) -> dict:
    """``cfg``'s run of ``task`` (``cfg.setup()``'s) through the shared loop, as its command
    trains it, from the command's seed; evaluations, logs and checkpoints are left to the
    clock (``evaluator(model)`` measures the fit)."""
    cfg.train.eval_every = cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    cfg.train.log_every = 10**9
    torch.manual_seed(cfg.train.seed)
    model = model_from_config(cfg.model, task.shape)
    clock.evaluate = evaluator(model)
    return {"stopped": loop_side(clock, task, model, cfg.schedule(task))}


def compare(
    name: str,
    size: int,
    seconds: float,
    eval_every: float,
    tuned_steps: int,
    sirenkit_steps: int | None = None,
    sides: tuple[str, ...] = SIDES,
    caps: dict[str, float] | None = None,
    ratios: dict[str, float] | None = None,
    assignments: tuple[str, ...] = (),
) -> dict[str, dict]:
    """Train the chosen sides on one image, interleaved; their records and summaries.

    Every side's CPU budget is bounded: sirenkit's by ``seconds``, a reference's by its cap
    (``caps``, default ``seconds``) and, with ``ratios[side] = k``, by k times the CPU seconds
    sirenkit needed for the last target: a reference that has not reached the target by then
    is at least k times slower, which is all a goal of "k times sooner" needs to know. When
    sirenkit never reached it (the image counts as missed whatever the reference does), the
    reference gets as much CPU as sirenkit's whole run: an equal-CPU comparison.
    """
    image = load_image(image_source(name), size)
    pixels = image.shape[0] * image.shape[1]
    turns = Turns(len(sides))
    caps = {s: (caps or {}).get(s, seconds) for s in sides}
    caps["sirenkit"] = seconds
    ratios = ratios or {}
    clocks: dict[str, Clock] = {}

    def budget(s: str) -> Callable[[], float]:
        def limit() -> float:
            k, ours = ratios.get(s), clocks.get("sirenkit")
            if s == "sirenkit" or k is None or ours is None:
                return caps[s]
            hit = next((r for r in ours.records if r["psnr"] >= TARGETS[-1]), None)
            if hit is not None:
                return min(caps[s], k * hit["cpu"])
            return min(caps[s], ours.cpu) if ours.done else caps[s]

        return limit

    for i, s in enumerate(sides):
        clocks[s] = Clock(turns, i, lambda: float("nan"), eval_every, budget(s), pixels)

    def side(s: str) -> dict:
        if s == "sirenkit":
            return sirenkit_side(clocks[s], name, size, sirenkit_steps, assignments)
        if s == "tuned":
            net = tuned_siren(image.shape[-1])
            return {"stopped": full_batch_side(clocks[s], net, image, 1e-3, tuned_steps, True)}
        net = ReferenceSiren(n_out=image.shape[-1])
        return {"stopped": full_batch_side(clocks[s], net, image, 1e-4, 10**9, cosine=False)}

    extra = interleave(turns, clocks, side)
    return side_results(clocks, extra, pixels, image.shape[-1])


def interleave(
    turns: Turns, clocks: dict[str, Clock], side: Callable[[str], dict]
) -> dict[str, dict]:
    """Run ``side(name)`` for every side of ``clocks``, each in its own thread, one computing
    at a time (``turns``; torch seeded 0 for each); what each returned. A side's error ends
    that side only (the others are never left waiting) and is raised once all have ended.

    A side is seeded and builds its network only in its own turn: the threads share torch's
    global generator, and a side drawing while another seeds or draws would start from weights
    no rerun reproduces."""
    extra: dict[str, dict] = {s: {} for s in clocks}
    errors: list[BaseException] = []

    def run(s: str) -> None:
        try:
            turns.wait(clocks[s].index)
            torch.manual_seed(0)
            extra[s] = side(s)
        except BaseException as e:  # report in the main thread; never leave the others waiting
            errors.append(e)
            turns.give(clocks[s].index, clocks[s].cpu, finished=True)

    threads = [threading.Thread(target=run, args=(s,)) for s in clocks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return extra


def side_results(
    clocks: dict[str, Clock],
    extra: dict[str, dict],
    pixels: int,
    channels: int,
    targets: tuple[float, ...] = TARGETS,
) -> dict[str, dict]:
    """Every side's records, :func:`summarise`'s summary, what the side returned and its
    final CPU budget."""
    return {
        s: {
            "records": c.records,
            **summarise(c.records, pixels, channels, targets),
            **extra[s],
            "budget": c.budget(),
        }
        for s, c in clocks.items()
    }


def summarise(
    records: list[dict], pixels: int, channels: int, targets: tuple[float, ...] = TARGETS
) -> dict:
    """Seconds (wall, CPU) and steps to each target, PSNR at fixed seconds, final PSNR."""
    last = records[-1]
    row: dict = {
        "steps": last["step"],
        "wall": last["wall"],
        "cpu": last["cpu"],
        "final": last["psnr"],
        "pixels/step": round(last["work"] * pixels / max(1, last["step"])),
        "cpu s per full batch": last["cpu"] / max(last["work"], 1e-9),
        "channels": channels,
    }
    for t in targets:
        at = next((i for i, r in enumerate(records) if r["psnr"] >= t), None)
        hit = None if at is None else records[at]
        before = records[at - 1] if at else None
        # the crossing lies between the evaluation before the hit and the hit: a reference's
        # time is taken at the earlier one (a lower bound), sirenkit's at the hit
        row[f"cpu<{t:.0f}"] = (before["cpu"] if before else 0.0) if hit else None
        row[f"wall<{t:.0f}"] = (before["wall"] if before else 0.0) if hit else None
        row[f"wall@{t:.0f}"] = hit["wall"] if hit else None
        row[f"cpu@{t:.0f}"] = hit["cpu"] if hit else None
        row[f"step@{t:.0f}"] = hit["step"] if hit else None
        row[f"work@{t:.0f}"] = hit["work"] if hit else None
    return row


def psnr_at(records: list[dict], seconds: float) -> float | None:
    """PSNR of the last evaluation within ``seconds`` of CPU training time."""
    within = [r["psnr"] for r in records if r["cpu"] <= seconds]
    return within[-1] if within else None


def ratio(ref: dict, ours: dict, key: str) -> tuple[float | None, bool]:
    """``ref / ours`` for a time-to-target key (``wall@40``), conservatively: sirenkit's time is
    its first evaluation at the target, the reference's its last evaluation below it (the
    crossing lies between its evaluations). (bound, True) when only the reference missed the
    target within its budget, so the ratio is at least the bound; (None, False) when sirenkit
    missed it."""
    a, b = ours.get(key), ref.get(key.replace("@", "<"), ref.get(key))
    if a is None:
        return None, False
    if b is None:
        return ref[key.split("@")[0]] / a, True
    return b / a, False


def _fmt_ratio(value: tuple[float | None, bool]) -> str:
    r, lower = value
    if r is None:
        return "-"
    return f"> {r:.1f}x" if lower else f"{r:.1f}x"


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def tables(results: dict[tuple[str, int], dict[str, dict]], seconds: float) -> str:
    """Markdown: per image and size, the three sides; then the medians against the goals."""
    lines = [
        "| image | size | side | pixels/step | CPU s per full batch | "
        + " | ".join(f"CPU / wall s to {t:.0f} dB (step)" for t in TARGETS)
        + "".join(f" | PSNR@{s:g} CPU s" for s in _fixed_seconds(seconds))
        + " | final PSNR (step, CPU s) | ended by |",
        "|" + "---|" * (7 + len(TARGETS) + len(_fixed_seconds(seconds))),
    ]
    for (name, size), sides in results.items():
        for s, row in sides.items():
            times = [
                f"{_fmt(row[f'cpu@{t:.0f}'])} / {_fmt(row[f'wall@{t:.0f}'])} "
                f"({row[f'step@{t:.0f}'] or '-'})"
                for t in TARGETS
            ]
            fixed = [_fmt(psnr_at(row["records"], x), ".2f") for x in _fixed_seconds(seconds)]
            lines.append(
                f"| {name} | {size} | {s} | {row['pixels/step']} | "
                f"{row['cpu s per full batch']:.2f} | "
                + " | ".join(times)
                + "".join(f" | {x}" for x in fixed)
                + f" | {row['final']:.2f} ({row['steps']}, {row['cpu']:.0f}) | {row['stopped']} |"
            )
    goals = goal_table(results)
    return "\n".join([*lines, "", goals] if goals else lines)


def _fixed_seconds(seconds: float) -> list[float]:
    return [s for s in (15.0, 30.0, 60.0, 120.0, 240.0) if s <= seconds]


def goal_table(results: dict[tuple[str, int], dict[str, dict]]) -> str:
    """Per size: median (over images) of how many times sooner sirenkit reaches each target,
    wall and CPU, and how many images end at or above the tuned baseline's final PSNR; empty
    when no run has a reference side (a table of sirenkit's side alone)."""
    head = [
        "| size | images | vs | "
        + " | ".join(f"{t:.0f} dB sooner, wall (CPU)" for t in TARGETS)
        + f" | {TARGETS[-1]:.0f} dB sooner = fewer pixels trained (sampling, schedule) x"
        + " cheaper pixels (implementation, bfloat16), CPU"
        + " | final PSNR >= tuned's final |",
        "|" + "---|" * (5 + len(TARGETS)),
    ]
    lines = []
    for size in sorted({k[1] for k in results}):
        for ref in ("tuned", "authors"):
            group = [v for k, v in results.items() if k[1] == size and {"sirenkit", ref} <= set(v)]
            if not group:
                continue
            cells = []
            for t in TARGETS:
                wall = [ratio(v[ref], v["sirenkit"], f"wall@{t:.0f}") for v in group]
                cpu = [ratio(v[ref], v["sirenkit"], f"cpu@{t:.0f}") for v in group]
                cells.append(f"{_median(wall)} ({_median(cpu)})")
            t = TARGETS[-1]
            split = [_split(v[ref], v["sirenkit"], t) for v in group]
            if all(x is not None for x in split):
                fewer = _median([(a, lower) for a, _, lower in split], "x (pixels)")
                cheaper = statistics.median(b for _, b, _ in split)
                cells.append(f"{fewer} x {cheaper:.2f}x (CPU s per pixel)")
            else:
                cells.append("-")
            held = ""
            if ref == "tuned":
                ok = sum(v["sirenkit"]["final"] >= v["tuned"]["final"] for v in group)
                held = f"{ok} of {len(group)}"
            lines.append(f"| {size} | {len(group)} | {ref} | " + " | ".join(cells) + f" | {held} |")
    return "\n".join([*head, *lines]) if lines else ""


def _split(ref: dict, ours: dict, t: float) -> tuple[float, float, bool] | None:
    """``ratio = fewer pixels x cheaper pixels`` for the CPU time to ``t`` dB: the reference's
    CPU per full image's worth of pixels over its run against sirenkit's up to the target, and
    the rest of the ratio; None when sirenkit missed the target."""
    r, lower = ratio(ref, ours, f"cpu@{t:.0f}")
    if r is None:
        return None
    cheaper = (ref["cpu"] / ref["records"][-1]["work"]) / (
        ours[f"cpu@{t:.0f}"] / ours[f"work@{t:.0f}"]
    )
    return r / cheaper, cheaper, lower


def _median(values: list[tuple[float | None, bool]], unit: str = "x") -> str:
    """Median of ratios, conservatively: an image where sirenkit missed the target counts below
    every measured ratio, and a reference that missed counts at its budget (a lower bound), so
    the true median is at least the figure; '>' when lower bounds entered it, 'missed' when the
    median image is one sirenkit missed. Followed by how many images sirenkit reached."""
    if not values:
        return "-"
    ranked = sorted(values, key=lambda v: -1.0 if v[0] is None else v[0])
    n = len(ranked)
    mid = [ranked[(n - 1) // 2], ranked[n // 2]]
    reached = sum(v[0] is not None for v in values)
    tail = f" [{reached}/{n}]" if reached < n else ""
    if any(v[0] is None for v in mid):
        return "missed" + tail
    med = (mid[0][0] + mid[1][0]) / 2
    lower = any(b for r, b in values if r is not None)
    return f"{'> ' if lower else ''}{med:.1f}{unit}{tail}"


def cases(quick: bool) -> list[dict]:
    """Suite cases on the 256x256 cameraman: seconds to 30 dB (quick) or 40 dB against the
    tuned baseline and the authors' configuration, measured in one interleaved run."""
    target = 30.0 if quick else 40.0
    compare("camera", 16, 1.0, 1, 5, 5)  # first-call costs, unbooked
    res = compare("camera", 256, 45.0 if quick else 240.0, 4.0, TUNED_STEPS)
    ours = res["sirenkit"]
    out = []
    for ref in ("tuned", "authors"):
        r, lower = ratio(res[ref], ours, f"wall@{target:.0f}")
        theirs = res[ref][f"wall@{target:.0f}"]
        out.append(
            {
                "case": f"image: training s to {target:.0f} dB vs {ref}",
                "value": ours[f"wall@{target:.0f}"],
                "reference": theirs,
                "ratio": None if r is None else 1 / r,
                "unit": "s",
                "note": (
                    f"{ref} not there after {res[ref]['wall']:.0f} s "
                    f"({res[ref]['final']:.1f} dB): ratio < {1 / r:.2f}"
                    if lower and r
                    else f"steps {ours[f'step@{target:.0f}']} vs {res[ref][f'step@{target:.0f}']}"
                ),
            }
        )
    return out


def step_costs(size: int = 256, rounds: int = 3) -> dict[str, float]:
    """CPU seconds of one training step of each side on a ``size`` x ``size`` image (RGB),
    interleaved over ``rounds`` rounds (median): a full float32 batch for the tuned baseline,
    the authors' configuration and sirenkit, and sirenkit's default first batch (16384
    pixels, bfloat16) and doubled batch (32768, float32), and sirenkit's float32-forward,
    bfloat16-backward steps (``--precision bfloat16-backward``). What a run's CPU cost is estimated
    from, where the run itself is too long for this machine."""
    coords = grid((size, size))
    target = torch.rand(size * size, 3) * 2 - 1
    nets = {
        "tuned": tuned_siren(3),
        "authors": ReferenceSiren(n_out=3),
        "sirenkit": model_from_config(FitImageConfig().model, TaskShape(2, 3, (size, size), 30.0)),
    }
    opts = {k: torch.optim.Adam(n.parameters(), 1e-3) for k, n in nets.items()}
    g = torch.Generator().manual_seed(0)
    cases = {
        "tuned": ("tuned", None, "float32"),
        "authors": ("authors", None, "float32"),
        "sirenkit": ("sirenkit", None, "float32"),
        "sirenkit 16384 bfloat16": ("sirenkit", 16384, "bfloat16"),
        "sirenkit 32768": ("sirenkit", 32768, "float32"),
        "sirenkit 32768 bfloat16-backward": ("sirenkit", 32768, "bfloat16-backward"),
        "sirenkit bfloat16-backward": ("sirenkit", None, "bfloat16-backward"),
    }

    def step(name: str, batch: int | None, precision: str) -> float:
        t = time.process_time()
        idx = None if batch is None else torch.randint(size * size, (batch,), generator=g)
        x, y = (coords, target) if idx is None else (coords[idx], target[idx])
        with (
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"),
            bfloat16_backward(precision == "bfloat16-backward"),
        ):
            out = nets[name](x)
        out = out[0] if isinstance(out, tuple) else out
        loss = ((out.float() - y) ** 2).mean()
        opts[name].zero_grad()
        loss.backward()
        opts[name].step()
        return time.process_time() - t

    times: dict[str, list[float]] = {k: [] for k in cases}
    for r in range(rounds + 1):
        for k, args in cases.items():
            dt = step(*args)
            if r:  # the first round pays first-call costs
                times[k].append(dt)
    return {k: statistics.median(v) for k, v in times.items()}


def merged_sides(paths: list[Path]) -> dict[str, dict]:
    """The records of ``--json`` runs, keyed ``name@size``, each image's sides merged: a later
    run of an image (the authors' side beside sirenkit's) adds its sides to an earlier one's
    (the tuned side's) instead of replacing them."""
    results: dict[str, dict] = {}
    for path in paths:
        for key, sides in json.loads(path.read_text())["results"].items():
            results.setdefault(key, {}).update(sides)
    return results


def cost_report(costs: dict[str, float], size: int, results: dict) -> str:
    """Markdown: the measured step costs, the CPU hours of the long runs computed from them
    (cost is linear in the points of a step: measured, docs/speed.md), and how many
    photographs the tabulated records (``results``, keyed ``name@size``) hold each run for."""
    pixels = size * size
    per_point = {k: v / pixels for k, v in costs.items() if " " not in k}
    lines = [
        f"| step ({size}x{size}, one thread) | CPU s |",
        "|---|---|",
        *(f"| {k} | {v:.3f} |" for k, v in costs.items()),
        "",
        "| run | computed as | CPU hours | photographs in the records tabulated |",
        "|---|---|---|---|",
    ]

    def at(n: int) -> list[dict]:
        """The records of ``n`` x ``n`` images (every side of each)."""
        return [v for k, v in results.items() if k.endswith(f"@{n}")]

    def to_40(n: int) -> list[float]:
        """Sirenkit's CPU seconds to 40 dB in the records of ``n`` x ``n`` images."""
        return [v["sirenkit"]["cpu@40"] for v in at(n) if v.get("sirenkit", {}).get("cpu@40")]

    if t40 := to_40(size):
        t = statistics.median(t40)
        lines.append(
            f"| authors' side to 30x sirenkit's CPU s to 40 dB, per {size}x{size} photograph "
            f"| 30 x {t:.0f} s (median of {len(t40)} measured) | {30 * t / 3600:.2f} "
            f"| {sum('authors' in v for v in at(size))} |"
        )
    if t40 := to_40(512):
        # a lower bound: sirenkit's side runs at least to 40 dB, the tuned side to 3x that
        t = statistics.median(t40)
        lines.append(
            "| 512x512 bounded benchmark (`--tuned-ratio 3`), all 16 photographs "
            f"| 16 x (1 + 3) x {t:.0f} s (sirenkit's median CPU s to 40 dB, {len(t40)} "
            f"measured at 512x512) | {64 * t / 3600:.2f} | {sum('tuned' in v for v in at(512))} |"
        )
    wide = per_point["tuned"] * 512 * 512
    own = sum(v.get("tuned", {}).get("steps", 0) >= TUNED_STEPS for v in at(512))
    lines.append(
        f"| the tuned baseline's own {TUNED_STEPS} steps at 512x512, per photograph "
        f"| {TUNED_STEPS} x {wide:.2f} s | {TUNED_STEPS * wide / 3600:.2f} | {own} |"
    )
    audio = SHARED / "audio" / "gt_bach.wav"
    if audio.exists():
        n = load_audio(audio).samples.shape[0]
        step = per_point["tuned"] * n
        lines.append(
            f"| audio: the tuned baseline's 3,000 full-batch steps on Bach ({n:,} samples) "
            f"| 3000 x {step:.1f} s | {3000 * step / 3600:.2f} | - (an audio run) |"
        )
    return "\n".join(lines)


def at_work(records: list[dict], work: float) -> dict | None:
    """The evaluation after ``work`` full signals' worth of trained pixels (None past the run's
    end). A :class:`Clock` evaluates on the first step that completes its work, so that
    evaluation may pass ``work`` by up to one step's pixels: it is the one taken, not the one
    before it."""
    if not records or records[-1]["work"] < work - 1e-9:
        return None
    step_work = max(r["work"] / r["step"] for r in records if r["step"])
    within = [r for r in records if r["work"] < work + step_work]
    return within[-1] if within else None


def _at_step(records: list[dict], step: int) -> dict | None:
    """The last evaluation at or before ``step`` (None past the run's end)."""
    within = [r for r in records if r["step"] <= step]
    return within[-1] if within and step <= records[-1]["step"] else None


def _cpu_per_step(records: list[dict], first: int, last: int) -> float | None:
    """CPU seconds per step between the evaluations nearest steps ``first`` and ``last``."""
    a, b = _at_step(records, first), _at_step(records, last)
    if a is None or b is None or b["step"] <= a["step"]:
        return None
    return (b["cpu"] - a["cpu"]) / (b["step"] - a["step"])


def variant_table(
    paths: list[Path], labels: list[str] | None = None, steps: tuple[int, ...] = (100, 200, 300)
) -> str:
    """Markdown: sirenkit's side of several runs (each a variant of its options, ``--set``,
    or named by ``labels``, one per run), per image: the PSNR at fixed steps (noise-free:
    the same steps in every run), the CPU seconds per step of each batch phase after the
    bfloat16 one, the CPU s (step) and the pixels trained on (in full images, noise-free) to
    40 dB, and the final PSNR."""
    lines = [
        "| image | sirenkit's options | "
        + " | ".join(f"PSNR@{s} steps" for s in steps)
        + " | CPU s/step, steps 150-200 | CPU s/step, 200-300 | CPU s (step) to 40 dB "
        "| full images of work to 40 dB | final PSNR (step, CPU s) |",
        "|---|---|" + "---|" * (len(steps) + 5),
    ]
    rows = []
    for i, path in enumerate(paths):
        data = json.loads(path.read_text())
        options = " ".join(data["args"].get("set") or []) or "the default"
        if labels:
            options = labels[i]
        for key, sides in data["results"].items():
            ours = sides["sirenkit"]
            rec = ours["records"]
            psnrs = [_at_step(rec, s) for s in steps]
            rows.append(
                (
                    key,
                    options,
                    *(_fmt(r and r["psnr"], ".2f") for r in psnrs),
                    _fmt(_cpu_per_step(rec, 152, 200), ".3f"),
                    _fmt(_cpu_per_step(rec, 200, 300), ".3f"),
                    f"{_fmt(ours['cpu@40'])} ({ours['step@40'] or '-'})",
                    _fmt(ours.get("work@40")),
                    f"{ours['final']:.2f} ({ours['steps']}, {ours['cpu']:.0f})",
                )
            )
    lines += [f"| {' | '.join(r)} |" for r in sorted(rows)]
    return "\n".join(lines)


def _run_line(data: dict) -> str:
    """A saved run as a caption names it: its command and load, and its machine where that
    is not the one writing the table (the image recipe's speed depends on the CPU)."""
    where = data.get("machine", "machine not recorded")
    hardware = re.compile(r", \d+ threads")  # the runs set their own threads
    on = "" if hardware.sub("", where) == hardware.sub("", machine()) else f"on {where}; "
    return f"{data['command']} ({on}{data.get('load', 'load not recorded')})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--images",
        nargs="+",
        default=list(PHOTOGRAPHS),
        help="built-in names, files, or held-out (the photographs of HELD_OUT)",
    )
    ap.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    ap.add_argument(
        "--seconds", type=float, default=300.0, help="training budget per side, CPU seconds"
    )
    ap.add_argument(
        "--tuned-steps", type=int, default=TUNED_STEPS, help="the tuned baseline's steps"
    )
    ap.add_argument(
        "--ref-seconds",
        type=float,
        default=None,
        help="CPU budget cap of each reference (default --seconds)",
    )
    ap.add_argument(
        "--tuned-ratio",
        type=float,
        default=None,
        help="end the tuned baseline at this many times sirenkit's CPU s to 40 dB (a miss "
        "then proves a ratio of at least this much)",
    )
    ap.add_argument(
        "--authors-ratio", type=float, default=None, help="the same for the authors' side"
    )
    ap.add_argument(
        "--sirenkit-steps",
        type=int,
        default=None,
        help="--steps for 256x256 (default: sirenkit's), scaled at other sizes as the command does",
    )
    ap.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="FIELD=VALUE",
        help="change sirenkit's options (train.hold=0.5 min_gain=None) to measure a variant",
    )
    ap.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    ap.add_argument(
        "--eval-every", type=float, default=4.0, help="full images' worth of pixels between PSNRs"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads, for every side")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--write-docs", action="store_true", help="docs/speed.md and README tables")
    ap.add_argument(
        "--from-json", nargs="+", type=Path, default=None, help="tabulate earlier --json runs"
    )
    ap.add_argument(
        "--replace",
        action="store_true",
        help="--from-json: an image in a later file replaces an earlier one's (a rerun)",
    )
    ap.add_argument(
        "--step-costs",
        action="store_true",
        help="measure each side's step CPU cost and write the CPU hours of the runs not done "
        "(with --from-json: the authors' budget from its sirenkit times to 40 dB)",
    )
    ap.add_argument(
        "--variants",
        nargs="+",
        type=Path,
        default=None,
        help="tabulate sirenkit's side of earlier --json runs of variants (--set) by step",
    )
    ap.add_argument("--labels", nargs="+", default=None, help="names of the --variants runs")
    ap.add_argument(
        "--at-steps", nargs="+", type=int, default=[100, 200, 300], help="--variants' steps"
    )
    ap.add_argument(
        "--block",
        default=None,
        help="--write-docs: the generated block of docs/speed.md to write (default image-fit, "
        "with --variants image-precision; README's goal table only for image-fit)",
    )
    args = ap.parse_args()
    args.images = [n for x in args.images for n in (HELD_OUT if x == "held-out" else [x])]
    if args.variants:
        if args.labels and len(args.labels) != len(args.variants):
            raise SystemExit("--labels needs one name per --variants file")
        text = variant_table(args.variants, args.labels, tuple(args.at_steps))
        runs = "`; `".join(_run_line(json.loads(p.read_text())) for p in args.variants)
        command = (
            f"python -m benchmarks.image_fit --variants {' '.join(map(str, args.variants))}"
            + (" --labels " + " ".join(f"'{x}'" for x in args.labels) if args.labels else "")
            + f" --at-steps {' '.join(map(str, args.at_steps))}"
            + (f" --block {args.block}" if args.block else "")
            + f"`, tabulating the runs `{runs}"
        )
        print(text)
        if args.write_docs:
            write_doc_block(
                ROOT / "docs" / "speed.md", args.block or "image-precision", text, command
            )
        return
    if args.step_costs:
        torch.set_num_threads(args.threads)
        results = merged_sides(args.from_json or [])
        with keep_freed_memory():
            text = cost_report(step_costs(256), 256, results)
        print(text)
        if args.write_docs:
            files = " ".join(map(str, args.from_json or []))
            command = "python -m benchmarks.image_fit --step-costs" + (
                f" --from-json {files}" if files else ""
            )
            write_doc_block(ROOT / "docs" / "speed.md", "image-fit-costs", text, command)
        return
    if args.from_json:
        results, runs = {}, []
        for path in args.from_json:
            data = json.loads(path.read_text())
            for key, sides in data["results"].items():
                name, size = key.rsplit("@", 1)
                while (name, int(size)) in results and not args.replace:  # another run's
                    name += "'"
                results[(name, int(size))] = sides
            runs.append(_run_line(data))
            torch.set_num_threads(data["args"]["threads"])  # the caption names the runs' threads
        files = " ".join(str(p) for p in args.from_json)
        command = f"python -m benchmarks.image_fit --from-json {files}"
        command += " --replace" if args.replace else ""
        command += f" --block {args.block}" if args.block else ""
        command += "`, tabulating the runs `" + "`; `".join(runs)
        seconds = max(json.loads(p.read_text())["args"]["seconds"] for p in args.from_json)
        report(results, seconds, command, args.write_docs, args.block or "image-fit")
        return
    torch.set_num_threads(args.threads)
    command = (
        f"python -m benchmarks.image_fit --images {' '.join(args.images)} "
        f"--sizes {' '.join(map(str, args.sizes))} --seconds {args.seconds:g} "
        f"--sides {' '.join(args.sides)} --threads {args.threads}"
        + "".join(
            f" --{k.replace('_', '-')} {v:g}"
            for k, v in vars(args).items()
            if k in ("ref_seconds", "tuned_ratio", "authors_ratio") and v is not None
        )
        + (f" --sirenkit-steps {args.sirenkit_steps}" if args.sirenkit_steps else "")
        + (f" --set {' '.join(args.set)}" if args.set else "")
        + f" --eval-every {args.eval_every:g}"
    )
    ref_cap = args.ref_seconds or args.seconds
    caps = {"tuned": ref_cap, "authors": ref_cap}
    ratios = {
        k: v
        for k, v in (("tuned", args.tuned_ratio), ("authors", args.authors_ratio))
        if v is not None
    }
    print(f"machine: {machine()}; {load()}", flush=True)
    results: dict[tuple[str, int], dict[str, dict]] = {}
    loads = []
    with keep_freed_memory():  # for every side alike, as `sirenkit fit image` runs
        compare("camera", 16, 1.0, 1, 5, 5, tuple(args.sides))  # first-call costs, unbooked
        for size in args.sizes:
            for name in args.images:
                loads.append(load())
                res = compare(
                    name,
                    size,
                    args.seconds,
                    args.eval_every,
                    args.tuned_steps,
                    args.sirenkit_steps,
                    tuple(args.sides),
                    caps,
                    ratios,
                    tuple(args.set),
                )
                results[(name, size)] = res
                print(tables({(name, size): res}, args.seconds).split("\n\n")[0], flush=True)
                loads.append(load())
                print(loads[-1], flush=True)
                write_json(  # after every image, so that a long run that is stopped keeps some
                    args.json,
                    {
                        "machine": machine(),
                        "command": command,
                        "load": f"{loads[0]} at the start, {loads[-1]} at the end",
                        "args": {k: v for k, v in vars(args).items() if k not in ("json",)}
                        | {"from_json": None},
                        "results": {f"{k[0]}@{k[1]}": v for k, v in results.items()},
                    },
                )
    report(results, args.seconds, command, args.write_docs, args.block or "image-fit")


def report(
    results: dict[tuple[str, int], dict[str, dict]],
    seconds: float,
    command: str,
    docs: bool,
    block: str = "image-fit",
) -> None:
    """Print the tables; with ``docs``, write them into docs/speed.md's ``block`` (and, for
    the main benchmark's block, README's goal table)."""
    text = tables(results, seconds)
    print(text)
    if docs:
        write_doc_block(ROOT / "docs" / "speed.md", block, text, command)
        if block == "image-fit":
            write_doc_block(ROOT / "README.md", "image-fit", goal_table(results), command)


if __name__ == "__main__":
    main()
