"""Image completion from few pixels: set encoder vs conv encoder (hypernetwork over SIRENs) vs
the conditional neural process, test MSE next to the paper's CelebA 32x32 figures.

Each model is trained with `sirenkit train prior`'s task on the same data and split, for the
same number of steps, then scored on the same test images and context masks (values in
[-1, 1], MSE over all pixels). The paper trains on CelebA for far longer; its figures are
printed for orientation only.

    python -m benchmarks.priors [--dataset fashion-mnist] [--steps 6000] [--json out.json]

Runs on one torch thread by default (``--threads``): these models are small, and on a shared
CPU extra intra-op threads mostly wait on each other (2 threads were 4x slower per step than 1
under contention here).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from benchmarks.common import machine, table, write_json
from sirenkit.tasks.prior import TrainPriorConfig
from sirenkit.training import TrainConfig, run

PAPER = {  # Sitzmann et al. 2020, Table: CelebA 32x32, MSE for 10 / 100 / 1000 pixels
    "cnp": (0.039, 0.016, 0.009),
    "set encoder": (0.035, 0.013, 0.009),
    "conv encoder": (0.033, 0.009, 0.008),
}
CONTEXTS = ("10", "100", "1000", "top")


def train_and_score(args: argparse.Namespace, model: str, encoder: str, out: Path) -> dict:
    cfg = TrainPriorConfig(
        dataset=args.dataset,
        limit=args.limit,
        eval_images=args.test_images,
        eval_contexts=CONTEXTS,
        context_min=args.context_min,
        context_max=args.context_max,
        context_sampling=args.context_sampling,
        top_fraction=args.top_fraction,
        target_pixels=args.target_pixels,
        param_weight=args.param_weight,
        out=out,
    )
    cfg.model.name = model
    cfg.model.encoder = encoder
    cfg.model.hidden = args.siren_hidden if model == "siren-prior" else args.cnp_hidden
    cfg.model.layers = 3 if model == "siren-prior" else 5
    cfg.model.latent = args.latent
    cfg.model.encoder_hidden = args.encoder_hidden
    cfg.model.hyper_hidden = args.hyper_hidden
    cfg.train = TrainConfig(
        steps=args.steps,
        lr=args.lr,
        schedule="cosine",
        final_lr_factor=0.1,
        batch_size=args.batch_size,
        log_every=25,
        eval_every=0,
        checkpoint_every=0,
        progress=False,
        seed=args.seed,
    )
    result = run(cfg)
    n_params = sum(p.numel() for p in result.model.parameters())
    row = {
        "model": "cnp" if model == "cnp" else f"{encoder} encoder",
        "params": n_params,
        "train s": result.train_time,
    }
    for c in CONTEXTS:
        row[f"MSE {c}"] = result.final[f"mse_{c}"]
    paper = PAPER[row["model"]]
    row["paper 10/100/1000"] = " / ".join(f"{v:.3f}" for v in paper)
    return row


def mean_image_row(args: argparse.Namespace) -> dict:
    """Context-blind reference: predict the training set's per-pixel mean for every image."""
    cfg = TrainPriorConfig(dataset=args.dataset, limit=args.limit)
    task = cfg.setup()
    mean = task.train_set.values(slice(None)).mean(0)
    n = min(args.test_images, len(task.test_set))
    mse = float(((task.test_set.values(slice(0, n)) - mean) ** 2).mean())
    return {"model": "train mean image", "params": 0, **{f"MSE {c}": mse for c in CONTEXTS}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="fashion-mnist", help="fashion-mnist, faces, a folder")
    ap.add_argument("--limit", type=int, default=None, help="images of the dataset to use")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    ap.add_argument("--context-min", type=int, default=10)
    ap.add_argument("--context-max", type=int, default=1024, help="capped at the image size")
    ap.add_argument("--context-sampling", default="log", choices=["uniform", "log"])
    ap.add_argument("--top-fraction", type=float, default=0.1, help="top-half training masks")
    ap.add_argument("--target-pixels", type=int, default=256, help="loss pixels per image")
    ap.add_argument("--param-weight", type=float, default=1.0, help="the paper: 100")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--siren-hidden", type=int, default=64, help="emitted SIREN width (3 layers)")
    ap.add_argument("--hyper-hidden", type=int, default=64)
    ap.add_argument("--cnp-hidden", type=int, default=128, help="CNP decoder width (5 layers)")
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--encoder-hidden", type=int, default=64)
    ap.add_argument("--test-images", type=int, default=500)
    ap.add_argument("--models", default="set,conv,cnp")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="keep the run folders here")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    print(f"settings: {vars(args)}")
    rows = [mean_image_row(args)]
    with tempfile.TemporaryDirectory() as tmp:
        for which in args.models.split(","):
            model, encoder = ("cnp", "set") if which == "cnp" else ("siren-prior", which)
            rows.append(train_and_score(args, model, encoder, args.out or Path(tmp)))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    cols = ["model", "params", "train s", *[f"MSE {c}" for c in CONTEXTS], "paper 10/100/1000"]
    print(f"\ntest MSE ({args.dataset}, {args.test_images} test images, {args.steps} steps)")
    print(table(rows, cols))
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    write_json(args.json, {"machine": machine(), "settings": settings, "rows": rows})


if __name__ == "__main__":
    main()
