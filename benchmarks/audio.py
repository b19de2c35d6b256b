"""Audio fitting on the paper's clips (Bach, counting): MSE and SNR after a fixed budget.

Each clip is fitted by every model named in --models (unknown names are skipped, so the
ReLU + positional-encoding baseline ``relu_pe`` joins once it is registered) for a fixed number
of steps on random sample batches; full-clip MSE (on [-1, 1], peak-normalised as the paper)
and SNR are evaluated every --eval-every steps off the clock, so the table gives the quality
at the step budget and at the last evaluation within the seconds budget. The paper's SIREN
reaches MSE 1.1e-5 (Bach) and 3.8e-4 (counting) after ~9k full-batch steps on a GPU.

    python -m benchmarks.audio [--steps 200] [--seconds 120] [--models siren,relu_pe]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from benchmarks.common import SHARED, machine, table, write_json
from sirenkit.nets.registry import list_models
from sirenkit.tasks.audio import FitAudioConfig
from sirenkit.training import run

CLIPS = {"bach": "gt_bach.wav", "counting": "gt_counting.wav"}
PAPER_MSE = {"bach": 1.1e-5, "counting": 3.8e-4}


def fit(path: Path, model: str, args: argparse.Namespace, out: Path) -> dict:
    """Fit one clip with one model; returns the table row."""
    cfg = FitAudioConfig(source=str(path), out=out)
    cfg.model.name = model
    cfg.model.hidden = args.hidden
    cfg.model.layers = args.layers
    cfg.train.steps = args.steps
    cfg.train.lr = args.lr
    cfg.train.batch_size = args.batch_size
    cfg.train.batch_growth_every = 0  # uniform random batches of one size, as measured
    cfg.batch_share, cfg.sampling = None, "uniform"  # (fit audio's recipe is newer)
    cfg.train.first_lr_w0 = None  # one rate for every layer and network, as measured
    cfg.train.eval_every = args.eval_every
    cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    result = run(cfg)
    lines = (result.run_dir / "metrics.jsonl").read_text().splitlines()
    evals = [r for r in map(json.loads, lines) if r.get("eval")]
    in_time = [r for r in evals if r["time"] <= args.seconds]
    timed = in_time[-1] if in_time else None
    clip = result.task.audio
    return {
        "model": model,
        "samples": clip.samples.shape[0],
        "rate": clip.rate,
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "steps": args.steps,
        "train s": result.train_time,
        "MSE": result.final["mse"],
        "SNR dB": result.final["snr"],
        f"MSE @{args.seconds:g}s": timed["mse"] if timed else None,
        f"step @{args.seconds:g}s": timed["step"] if timed else None,
        "curve": [{k: r[k] for k in ("step", "time", "mse", "snr")} for r in evals],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", default="bach,counting", help="comma list of: bach, counting")
    ap.add_argument("--models", default="siren", help="comma list (e.g. siren,relu_pe)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget for a 2nd column")
    ap.add_argument("--batch-size", type=int, default=4096, help="random samples per step")
    ap.add_argument("--lr", type=float, default=1e-4, help="peak Adam lr (paper: 1e-4)")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default torch's)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    known = list_models()
    models = []
    for name in args.models.split(","):
        if name in known:
            models.append(name)
        else:
            print(f"skipping model {name!r}: not registered (available: {', '.join(known)})")
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips.split(","):
            path = SHARED / "audio" / CLIPS[clip]
            if not path.is_file():
                print(f"skipping {clip}: {path} not found")
                continue
            for model in models:
                row = {"clip": clip, **fit(path, model, args, Path(tmp))}
                row["paper SIREN MSE"] = PAPER_MSE[clip]
                rows.append(row)
                mse, snr = row["MSE"], row["SNR dB"]
                print(f"{clip} / {model}: MSE {mse:.3g}, SNR {snr:.2f} dB", flush=True)
    cols = [
        "clip",
        "model",
        "samples",
        "parameters",
        "steps",
        "train s",
        "MSE",
        "SNR dB",
        f"MSE @{args.seconds:g}s",
        f"step @{args.seconds:g}s",
        "paper SIREN MSE",
    ]
    print(
        f"settings: {args.hidden}-wide, {args.layers} layers, {args.steps} steps of "
        f"{args.batch_size} random samples, Adam lr {args.lr} (cosine), evaluation every "
        f"{args.eval_every} steps"
    )
    print(table(rows, cols))
    settings = {k: v for k, v in vars(args).items() if k != "json"}
    write_json(args.json, {"machine": machine(), "settings": settings, "rows": rows})


if __name__ == "__main__":
    main()
