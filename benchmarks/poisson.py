"""Poisson reconstruction: images from their gradient or Laplacian alone (paper, Table/Fig. 3).

For each model (SIREN, and the tanh and ReLU-with-positional-encoding baselines when the model
registry has them; unknown names are skipped), each built-in image (gray) and each supervision,
fits a network with ``sirenkit fit poisson``'s task and reports the raw PSNR, the PSNR after
removing what the supervision cannot see (the mean offset for the gradient, the discrete
harmonic function with the residual's border values for the Laplacian), and the relative
error of the fitted derivative, next to the paper's starfish figures.

    python -m benchmarks.poisson [--size 64] [--hidden 64] [--steps 200] [--json out.json]

The paper fits 256x256 images for 10,000 steps; the defaults here are sized for a shared CPU.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import machine, table, write_json
from sirenkit.nets.registry import list_models
from sirenkit.tasks.poisson import FitPoissonConfig
from sirenkit.training import run

# Starfish, 256x256, PSNR in dB (Sitzmann et al. 2020, Section 4.1 / Figure 3).
PAPER = {
    ("gradient", "tanh"): 25.79,
    ("gradient", "relu_pe"): 26.35,
    ("gradient", "siren"): 32.91,
    ("laplacian", "tanh"): 7.11,
    ("laplacian", "relu_pe"): 11.14,
    ("laplacian", "siren"): 14.95,
}
RECOVERED = {"gradient": "psnr_offset", "laplacian": "psnr_harmonic"}


def fit_one(image: str, supervise: str, model: str, args: argparse.Namespace, out: Path) -> dict:
    """Fit one network and return its table row."""
    cfg = FitPoissonConfig(source=image, supervise=supervise, size=args.size, gray=True, out=out)
    cfg.model.name, cfg.model.hidden, cfg.model.layers = model, args.hidden, args.layers
    t = cfg.train  # the command's optimiser (Adam, its lr and schedule) unless a flag is given
    t.steps, t.lr = args.steps, args.lr or t.lr
    t.eval_every, t.checkpoint_every, t.progress, t.device = 0, 0, False, args.device
    c0 = time.process_time()
    result = run(cfg)
    cpu = time.process_time() - c0
    f = result.final
    return {
        "image": image,
        "supervision": supervise,
        "model": model,
        "s/step": result.train_time / args.steps,
        "CPU s": cpu,
        "PSNR raw": f["psnr"],
        "PSNR recovered": f[RECOVERED[supervise]],
        "PSNR affine": f.get("psnr_affine"),
        "field rel. err.": f["rel_err"],
        "paper (starfish)": PAPER.get((supervise, model)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default="camera,astronaut,coffee")
    ap.add_argument("--models", default="siren,tanh,relu_pe")
    ap.add_argument("--supervise", default="gradient,laplacian")
    ap.add_argument("--size", type=int, default=64, help="image side in pixels (paper: 256)")
    ap.add_argument("--hidden", type=int, default=64, help="width (paper: 256)")
    ap.add_argument("--layers", type=int, default=5, help="linear layers (paper: 5)")
    ap.add_argument("--steps", type=int, default=200, help="Adam steps (paper: 10,000)")
    ap.add_argument("--lr", type=float, default=None, help="default: the command's (paper: 1e-4)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    known = list_models()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in known:
            print(f"skipping model {m!r}: not in the registry ({', '.join(known)})")
    models = [m for m in models if m in known]
    print(f"machine: {machine()}")
    print(
        f"settings: {args.size}x{args.size} gray, {args.layers} layers x {args.hidden}, "
        f"{args.steps} steps, Adam lr {args.lr or FitPoissonConfig().train.lr} "
        f"{FitPoissonConfig().train.schedule}, full batch"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for supervise in args.supervise.split(","):
            for image in args.images.split(","):
                for model in models:
                    rows.append(fit_one(image, supervise, model, args, Path(tmp)))
                    print(table(rows[-1:], list(rows[-1])), flush=True)
    print()
    print(table(rows, list(rows[0])))
    write_json(
        args.json, {"machine": machine(), "settings": vars(args) | {"json": None}, "rows": rows}
    )


if __name__ == "__main__":
    main()
