"""Learned initialisations (``train init``: MAML with Meta-SGD) against the paper's random init.

For each dataset (Fashion-MNIST, scikit-image's lfw faces; 32x32, split by image with the
command's fixed split), ``train init`` meta-learns an initialisation and per-weight step sizes
on the training images; then held-out images are fitted from it as ``fit images --init RUN
--steps 500`` does (its learned-rate steps, scaled by the default cosine decay), and from
random inits (the paper's, one
per image) with two Adam recipes: sirenkit's (Adam 1e-3 with a cosine decay over 500 steps,
``fit images``' default) and the authors' (Adam 1e-4, constant, their Colab). The table gives
the steps (and CPU seconds) the learned init needs to reach the PSNR each random-init recipe has
after 500 steps, and PSNRs after 10 and 20 steps. A second table follows the held-out PSNR after
5, 10 and 20 steps along meta-training (how it scales with meta-steps). PSNR is the mean over the
held-out images, from the full-batch loss before each step. CPU seconds: one thread; per image
for fits; the meta-training's excludes the held-out probes.

    python -m benchmarks.init [--meta-steps 500] [--test-images 16] [--write-docs]
    python -m benchmarks.init --ablation-steps 200 [--write-docs]   # three algorithms
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
from sirenkit.nets.learned_init import batched_name
from sirenkit.nets.registry import TaskShape, model_from_config
from sirenkit.signals.datasets import load_dataset, split
from sirenkit.signals.grid import grid
from sirenkit.tasks.init import TrainInitConfig, adapt
from sirenkit.training import run
from sirenkit.training.config import TrainConfig
from sirenkit.training.init import apply_init
from sirenkit.training.schedule import learning_rate

DOC = Path(__file__).resolve().parents[1] / "docs" / "many.md"
HORIZON = 500
GOAL_STEPS = 20
RECIPES = {
    "sirenkit (Adam 1e-3, cosine)": TrainConfig(steps=HORIZON, lr=1e-3, schedule="cosine"),
    "authors (Adam 1e-4, constant)": TrainConfig(steps=HORIZON, lr=1e-4, schedule="constant"),
}
PROBE_STEPS = (5, 10, 20)


def first_reaching(curve: torch.Tensor, goal: float) -> int | None:
    hit = (curve >= goal).nonzero()
    return int(hit[0]) if len(hit) else None


def _steps(curve: torch.Tensor, goal: float) -> str:
    hit = first_reaching(curve, goal)
    return f"> {len(curve) - 1}" if hit is None else str(hit)


def _curve(start, coords, targets, steps, lr, rates=None) -> tuple[torch.Tensor, float]:
    """Mean PSNR before each step and after the last, and CPU seconds per image-step."""
    t0 = time.process_time()
    _, history = adapt(start, coords, targets, steps, lr, True, rates)
    return torch.stack(history).mean(1), (time.process_time() - t0) / targets.shape[0] / steps


def bench(dataset: str, args, tmp: Path) -> tuple[list[dict], list[dict]]:
    cfg = TrainInitConfig(dataset=dataset, limit=args.limit, out=tmp, name=dataset)
    cfg.train.steps = args.meta_steps
    cfg.train.eval_every = cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    data = load_dataset(dataset, cfg.size, args.limit)
    _, test = split(data, cfg.test_fraction, cfg.split_seed)
    n = min(args.test_images, len(test))
    targets = test.values(slice(0, n)).reshape(n, -1, test.channels)
    coords = grid(test.shape)
    scaling, probe_s = [], 0.0
    marks = {s for s in args.probe_at if s < args.meta_steps} | {args.meta_steps}

    def probe(step: int, model) -> None:
        nonlocal probe_s
        if step not in marks:
            return
        t0 = time.process_time()
        _, errors = model.fit(coords, targets, max(PROBE_STEPS))
        psnr = [float((10 * torch.log10(4.0 / errors[k])).mean()) for k in PROBE_STEPS]
        scaling.append({"dataset": dataset, "meta-steps": step, "meta CPU s": None})
        scaling[-1].update(
            {f"held-out PSNR @{k}": p for k, p in zip(PROBE_STEPS, psnr, strict=True)}
        )
        probe_s += time.process_time() - t0
        scaling[-1]["meta CPU s"] = time.process_time() - start - probe_s

    start = time.process_time()
    learned = run(cfg, callbacks=[probe])
    meta_s = time.process_time() - start - probe_s
    siren_kwargs = learned.model.siren.sirenkit_spec["kwargs"]
    torch.manual_seed(1)  # the paper's init, a fresh draw for every image
    fresh = BatchedSiren(n, **siren_kwargs)
    nets = BatchedSiren(n, **siren_kwargs)
    rates = apply_init(nets, learned.run_dir, "images")  # exactly what `fit images --init` does
    default = RECIPES["sirenkit (Adam 1e-3, cosine)"]  # fit images' flags: its schedule
    factor = lambda s: learning_rate(default, s) / default.lr  # noqa: E731 scales the rates
    mine, mine_s = _curve(nets, coords, targets, HORIZON, factor, rates)
    rows = []
    for name, recipe in RECIPES.items():
        ref, _ = _curve(fresh, coords, targets, HORIZON, lambda s, r=recipe: learning_rate(r, s))
        goal = float(ref[HORIZON])
        steps = first_reaching(mine, goal)
        rows.append(
            {
                "dataset": f"{dataset} ({len(learned.task.train_set)} train / {n} test)",
                "random init: recipe": name,
                "random init PSNR @500": goal,
                "learned init: steps to it": steps if steps is not None else f"> {HORIZON}",
                "CPU s per image to it": None if steps is None else steps * mine_s,
                "random @10 / learned @10": f"{float(ref[10]):.1f} / {float(mine[10]):.1f}",
                "random @20 / learned @20": f"{float(ref[20]):.1f} / {float(mine[20]):.1f}",
                "learned @100 / @500": f"{float(mine[100]):.1f} / {float(mine[500]):.1f}",
                "steps to 30 / 40 dB, random": f"{_steps(ref, 30)} / {_steps(ref, 40)}",
                "steps to 30 / 40 dB, learned": f"{_steps(mine, 30)} / {_steps(mine, 40)}",
                "meta-training CPU s": meta_s,
            }
        )
        print(rows[-1], "|", load(), flush=True)
    return rows, scaling


ABLATION = {
    "Meta-SGD, second order (train init)": (True, True),
    "MAML, fixed step 0.01, second order": (False, True),
    "first-order MAML, fixed step 0.01": (False, False),
}
"""Variant -> (learn the rates, differentiate through the inner steps)."""


def ablation(args) -> list[dict]:
    """The command's algorithm next to two simpler ones, on Fashion-MNIST, in one loop: the
    same init, meta-batches, outer Adam (constant 1e-3) and held-out evaluation."""
    cfg = TrainInitConfig(dataset="fashion-mnist", limit=args.limit)
    train, test = split(load_dataset(cfg.dataset, cfg.size, args.limit), 0.1, 0)
    n = min(args.test_images, len(test))
    targets = test.values(slice(0, n)).reshape(n, -1, test.channels)
    coords = grid(train.shape)
    rows = []
    for name, (learn_rates, second_order) in ABLATION.items():
        torch.manual_seed(0)
        init = model_from_config(cfg.model, TaskShape(2, 1, family="init"))
        params = [*init.siren.parameters(), *(init.rates.parameters() if learn_rates else [])]
        opt = torch.optim.Adam(params, lr=1e-3)
        gen = torch.Generator().manual_seed(0)
        t0 = time.process_time()
        for _ in range(args.ablation_steps):
            index = torch.randperm(len(train), generator=gen)[: cfg.train.batch_size]
            batch = train.values(index).reshape(len(index), -1, train.channels)
            opt.zero_grad(set_to_none=True)
            if second_order:
                _, errors = init.fit(coords, batch, create_graph=True)
                errors[-1].log().mean().backward()
            else:  # the gradient at the fitted weights, averaged, is the init's
                nets, _ = init.fit(coords, batch)
                ((nets(coords) - batch) ** 2).mean(dim=(1, 2)).log().mean().backward()
                for k, p in init.siren.named_parameters():
                    p.grad = nets.get_parameter(batched_name(k)).grad.mean(0)
            opt.step()
        seconds = (time.process_time() - t0) / args.ablation_steps
        _, errors = init.fit(coords, targets, max(PROBE_STEPS))
        sizes = init.step_sizes()
        mean_rates = " / ".join(
            f"{float(sizes[k].detach().mean()):.2g}" for k in sizes if "weight" in k
        )
        rows.append({"algorithm": name, "CPU s per outer step": seconds})
        rows[-1]["mean step size, weights of layer 1 / ... / 5"] = mean_rates
        for k in PROBE_STEPS:
            rows[-1][f"held-out PSNR @{k}"] = float((10 * torch.log10(4.0 / errors[k])).mean())
        print(rows[-1], "|", load(), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["fashion-mnist", "faces"])
    ap.add_argument("--meta-steps", type=int, default=500)
    ap.add_argument("--probe-at", type=int, nargs="*", default=[25, 50, 100, 200, 300, 400])
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--test-images", type=int, default=16)
    ap.add_argument("--ablation-steps", type=int, default=0, help="run only the ablation")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(machine(), "|", load(), flush=True)
    if args.ablation_steps:
        rows = ablation(args)
        body = "\n\n".join(
            [
                f"Fashion-MNIST 32x32 (first {args.limit} images, by-image split), 5x64 SIREN, "
                f"{args.ablation_steps} outer steps (meta-batch 8, Adam 1e-3 constant, 5 inner "
                f"steps) from the same init; {args.test_images} held-out images fitted with "
                "each variant's inner steps (its learned or fixed rates), PSNR after 5, 10, 20.",
                table(rows, list(rows[0])),
            ]
        )
        print(body)
        if args.write_docs:
            cmd = "python -m benchmarks.init " + " ".join(
                a for a in sys.argv[1:] if a != "--write-docs"
            )
            write_doc_block(DOC, "init-ablation", body, cmd)
        return
    rows, scaling = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            r, s = bench(dataset, args, Path(tmp))
            rows += r
            scaling += s
    defaults = TrainInitConfig()
    body = "\n\n".join(
        [
            f"`train init` defaults (5x64 SIREN, MAML with Meta-SGD: "
            f"{defaults.model.inner_steps} inner steps with per-weight step sizes starting at "
            f"{defaults.model.inner_lr:g}, second-order, meta-batch {defaults.train.batch_size}, "
            f"outer Adam {defaults.train.lr:g} with a cosine decay), {args.meta_steps} outer "
            f"steps on the first {args.limit} images; {args.test_images} held-out images fitted "
            "with the learned steps as `fit images --init RUN --steps 500` does (the default "
            "cosine schedule scales them); goal: each "
            f"random-init recipe's PSNR after {HORIZON} steps within {GOAL_STEPS} steps.",
            table(rows, list(rows[0])),
            "Held-out PSNR after 5, 10 and 20 learned steps along meta-training (same run):",
            table(scaling, list(scaling[0])),
        ]
    )
    print(body)
    write_json(args.json, {"rows": rows, "scaling": scaling, "load": load()})
    if args.write_docs:
        cmd = "python -m benchmarks.init " + " ".join(
            a for a in sys.argv[1:] if a != "--write-docs"
        )
        write_doc_block(DOC, "init", body, cmd)


if __name__ == "__main__":
    main()
