"""PDEs posed as constraints: every built-in example with SIREN and with the PINN default.

For each example of :mod:`sirenkit.examples` with a reference, two networks train on the same
problem for the same steps: the example's own network and schedule (a SIREN), and the PINN
default (tanh MLP, Glorot-normal init, DeepXDE's widths, point counts and schedule: Adam at
1e-3, constant). Each run reports the relative L2 error against the reference and the CPU
seconds of the whole run (``time.process_time``, one thread). When ``deepxde`` is installed
(``pip install 'sirenkit[bench]'``; PyTorch backend) its own Burgers and L-shape examples run in
the same process, with their own settings. The L-shape rows are also scored against the problem
solved by finite differences (``rel_l2_fd``: the reference file is ~10 % off it, docs/pde.md),
the Burgers rows say where their shock sits (``shock_x``), an inverse problem's rows the
coefficients found (``found``), and the goal of issue 15 is checked
per example under the table.

    python -m benchmarks.pde [--examples burgers lshape heat heat_inverse]
        [--deepxde-lshape-steps 50000]
        [--deepxde-seeds 0 1]
        [--json out.json] [--write-docs]

The machine is shared: CPU seconds, not wall time, are the cost; the load is in the caption.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common import SHARED, load, machine, table, write_doc_block, write_json

DOC = Path(__file__).resolve().parents[1] / "docs" / "pde.md"
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "sirenkit" / "examples"

PINN = {
    # DeepXDE's example networks: [2] + [20] * 3 + [1] (Burgers, heat), [2] + [50] * 4 + [1]
    # (L-shape); layers counts linear layers as `sirenkit models` does.
    "burgers": {"hidden": 20, "layers": 4},
    "heat": {"hidden": 20, "layers": 4},
    "lshape": {"hidden": 50, "layers": 5},
    "heat_inverse": {"hidden": 32, "layers": 4},  # DeepXDE's diffusion_1d_inverse: [2]+[32]*3+[1]
    "kovasznay": {"hidden": 50, "layers": 5},  # DeepXDE's Kovasznay_flow: [2] + [50] * 4 + [3]
}

SAME_PROBLEM = {"burgers_tanh": "burgers"}
"""Examples that pose another example's problem their own way: their rows are scored (and
checked against DeepXDE) as that example's, and they get no row without their symmetry (their
points cover x >= 0 only: without it they pose another problem)."""


def lshape_finite_differences(points: np.ndarray, n: int) -> np.ndarray:
    """-Laplacian u = 1 on the L-shape, u = 0 on its boundary, by the 5-point stencil on the
    uniform grid of spacing 1/n, interpolated bilinearly at ``points``: the stated problem solved
    without a network, to check the reference file against (docs/pde.md)."""
    import scipy.sparse as sparse
    from scipy.interpolate import RegularGridInterpolator
    from scipy.sparse.linalg import spsolve

    xs = np.linspace(-1.0, 1.0, 2 * n + 1)
    h = xs[1] - xs[0]
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    inside = ~((gx >= 0) & (gy >= 0)) & (np.abs(gx) < 1) & (np.abs(gy) < 1)
    index = np.full(gx.shape, -1)
    index[inside] = np.arange(inside.sum())
    i, j = np.nonzero(inside)
    k = index[i, j]
    rows, cols, vals = [k], [k], [np.full(len(k), 4.0)]
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        nb = index[i + di, j + dj]
        keep = nb >= 0  # a neighbour on the boundary holds u = 0
        rows.append(k[keep])
        cols.append(nb[keep])
        vals.append(np.full(int(keep.sum()), -1.0))
    a = sparse.csc_matrix(
        (np.concatenate(vals) / h**2, (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(k), len(k)),
    )
    u = np.zeros(gx.shape)
    u[inside] = spsolve(a, np.ones(len(k)))
    return RegularGridInterpolator((xs, xs), u)(points)


SHOCK_T = 0.99


def burgers_exact(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Burgers' solution by the Cole-Hopf transform (Gauss-Hermite quadrature, 160 nodes):
    ``u = -E[sin(pi y) f(y)] / E[f(y)]``, ``y = x - sqrt(4 nu t) z``, ``f = exp(-cos(pi y) /
    (2 pi nu))``; it matches Burgers.npz to ~1e-11."""
    nu = 0.01 / np.pi
    z, w = np.polynomial.hermite.hermgauss(160)
    x, t = np.asarray(x, float)[..., None], np.asarray(t, float)[..., None]
    y = x - np.sqrt(4 * nu * t) * z
    log_f = -np.cos(np.pi * y) / (2 * np.pi * nu) + np.log(w)
    f = np.exp(log_f - log_f.max(-1, keepdims=True))
    return -(np.sin(np.pi * y) * f).sum(-1) / f.sum(-1)


