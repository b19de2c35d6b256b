"""What running a CPU batch in row blocks saves (:func:`sirenkit.nets.siren.block_rows`).

A :class:`~sirenkit.Siren` takes a large CPU batch through all its layers a block of rows at a
time, so that each block's activations stay in cache from one layer's matrix product to the
next and from the forward pass to the backward one. This measures the 5x256 image network
(3 outputs) in one process, the two ways interleaved round by round (median CPU and wall
seconds): a training pass (forward and backward) on the recipe's first batch (16384 points)
and on a full 256x256 image, and an inference over the full image, on one and two threads.
The last column is a lower bound: the pass's matrix-product FLOPs at the best rate measured
for a cache-resident 1024-row product on the same threads.

    python -m benchmarks.row_blocks [--rounds 9] [--threads 1 2] [--write-docs]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import sirenkit.nets.siren as siren_module
from benchmarks.common import table, write_doc_block
from sirenkit.nets.registry import TaskShape, model_from_config
from sirenkit.tasks.image import FitImageConfig

ROOT = Path(__file__).resolve().parents[1]
WHOLE = 1 << 40
"""Rows per thread that no batch reaches: the whole batch in one pass."""


def gemm_flops(model: nn.Module, points: int, backward: bool) -> float:
    """Matrix-product FLOPs of one pass over ``points`` points: the forward products, and for a
    training pass each layer's weight gradient and every input gradient but the first
    layer's (the coordinates need none)."""
    weights = [p for p in model.parameters() if p.dim() == 2]
    per_point = [2 * w.numel() for w in weights]
    flops = sum(per_point)
    if backward:
        flops += sum(per_point) + sum(per_point[1:])
    return float(flops * points)


def peak_rate(rows: int, width: int = 256, rounds: int = 30) -> float:
    """Best FLOP/s of a cache-resident ``rows x width`` by ``width x width`` product."""
    a, w = torch.rand(rows, width), torch.rand(width, width)
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        a @ w
        best = min(best, time.perf_counter() - t)
    return 2 * rows * width * width / best


def _pass(model: nn.Module, x: torch.Tensor, y: torch.Tensor, train: bool) -> Callable[[], None]:
    def run() -> None:
        if train:
            model.zero_grad(set_to_none=True)
            ((model(x) - y) ** 2).mean().backward()
        else:
            with torch.no_grad():
                model(x)

    return run


def measure(threads: int, cases: list[tuple[str, int, bool]], rounds: int) -> list[dict]:
    """Median CPU and wall seconds of each case, whole and in blocks, interleaved."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = model_from_config(FitImageConfig().model, TaskShape(2, 3, (256, 256), 30.0))
    rate = peak_rate(siren_module.BLOCK_ROWS_PER_THREAD * threads)
    rows = []
    default = siren_module.BLOCK_ROWS_PER_THREAD
    for name, points, train in cases:
        x = torch.rand(points, 2) * 2 - 1
        y = torch.rand(points, 3) * 2 - 1
        run = _pass(model, x, y, train)
        times: dict[str, list[tuple[float, float]]] = {"whole": [], "blocks": []}
        try:
            for r in range(rounds + 1):
                for side, per_thread in (("whole", WHOLE), ("blocks", default)):
                    siren_module.BLOCK_ROWS_PER_THREAD = per_thread
                    c, w = time.process_time(), time.perf_counter()
                    run()
                    if r:
                        times[side].append((time.process_time() - c, time.perf_counter() - w))
        finally:
            siren_module.BLOCK_ROWS_PER_THREAD = default
        cpu = {s: statistics.median(t[0] for t in v) for s, v in times.items()}
        wall = {s: statistics.median(t[1] for t in v) for s, v in times.items()}
        rows.append(
            {
                "threads": threads,
                "pass": name,
                "points": f"{points:,}",
                "whole CPU s": round(cpu["whole"], 3),
                "blocks CPU s": round(cpu["blocks"], 3),
                "CPU ratio": f"{cpu['whole'] / cpu['blocks']:.2f}x",
                "wall ratio": f"{wall['whole'] / wall['blocks']:.2f}x",
                "product bound, wall s": round(gemm_flops(model, points, train) / rate, 3),
            }
        )
    return rows


CASES = [
    ("training", 16384, True),
    ("training", 65536, True),
    ("inference", 65536, False),
]
COLUMNS = [
    "threads",
    "pass",
    "points",
    "whole CPU s",
    "blocks CPU s",
    "CPU ratio",
    "wall ratio",
    "product bound, wall s",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--write-docs", action="store_true", help="docs/speed.md's row-blocks")
    args = ap.parse_args()
    rows = [r for t in args.threads for r in measure(t, CASES, args.rounds)]
    text = table(rows, COLUMNS) + (
        f"\n\n{siren_module.BLOCK_ROWS_PER_THREAD} rows per thread per block; the bound is the "
        "pass's matrix-product FLOPs at the best rate of a cache-resident product."
    )
    print(text)
    if args.write_docs:
        threads = " ".join(map(str, args.threads))
        command = f"python -m benchmarks.row_blocks --rounds {args.rounds} --threads {threads}"
        write_doc_block(ROOT / "docs" / "speed.md", "row-blocks", text, command)


if __name__ == "__main__":
    main()
