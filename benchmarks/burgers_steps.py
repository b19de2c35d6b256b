"""What one Burgers training step costs with each derivative engine, interleaved in one process.

The network and points of the Burgers recipe (``benchmarks.burgers_tries``'s flags, default
tanh 3x40, odd in x, points on x >= 0): CPU seconds (one thread, ``time.process_time``) per Adam
step (loss, backward, ``Adam.step``) and per L-BFGS iteration (strong-Wolfe line search, as the
training loop runs it; its evaluations counted), in float32 and float64. The engines alternate
step by step from identical weights, so a change in the machine's load hits both alike.

    python -m benchmarks.burgers_steps [--steps 40] [--iterations 40] [burgers_tries flags]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

from benchmarks.burgers_tries import build
from benchmarks.common import load
from sirenkit.problems import field

ENGINES = ("autograd", "closed_form")


PLAIN = field.value_and_derivatives


def _engine(name: str):
    """``value_and_derivatives`` forced to one engine (the problem's only call to it)."""

    def forced(*a, **k):
        return PLAIN(*a, **(k | {"engine": name}))

    return forced


def measure(args: argparse.Namespace, dtype: torch.dtype) -> dict:
    torch.manual_seed(args.seed)
    problem, net = build(args)
    net = net.to(dtype)
    batch = problem.sample(torch.Generator().manual_seed(args.seed))
    batch.points = [x.to(dtype) for x in batch.points]
    nets = {e: copy.deepcopy(net) for e in ENGINES}
    adams = {e: torch.optim.Adam(nets[e].parameters(), lr=1e-3) for e in ENGINES}
    lbfgs = {
        e: torch.optim.LBFGS(
            nets[e].parameters(), lr=1.0, max_iter=1, max_eval=26, line_search_fn="strong_wolfe"
        )
        for e in ENGINES
    }
    evals = dict.fromkeys(ENGINES, 0)
    inside = dict.fromkeys(ENGINES, 0.0)
    adam_s: dict[str, list[float]] = {e: [] for e in ENGINES}
    lbfgs_s: dict[str, list[float]] = {e: [] for e in ENGINES}

    def closure(e: str):
        def run():
            c0 = time.process_time()
            evals[e] += 1
            lbfgs[e].zero_grad(set_to_none=True)
            loss, _ = problem.loss(nets[e], batch)
            loss.backward()
            inside[e] += time.process_time() - c0
            return loss

        return run

    try:
        for k in range(args.steps + 1):
            for e in ENGINES if k % 2 == 0 else ENGINES[::-1]:
                field.value_and_derivatives = _engine(e)
                c0 = time.process_time()
                adams[e].zero_grad(set_to_none=True)
                loss, _ = problem.loss(nets[e], batch)
                loss.backward()
                adams[e].step()
                if k:  # the first step of each is untimed
                    adam_s[e].append(time.process_time() - c0)
        evals = dict.fromkeys(ENGINES, 0)
        for k in range(args.iterations):
            for e in ENGINES if k % 2 == 0 else ENGINES[::-1]:
                field.value_and_derivatives = _engine(e)
                c0 = time.process_time()
                lbfgs[e].step(closure(e))
                lbfgs_s[e].append(time.process_time() - c0)
    finally:
        field.value_and_derivatives = PLAIN
    out = {}
    for e in ENGINES:
        out[e] = {
            "adam_step_s": statistics.median(adam_s[e]),
            "lbfgs_iter_s": sum(lbfgs_s[e]) / len(lbfgs_s[e]),
            "lbfgs_evals_per_iter": evals[e] / args.iterations,
            "lbfgs_eval_s": inside[e] / evals[e],
            "lbfgs_outside_evals_s": (sum(lbfgs_s[e]) - inside[e]) / args.iterations,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--net", default="tanh", choices=["siren", "tanh"])
    ap.add_argument("--hidden", type=int, default=40)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--w0", type=float, default=5.0)
    ap.add_argument("--points", type=int, default=5080)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    args = ap.parse_args(argv)
    args.sym = args.half = True
    args.hard, args.shock_points, args.adaptive = False, 0, 1
    torch.set_num_threads(1)
    for name in args.dtypes:
        res = measure(args, getattr(torch, name))
        ratio = {
            k: res["autograd"][k] / res["closed_form"][k] for k in ("adam_step_s", "lbfgs_eval_s")
        }
        print(json.dumps({"dtype": name, **res, "autograd/closed_form": ratio, "load": load()}))


if __name__ == "__main__":
    main()