def shock_displacement_error(delta: float) -> float:
    """Relative L2 error against Burgers.npz of the exact solution whose shock (|x| < 0.05) is
    moved by ``delta``: what a misplaced shock alone costs."""
    with np.load(SHARED / "pde" / "Burgers.npz") as d:
        x, t, ref = d["x"][:, 0], d["t"][:, 0], d["usol"]
    gx, gt = np.meshgrid(x, t, indexing="ij")
    moved = np.where(np.abs(gx) < 0.05, burgers_exact(gx - delta, gt), burgers_exact(gx, gt))
    return float(np.linalg.norm(moved - ref) / np.linalg.norm(ref))


def shock_position(values: Callable[[np.ndarray], np.ndarray]) -> float:
    """Where a Burgers field crosses zero nearest x = 0 at t = 0.99 (the exact shock sits at
    x = 0 by symmetry); ``values`` maps (N, 2) points (x, t) to (N,) or (N, 1) values."""
    x = np.linspace(-0.1, 0.1, 2001)
    u = np.asarray(values(np.stack([x, np.full_like(x, SHOCK_T)], 1))).reshape(-1)
    cross = np.nonzero(np.sign(u[:-1]) != np.sign(u[1:]))[0]
    if not len(cross):
        return float("nan")
    i = cross[np.argmin(np.abs(x[cross]))]
    return float(x[i] - u[i] * (x[i + 1] - x[i]) / (u[i + 1] - u[i]))


def _example(name: str) -> dict[str, Any]:
    os.environ.setdefault("SIRENKIT_DATA", str(SHARED))
    torch.manual_seed(0)
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="sirenkit_problem")


def _vs_solved(points: np.ndarray, values: np.ndarray, solved: Solved | None) -> float | None:
    """Relative L2 error of ``values`` at ``points`` against the problem solved without a
    network (only the L-shape has one); None otherwise."""
    if solved is None:
        return None
    exact = solved.at(points)
    return float(np.linalg.norm(values.reshape(-1) - exact) / np.linalg.norm(exact))


class Solved:
    """The L-shape problem solved by finite differences (h = 1/n), evaluated once per point set."""

    def __init__(self, n: int) -> None:
        self.n, self._cache = n, {}

    def at(self, points: np.ndarray) -> np.ndarray:
        key = points.tobytes()
        if key not in self._cache:
            self._cache[key] = lshape_finite_differences(points, self.n)
        return self._cache[key]


