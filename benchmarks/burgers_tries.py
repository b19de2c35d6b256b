"""Burgers experiments for issue 15: one configuration per run, its error curve against
Burgers.npz and the CPU seconds at each evaluation (one thread, ``time.process_time``).

    python -m benchmarks.burgers_tries --net tanh --hidden 20 --layers 4 --adam 2000 --lbfgs 4000
        [--sym] [--half] [--shock-points 1000 --shock-width 0.05 --shock-weight 1]
        [--hard] [--w0 5] [--lr 1e-3] [--schedule cosine] [--seed 0] [--eval-every 250]

``--sym``: the field is odd in x (``sk.nets.Symmetric``); ``--half``: with it, the points are
drawn on x >= 0 only (the squared residual of an odd field is even in x, so the other half
repeats them); ``--shock-points N``: a second PDE constraint on ``|x| < width``, t >= 0.25 (where
the shock is), weighted by ``--shock-weight``; ``--hard``: ``u = -sin(pi x) + t (1 - x^2) N``.
Prints one JSON line per evaluation (step, rel_l2, cpu_s) and a summary line. The rows of
docs/pde.md's "Measured on the way" table name the command of each.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time

import numpy as np
import torch

import sirenkit as sk
from benchmarks.common import SHARED, load
from sirenkit.problems.task import ProblemTask

NU = 0.01 / math.pi


def burgers(f):
    return f.d("t") + f.u * f.d("x") - NU * f.d("x", "x")


def start(f):
    return f.u + torch.sin(math.pi * f.coord("x"))


def build(args: argparse.Namespace) -> tuple[sk.Problem, torch.nn.Module]:
    lo = 0.0 if args.half else -1.0
    box = sk.domains.Box([lo, 0], [1, 0.99])
    scale = 0.5 if args.half else 1.0
    cons = [
        sk.Constraint(
            box, burgers, points=int(args.points * scale), name="pde", adaptive=args.adaptive
        )
    ]
    if args.shock_points:
        w = args.shock_width
        near = sk.domains.Box([0 if args.half else -w, args.shock_t], [w, 0.99])
        cons.append(
            sk.Constraint(
                near, burgers, points=args.shock_points, weight=args.shock_weight, name="shock"
            )
        )
    if not args.hard:
        edge = box.face("x", 1) if args.half else box.faces("x")
        cons.append(sk.Constraint(edge, lambda f: f.u, points=int(80 * scale), name="edge"))
        cons.append(sk.Constraint(box.face("t", 0), start, points=int(160 * scale), name="start"))
    transform = None
    if args.hard:

        def transform(x, y):
            xs, t = x[:, :1], x[:, 1:]
            return -torch.sin(math.pi * xs) + t * (1 - xs**2) * y

    problem = sk.Problem(cons, names=("x", "t"), transform=transform, name="burgers")
    if args.net == "siren":
        net = sk.Siren(2, args.hidden, args.layers - 2, 1, w0=args.w0)
    else:
        net = sk.build_model(
            args.net,
            in_features=2,
            hidden_features=args.hidden,
            hidden_layers=args.layers - 2,
            out_features=1,
            activation=args.net,
            init="xavier",
        )
    if args.sym:
        net = sk.nets.Symmetric(net, axes=0, parity=-1)
    return problem, net


def _last_loss(run_dir) -> float | None:
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in lines if "loss" in r]
    return losses[-1] if losses else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--net", default="siren", choices=["siren", "tanh"])
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--w0", type=float, default=5.0)
    ap.add_argument("--sym", action="store_true")
    ap.add_argument("--half", action="store_true")
    ap.add_argument("--hard", action="store_true")
    ap.add_argument("--points", type=int, default=2540)
    ap.add_argument(
        "--adaptive", type=int, default=1, help="the L-BFGS PDE points picked among K times more"
    )
    ap.add_argument("--shock-points", type=int, default=0)
    ap.add_argument("--shock-width", type=float, default=0.05)
    ap.add_argument("--shock-t", type=float, default=0.25)
    ap.add_argument("--shock-weight", type=float, default=1.0)
    ap.add_argument("--adam", type=int, default=1000)
    ap.add_argument("--lbfgs", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--schedule", default="cosine")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--f64", action="store_true", help="the whole run in float64")
    ap.add_argument("--gtol", type=float, default=None, help="L-BFGS tolerance_grad")
    ap.add_argument(
        "--f64-after",
        type=int,
        default=None,
        help="L-BFGS iterations before float64, or the first that stalls (lbfgs_float64_after)",
    )
    ap.add_argument("--bfgs", action="store_true", help="quasi_newton='bfgs' (self-scaled)")
    ap.add_argument("--plain-bfgs", action="store_true", help="with --bfgs: not self-scaled")
    args = ap.parse_args(argv)
    if args.half and not args.sym:
        ap.error("--half needs --sym")
    torch.set_num_threads(1)
    with np.load(SHARED / "pde" / "Burgers.npz") as d:
        reference = sk.Reference.grid([d["x"], d["t"]], d["usol"])
    t0 = time.process_time()
    evaluate = ProblemTask.evaluate

    def timed(self, model):
        out = evaluate(self, model)
        print(json.dumps({"rel_l2": out.get("rel_l2"), "cpu_s": time.process_time() - t0}))
        return out

    ProblemTask.evaluate = timed
    if args.f64:
        torch.set_default_dtype(torch.float64)
    if args.plain_bfgs:
        from sirenkit.training.bfgs import BFGS

        BFGS.self_scaled = False
    if args.gtol is not None:
        lbfgs = torch.optim.LBFGS

        class Tolerant(lbfgs):
            def __init__(self, *a, **k):
                super().__init__(*a, **k, tolerance_grad=args.gtol, tolerance_change=0.0)

        torch.optim.LBFGS = Tolerant
    torch.manual_seed(args.seed)
    problem, net = build(args)
    with tempfile.TemporaryDirectory() as tmp:
        run = sk.solve(
            problem,
            net,
            reference=reference,
            steps=args.adam,
            then_lbfgs=args.lbfgs,
            lr=args.lr,
            schedule=args.schedule,
            lbfgs_float64_after=args.f64_after,
            quasi_newton="bfgs" if args.bfgs else "lbfgs",
            seed=args.seed,
            out=tmp,
            progress=False,
            eval_every=args.eval_every,
            checkpoint_every=0,
            log_every=100,
        )
        loss = _last_loss(run.run_dir)
        done = json.loads((run.run_dir / "summary.json").read_text())
        done = {k: done[k] for k in ("steps", "stopped", "lbfgs_float64_from") if k in done}
        pts = reference.points.to(next(run.model.parameters()).dtype)
        err = (problem.values(run.model, pts).double() - reference.values.double())[:, 0]
        near = reference.points[:, 0].abs() < 0.05
        scale = reference.values.double().norm()
    split = {
        "near_shock": float(err[near].norm() / scale),
        "rest": float(err[~near].norm() / scale),
    }
    cpu = time.process_time() - t0
    summary = {"args": vars(args), "rel_l2": run.final.get("rel_l2"), "cpu_s": round(cpu, 1)}
    summary |= {"loss": loss, **split, **done}
    print(json.dumps(summary | {"load": load()}))


if __name__ == "__main__":
    main()
