"""Learned initialisations (``train init``, Reptile) against the paper's random initialisation.

For each dataset (Fashion-MNIST, scikit-image's lfw faces; 32x32, split by image with the
command's fixed split), ``train init`` meta-learns an initialisation on the training images;
then held-out images are fitted from it and from random inits (the paper's, one per image)
with the same recipe, and the table gives the steps (and CPU seconds) the learned init needs to
reach the PSNR the random init has after 500 steps, plus PSNR after 10 and 20 steps. Two
fitting recipes: sirenkit's (Adam 1e-3 with a cosine decay over 500 steps, ``fit images``) and
the authors' (Adam 1e-4, constant, their Colab). PSNR is the mean over the held-out images,
from the full-batch loss before each step. CPU seconds are per image, one thread.

    python -m benchmarks.init [--meta-steps 300] [--test-images 16] [--write-docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import load, machine, table, write_doc_block, write_json
from sirenkit.nets.batched import BatchedSiren
from sirenkit.signals.datasets import load_dataset, split
from sirenkit.signals.grid import grid
from sirenkit.tasks.init import TrainInitConfig, adapt
from sirenkit.training import run
from sirenkit.training.config import TrainConfig
from sirenkit.training.schedule import learning_rate

DOC = Path(__file__).resolve().parents[1] / "docs" / "many.md"
HORIZON = 500
RECIPES = {
    "sirenkit (Adam 1e-3, cosine)": TrainConfig(steps=HORIZON, lr=1e-3, schedule="cosine"),
    "authors (Adam 1e-4, constant)": TrainConfig(steps=HORIZON, lr=1e-4, schedule="constant"),
}


def curves(start, coords, targets, cfg: TrainConfig) -> tuple[torch.Tensor, float]:
    """Mean PSNR over the images before each step and after the last (``steps + 1``), and the
    CPU seconds per image."""
    t0 = time.process_time()
    _, history = adapt(start, coords, targets, cfg.steps, lambda s: learning_rate(cfg, s), True)
    seconds = (time.process_time() - t0) / targets.shape[0]
    return torch.stack(history).mean(1), seconds


def first_reaching(curve: torch.Tensor, goal: float) -> int | None:
    hit = (curve >= goal).nonzero()
    return int(hit[0]) if len(hit) else None


def _steps(curve: torch.Tensor, goal: float) -> str:
    hit = first_reaching(curve, goal)
    return "> 500" if hit is None else str(hit)


def bench(dataset: str, args, tmp: Path) -> list[dict]:
    cfg = TrainInitConfig(dataset=dataset, limit=args.limit, out=tmp, name=dataset)
    cfg.train.steps = args.meta_steps
    cfg.train.eval_every = 0
    cfg.train.progress = False
    t0 = time.process_time()
    learned = run(cfg)
    meta_s = time.process_time() - t0
    data = load_dataset(dataset, cfg.size, args.limit)
    _, test = split(data, cfg.test_fraction, cfg.split_seed)
    n = min(args.test_images, len(test))
    targets = test.values(slice(0, n)).reshape(n, -1, test.channels)
    coords = grid(test.shape)
    rows = []
    for name, recipe in RECIPES.items():
        torch.manual_seed(1)  # the paper's init, a fresh draw for every image
        fresh = BatchedSiren(n, **learned.model.sirenkit_spec["kwargs"])
        ref, _ = curves(fresh, coords, targets, recipe)
        mine, mine_s = curves(learned.model, coords, targets, recipe)
        goal = float(ref[HORIZON])
        steps = first_reaching(mine, goal)
        per_step = mine_s / recipe.steps
        rows.append(
            {
                "dataset": f"{dataset} ({len(learned.task.train_set)} train / {n} test)",
                "recipe": name,
                "random init PSNR @500": goal,
                "learned init: steps to it": steps if steps is not None else "> 500",
                "CPU s to it": None if steps is None else steps * per_step,
                "random @10 / learned @10": f"{float(ref[10]):.1f} / {float(mine[10]):.1f}",
                "random @20 / learned @20": f"{float(ref[20]):.1f} / {float(mine[20]):.1f}",
                "steps to 30 / 40 dB, random": f"{_steps(ref, 30)} / {_steps(ref, 40)}",
                "steps to 30 / 40 dB, learned": f"{_steps(mine, 30)} / {_steps(mine, 40)}",
                "meta-training CPU s": meta_s,
            }
        )
        print(rows[-1], "|", load(), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["fashion-mnist", "faces"])
    ap.add_argument("--meta-steps", type=int, default=300)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--test-images", type=int, default=16)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(machine(), "|", load(), flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            rows += bench(dataset, args, Path(tmp))
    cols = list(rows[0])
    body = "\n\n".join(
        [
            f"`train init` defaults (5x64 SIREN, Reptile, meta-batch 8, 10 inner Adam steps at "
            f"1e-3, outer Adam 1e-3), {args.meta_steps} outer steps on the first {args.limit} "
            f"images; {args.test_images} held-out images; goal: the random init's PSNR after "
            "500 steps within 20 steps.",
            table(rows, cols),
        ]
    )
    print(body)
    write_json(args.json, {"rows": rows, "load": load()})
    if args.write_docs:
        cmd = "python -m benchmarks.init " + " ".join(
            a for a in sys.argv[1:] if a != "--write-docs"
        )
        write_doc_block(DOC, "init", body, cmd)


if __name__ == "__main__":
    main()