def run_sirenkit(
    name: str, which: str, out: Path, solved: Solved | None = None
) -> dict[str, Any] | None:
    """One example with its own network (``siren``), the same network without the symmetry
    it imposes (``plain``; None when it imposes none) or the PINN default (``pinn``)."""
    import sirenkit as sk
    from sirenkit.problems.problem import as_reference, unknown_values

    ns = _example(name)
    steps, lbfgs = ns.get("steps", 2000), ns.get("then_lbfgs", 0)
    options = {
        "lr": ns.get("lr", 1e-3),
        "lbfgs_float64_after": ns.get("lbfgs_float64_after"),
        "quasi_newton": ns.get("quasi_newton", "lbfgs"),
    }
    if which == "siren":
        network = ns.get("field")
        inner = network.net if isinstance(network, sk.nets.Symmetric) else network
        kind = "SIREN" if isinstance(inner, sk.Siren) or inner is None else "network"
        label = f"sirenkit, example's {kind}" if name not in SAME_PROBLEM else f"sirenkit, {name}"
        if isinstance(network, sk.nets.Symmetric):
            label += " (symmetry imposed)"
        if options["quasi_newton"] == "bfgs":
            label += ", self-scaled BFGS finish"
        if options["lbfgs_float64_after"] is not None:
            label += ", float64 L-BFGS finish"
    elif which == "plain":  # the same network without its symmetry: what the symmetry buys
        if not isinstance(ns.get("field"), sk.nets.Symmetric) or name in SAME_PROBLEM:
            return None
        network = ns["field"].net
        label = "sirenkit, example's SIREN without the symmetry"
    else:
        size = PINN[name]
        network = sk.ModelConfig("tanh", param_match=False, **size)
        label = "sirenkit, PINN default (tanh, Glorot)"
        options = {"lr": 1e-3, "schedule": "constant", "lbfgs_float64_after": None}
        options["quasi_newton"] = "lbfgs"
    name = SAME_PROBLEM.get(name, name)  # the problem the rows are scored as
    if ns.get("reference") is None:
        return {"example": name, "method": label, "rel_l2": None, "note": "no reference data"}
    t0 = time.process_time()
    outcome = sk.solve(
        ns["problem"],
        network,
        reference=ns["reference"],
        steps=steps,
        then_lbfgs=lbfgs,
        out=out,
        progress=False,
        eval_every=0,
        checkpoint_every=0,
        log_every=100,
        **options,
    )
    cpu = time.process_time() - t0
    params = sum(p.numel() for p in outcome.model.parameters())
    points = as_reference(ns["reference"], ns["problem"]).points  # a file's may be a function
    values = ns["problem"].values(outcome.model, points).numpy()
    unknowns = unknown_values(ns["problem"].unknowns)  # their names as logged
    return {
        "example": name,
        "method": label,
        "network": _describe(outcome.model, ns["problem"].names),
        "parameters": params,
        "steps": _steps_done(outcome.run_dir, steps, lbfgs, options["quasi_newton"]),
        "rel_l2": outcome.final.get("rel_l2"),
        "rel_l2_fd": _vs_solved(points.double().numpy(), values, solved),
        "shock_x": _shock(name, lambda p: ns["problem"].values(outcome.model, _f32(p)).numpy()),
        "found": ", ".join(f"{k} {outcome.final[k]:.4g}" for k in unknowns) or None,
        "cpu_s": round(cpu, 1),
    }


def _steps_done(run_dir: Path, steps: int, lbfgs: int, quasi_newton: str = "lbfgs") -> str:
    """The schedule as run: an L-BFGS (or BFGS) phase that stalled says after how many
    iterations, one that went on in float64 from which."""
    summary = json.loads((run_dir / "summary.json").read_text())
    if not lbfgs:
        return f"{steps} Adam"
    done = summary["steps"] - steps
    kind = "BFGS" if quasi_newton == "bfgs" else "L-BFGS"
    out = f"{steps} Adam + {done} {kind}" + (" (stalled)" if done < lbfgs else "")
    if summary.get("lbfgs_float64_from") is not None:
        out += f", float64 from iteration {summary['lbfgs_float64_from']}"
    return out


