"""What `fit image`'s optimiser step costs beside the network's own step, per orthogonalisation.

The default recipe steps the hidden matrices with Muon, whose Newton-Schulz orthogonalisation
torch runs in bfloat16 always. On a CPU without bfloat16 instructions those products are
emulated (session 19's AVX2 EPYC: about 0.02x float32's speed), so the loop has Muon
orthogonalise in float32 there (:class:`sirenkit.training.optim.Muon`). This measures, in
one process, interleaved round by round (median CPU seconds, one thread): the forward and
backward pass of the 5x256 SIREN on a batch of the recipe's first size, and the optimiser
step (:class:`~sirenkit.training.optim.MuonAdam`) orthogonalising in bfloat16 and in float32,
with the bfloat16 speedup the loop measures to choose.

    python -m benchmarks.optimiser_step [--points 16384] [--rounds 5] [--write-docs]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from benchmarks.common import table, write_doc_block
from sirenkit.nets.registry import TaskShape, model_from_config
from sirenkit.tasks.image import FitImageConfig
from sirenkit.training.optim import MuonAdam
from sirenkit.training.precision import MIN_SPEEDUP, bfloat16_speedup

ROOT = Path(__file__).resolve().parents[1]


def measure(points: int, rounds: int) -> dict[str, float]:
    """Median CPU seconds of each part of a step, interleaved over ``rounds`` rounds (after
    one round that pays first-call costs)."""
    shape = TaskShape(2, 3, (256, 256), 30.0)
    sides = {}
    for name, dtype in (("bfloat16", torch.bfloat16), ("float32", torch.float32)):
        torch.manual_seed(0)
        model = model_from_config(FitImageConfig().model, shape)
        sides[name] = (model, MuonAdam(model.parameters(), 1e-3, (0.9, 0.999), ns_dtype=dtype))
    x = torch.rand(points, 2) * 2 - 1
    y = torch.rand(points, 3) * 2 - 1
    times: dict[str, list[float]] = {}
    for r in range(rounds + 1):
        for name, (model, opt) in sides.items():
            t0 = time.process_time()
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            t1 = time.process_time()
            opt.step()
            t2 = time.process_time()
            if r:
                times.setdefault("forward and backward", []).append(t1 - t0)
                times.setdefault(f"optimiser step, orthogonalised in {name}", []).append(t2 - t1)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=16384)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--write-docs", action="store_true", help="docs/speed.md's optimiser-step")
    args = ap.parse_args()
    torch.set_num_threads(1)
    costs = measure(args.points, args.rounds)
    speedup = bfloat16_speedup(torch.device("cpu"))
    rows = [{"part of a step": k, "CPU s": round(v, 4)} for k, v in costs.items()]
    text = (
        table(rows, ["part of a step", "CPU s"])
        + f"\n\nbfloat16 products {speedup:.2f}x as fast as float32 ones (the loop's probe): "
        + (
            "bfloat16 pays here."
            if speedup >= MIN_SPEEDUP
            else "Muon orthogonalises in float32 here."
        )
    )
    print(text)
    if args.write_docs:
        command = (
            f"python -m benchmarks.optimiser_step --points {args.points} --rounds {args.rounds}"
        )
        write_doc_block(ROOT / "docs" / "speed.md", "optimiser-step", text, command)


if __name__ == "__main__":
    main()