def _f32(p: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(p, dtype=torch.float32)


def _shock(name: str, values: Callable[[np.ndarray], np.ndarray]) -> float | None:
    x = shock_position(values) if name == "burgers" else float("nan")
    return None if np.isnan(x) else round(x, 5)


def _describe(model: torch.nn.Module, names: tuple[str, ...] = ()) -> str:
    import sirenkit as sk

    if isinstance(model, sk.nets.Symmetric):
        kind = {(-1,): "odd", (1,): "even"}.get(tuple(set(model.parity)), "parities")
        axes = ", ".join(names[a] if a < len(names) else str(a) for a in model.axes)
        return f"{_describe(model.net)}, {kind} in {axes}"
    spec = getattr(model, "sirenkit_spec", {"name": type(model).__name__, "kwargs": {}})
    kw = spec["kwargs"]
    size = f"{kw.get('hidden_layers', 0) + 1}x{kw.get('hidden_features', '?')}"
    w0 = f", w0 {kw['w0']:g}" if "w0" in kw else ""
    return f"{spec['name']} {size}{w0}"


# -- DeepXDE's own examples ----------------------------------------------------------------------


def _deepxde():
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    try:
        import deepxde as dde
    except ImportError:
        return None
    if dde.backend.backend_name != "pytorch":
        return None
    return dde


def deepxde_burgers(dde, adam_steps: int, seed: int = 0) -> dict[str, Any]:
    """DeepXDE's examples/pinn_forward/Burgers.py as it ships (Adam, then its L-BFGS), seeded
    with DeepXDE's own ``dde.config.set_random_seed`` so every run gives the same figure."""
    data_file = SHARED / "pde" / "Burgers.npz"
    geomtime = dde.geometry.GeometryXTime(
        dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99)
    )

    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - 0.01 / np.pi * dy_xx

    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(
        geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial
    )
    dde.config.set_random_seed(seed)
    t0 = time.process_time()
    data = dde.data.TimePDE(
        geomtime, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160
    )
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    model.train(iterations=adam_steps, display_every=10**9)
    model.compile("L-BFGS")
    model.train(display_every=10**9)
    lbfgs_iterations = model.train_state.step - adam_steps
    with np.load(data_file) as d:
        t, x, exact = d["t"], d["x"], d["usol"].T
    xx, tt = np.meshgrid(x, t)
    points = np.vstack((np.ravel(xx), np.ravel(tt))).T
    pred = model.predict(points.astype(np.float32))
    cpu = time.process_time() - t0
    err = dde.metrics.l2_relative_error(exact.flatten()[:, None], pred)
    return {
        "shock_x": _shock("burgers", lambda p: model.predict(p.astype(np.float32))),
        "example": "burgers",
        "method": f"DeepXDE 1.15 (its example, seed {seed})",
        "seed": seed,
        "network": "tanh 3x20",
        "parameters": 2 * 20 + 20 + 2 * (20 * 20 + 20) + 21,
        "steps": f"{adam_steps} Adam + its L-BFGS ({lbfgs_iterations} iterations)",
        "rel_l2": float(err),
        "cpu_s": round(cpu, 1),
    }


def finite_differences_row(n: int, solved: Solved) -> dict[str, Any]:
    """The L-shape problem solved without a network (5-point stencil, h = 1/n), scored against
    the reference file like every other row: how far the file is from the stated problem."""
    with np.load(SHARED / "pde" / "Poisson_Lshape.npz") as d:
        points, ref = d["X_test"], d["y_ref"][:, 0]
    keep = np.isfinite(ref)
    t0 = time.process_time()
    u = lshape_finite_differences(points[keep], n)
    cpu = time.process_time() - t0
    return {
        "example": "lshape",
        "method": f"finite differences (5-point, h = 1/{n}), no network",
        "network": "-",
        "parameters": int(3 * (2 * n) ** 2 / 4),
        "steps": "one sparse solve",
        "rel_l2": float(np.linalg.norm(u - ref[keep]) / np.linalg.norm(ref[keep])),
        "rel_l2_fd": _vs_solved(points[keep], u, solved),
        "cpu_s": round(cpu, 1),
    }


def deepxde_lshape(
    dde, adam_steps: int, solved: Solved | None = None, seed: int = 0
) -> dict[str, Any]:
    """DeepXDE's examples/pinn_forward/Poisson_Lshape.py (its example runs 50000 Adam steps),
    seeded as :func:`deepxde_burgers`."""
    geom = dde.geometry.Polygon([[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]])

    def pde(x, y):
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        dy_yy = dde.grad.hessian(y, x, i=1, j=1)
        return -dy_xx - dy_yy - 1

    bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)
    dde.config.set_random_seed(seed)
    t0 = time.process_time()
    data = dde.data.PDE(geom, pde, bc, num_domain=1200, num_boundary=120, num_test=1500)
    for name in ("train_x", "train_x_all", "train_x_bc", "test_x"):  # its Polygon's points
        if getattr(data, name, None) is not None:  # are float64; the network is float32
            setattr(data, name, getattr(data, name).astype(np.float32))
    net = dde.nn.FNN([2] + [50] * 4 + [1], "tanh", "Glorot uniform")
    model = dde.Model(data, net)
    model.compile("adam", lr=0.001)
    model.train(iterations=adam_steps, display_every=10**9)
    model.compile("L-BFGS")
    model.train(display_every=10**9)
    with np.load(SHARED / "pde" / "Poisson_Lshape.npz") as d:
        points, ref = d["X_test"], d["y_ref"]
    keep = np.isfinite(ref[:, 0])
    pred = model.predict(points[keep].astype(np.float32))
    cpu = time.process_time() - t0
    err = dde.metrics.l2_relative_error(ref[keep], pred)
    return {
        "rel_l2_fd": _vs_solved(points[keep].astype(np.float32).astype(np.float64), pred, solved),
        "example": "lshape",
        "method": f"DeepXDE 1.15 (its example, seed {seed})",
        "seed": seed,
        "network": "tanh 4x50",
        "parameters": 2 * 50 + 50 + 3 * (50 * 50 + 50) + 51,
        "steps": f"{adam_steps} Adam + its L-BFGS",
        "rel_l2": float(err),
        "cpu_s": round(cpu, 1),
    }


def goals(rows: list[dict[str, Any]], shock: dict[str, float] | None = None) -> str:
    """The issue's goal, per example: sirenkit's best error over DeepXDE's (goal <= 0.2) and
    its CPU seconds over DeepXDE's (goal <= 1), from this run's rows."""
    lines = []
    for name in ("burgers", "lshape"):
        dde = [r for r in rows if r["example"] == name and r["method"].startswith("DeepXDE")]
        ours = [
            r
            for r in rows
            if r["example"] == name and r["method"].startswith("sirenkit") and r.get("rel_l2")
        ]
        if not dde or not ours:
            continue
        for d in dde:  # one line per DeepXDE run (seed)
            for key, against in (
                ("rel_l2", "the reference file"),
                ("rel_l2_fd", "the FD solution"),
            ):
                scored = [r for r in ours if r.get(key) is not None]
                if not scored or d.get(key) is None:
                    continue
                # the goal holds if one configuration meets both bounds: the lowest error among
                # the rows within DeepXDE's CPU seconds (else the lowest error at any cost)
                in_time = [r for r in scored if r["cpu_s"] <= d["cpu_s"]]
                best = min(in_time or scored, key=lambda r: r[key])
                ratio, cpu = best[key] / d[key], best["cpu_s"] / d["cpu_s"]
                met = "met" if ratio <= 0.2 and cpu <= 1 else "not met"
                line = (
                    f"- {name}, against {against}: {best['method']} {best[key]:.4g} / DeepXDE "
                    f"(seed {d['seed']}) {d[key]:.4g} = {ratio:.2g} (goal <= 0.2) in {cpu:.2f}x "
                    f"its CPU seconds (goal <= 1): **{met}**"
                )
                lowest = min(scored, key=lambda r: r[key])
                if lowest is not best:
                    line += (
                        f"; the lowest error, {lowest['method']} {lowest[key]:.4g} "
                        f"({lowest[key] / d[key]:.2g} of it), took "
                        f"{lowest['cpu_s'] / d['cpu_s']:.2f}x its CPU seconds"
                    )
                lines.append(line)
    fd = [r for r in rows if r["method"].startswith("finite differences")]
    dde = [r for r in rows if r["example"] == "lshape" and r["method"].startswith("DeepXDE")]
    if fd and dde:
        lines.append(
            f"- lshape: the stated problem solved by finite differences scores "
            f"{fd[0]['rel_l2']:.3f} against the reference file, above the goal's "
            f"{0.2 * dde[0]['rel_l2']:.3f} (0.2 x DeepXDE): the file, not the solver, bounds "
            "that line"
        )
    if shock:
        moved = ", ".join(f"{float(d):g}: {e:.3f}" for d, e in shock.items())
        lines.append(
            f"- burgers: the exact solution with its shock moved by delta (|x| < 0.05) scores "
            f"rel_l2 {moved} (delta: error); `shock_x` is where each field crosses zero near "
            f"x = 0 at t = {SHOCK_T} (exact: 0)"
        )
    return "Goal (issue 15):\n\n" + "\n".join(lines) if lines else ""


COLUMNS = [
    "example",
    "method",
    "network",
    "parameters",
    "steps",
    "rel_l2",
    "rel_l2_fd",
    "shock_x",
    "found",
    "cpu_s",
]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", nargs="+", default=["burgers", "lshape", "heat", "heat_inverse"])
    ap.add_argument("--no-pinn", action="store_true", help="skip the tanh PINN default runs")
    ap.add_argument("--deepxde", choices=["auto", "off"], default="auto")
    ap.add_argument("--deepxde-burgers-steps", type=int, default=15000)
    ap.add_argument(
        "--deepxde-seeds",
        type=int,
        nargs="+",
        default=[0, 1],
        help="dde.config.set_random_seed of its Burgers runs, one row each (L-shape: the first)",
    )
    ap.add_argument(
        "--deepxde-lshape-steps",
        type=int,
        default=5000,
        help="Adam steps of DeepXDE's L-shape run (its example: 50000; cut to fit the budget)",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="print (and with --write-docs write) the table of saved runs (rows in order)",
    )
    args = ap.parse_args(argv)
    if args.from_json is not None:
        runs = [json.loads(p.read_text()) for p in args.from_json]
        saved = {
            "rows": [r for run in runs for r in run["rows"]],
            "shock": next((run["shock"] for run in runs if run.get("shock")), None),
        }
        md = table(saved["rows"], COLUMNS) + "\n\n" + goals(saved["rows"], saved["shock"])
        for p, run in zip(args.from_json, runs, strict=True):
            md += f"\n\n`{p.name}`: {run.get('command', 'python -m benchmarks.pde')}, "
            md += f"measured on {run['machine']}; {run['load']}."
        print(md)
        if args.write_docs:
            command = "python -m benchmarks.pde --from-json " + " ".join(
                str(p) for p in args.from_json
            )
            write_doc_block(DOC, "pde-table", md, command)
        return saved
    torch.set_num_threads(1)
    rows: list[dict[str, Any]] = []
    dde = _deepxde() if args.deepxde == "auto" else None
    solved = Solved(400)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.examples:
            check = solved if name == "lshape" else None
            kinds = ["siren", "plain"] + ([] if args.no_pinn or name not in PINN else ["pinn"])
            for which in kinds:
                row = run_sirenkit(name, which, Path(tmp), check)
                if row is not None:
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            if name == "lshape" and (SHARED / "pde" / "Poisson_Lshape.npz").is_file():
                rows.append(finite_differences_row(100, solved))
                print(json.dumps(rows[-1]), flush=True)
            if dde is not None and name == "burgers" and (SHARED / "pde" / "Burgers.npz").is_file():
                for seed in args.deepxde_seeds:
                    rows.append(deepxde_burgers(dde, args.deepxde_burgers_steps, seed))
                    print(json.dumps(rows[-1]), flush=True)
            if dde is not None and name == "lshape" and (SHARED / "pde").is_dir():
                rows.append(
                    deepxde_lshape(dde, args.deepxde_lshape_steps, solved, args.deepxde_seeds[0])
                )
                print(json.dumps(rows[-1]), flush=True)
    if dde is None and args.deepxde == "auto":
        print("deepxde not installed (pip install 'sirenkit[bench]'): no DeepXDE rows")
    shock = None
    if "burgers" in args.examples and (SHARED / "pde" / "Burgers.npz").is_file():
        shock = {f"{d:g}": shock_displacement_error(d) for d in (0.0005, 0.001, 0.003)}
    md = table(rows, COLUMNS) + "\n\n" + goals(rows, shock)
    print(md)
    print(f"{machine()}; {load()}")
    command = "python -m benchmarks.pde " + " ".join(argv if argv is not None else sys.argv[1:])
    payload = {
        "rows": rows,
        "shock": shock,
        "machine": machine(),
        "load": load(),
        "command": command.strip(),
    }
    write_json(args.json, payload)
    if args.write_docs:
        write_doc_block(DOC, "pde-table", md, "python -m benchmarks.pde --write-docs")
    return payload


if __name__ == "__main__":
    main()
