"""Training steps whose loss uses input derivatives: closed form against nested autograd.

A 5-layer 256-wide SIREN (first + 3 hidden + linear output), 2-D and 3-D inputs, full batch.
One step = forward with derivatives, loss, backward, Adam step. The loss uses (a) the gradient
(an Eikonal term, ``(|grad u| - 1)^2``) or (b) the Laplacian (a Poisson residual). Each engine is
forced through ``value_and_derivatives(..., engine=...)``.

Peak memory: each (dimension, loss, engine) runs one step in a fresh process, so the figure is
that step's alone: on CUDA ``torch.cuda.max_memory_allocated`` minus what was allocated before
the step; on CPU the rise of the process's peak resident set (``VmHWM`` in
``/proc/self/status``) over its resident set just before the step. Large tensors are
``mmap``-ed and returned to the system when freed, so the CPU figure tracks live tensor memory;
it also counts allocator slack, the same for both engines. Time: one process per (dimension,
loss) builds an identical network for each engine, takes one untimed step with each, then
alternates the engines step by step and reports medians of wall clock and process CPU time
(the latter is less disturbed when other jobs share the machine).

    python -m benchmarks.derivatives [--quick] [--points N] [--steps K] [--threads T]
        [--dims 2 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import machine, table, write_json
from sirenkit import Siren, value_and_derivatives

WIDTH = 256
HIDDEN_LAYERS = 3  # first + 3 hidden + output = the paper's 5-layer network
ENGINES = ("autograd", "closed_form")
LOSSES = ("gradient", "laplacian")


def _peak_rss_mb() -> tuple[float, float]:
    """Current and peak resident set of this process, MiB (Linux ``/proc``)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = float(rest.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _training_step(dim: int, points: int, loss_kind: str, engine: str) -> Callable[[], None]:
    """A full-batch training step of a fresh (seeded, so identical) network."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    net = Siren(dim, WIDTH, HIDDEN_LAYERS, 1).to(device)
    coords = torch.rand(points, dim, device=device) * 2 - 1
    source = torch.randn(points, 1, device=device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step() -> None:
        out = value_and_derivatives(
            net,
            coords,
            gradient=loss_kind == "gradient",
            laplacian=loss_kind == "laplacian",
            engine=engine,
        )
        if loss_kind == "gradient":
            loss = (out.gradient[:, 0].norm(dim=-1) - 1).pow(2).mean()
        else:
            loss = (out.laplacian - source).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(device)

    return step


def peak_memory(dim: int, loss_kind: str, engine: str, points: int, threads: int = 0) -> float:
    """Peak memory (MiB) of one training step above what was in use before it.

    Meant for a fresh process (see the module docstring for what is measured).
    """
    if threads > 0:
        torch.set_num_threads(threads)
    step = _training_step(dim, points, loss_kind, engine)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    base, _ = _peak_rss_mb()
    step()
    return _peak_rss_mb()[1] - base


def step_times(dim: int, loss_kind: str, points: int, steps: int, threads: int = 0) -> dict:
    """Median wall and CPU seconds per step of each engine, the engines interleaved.

    One untimed step each, then ``steps`` rounds alternating which engine goes first, so a
    change in the machine's load hits both alike.

    Returns:
        ``{engine: {"wall_s", "cpu_s"}}``.
    """
    if threads > 0:
        torch.set_num_threads(threads)
    fns = {e: _training_step(dim, points, loss_kind, e) for e in ENGINES}
    for fn in fns.values():
        fn()
    times: dict[str, list[tuple[float, float]]] = {e: [] for e in ENGINES}
    for k in range(steps):
        for engine in ENGINES if k % 2 == 0 else ENGINES[::-1]:
            t0, c0 = time.perf_counter(), time.process_time()
            fns[engine]()
            times[engine].append((time.perf_counter() - t0, time.process_time() - c0))
    return {
        e: {
            "wall_s": statistics.median(t[0] for t in ts),
            "cpu_s": statistics.median(t[1] for t in ts),
        }
        for e, ts in times.items()
    }


def _worker(what: str, **kw: Any) -> Any:
    return peak_memory(**kw) if what == "memory" else step_times(**kw)


def _in_fresh_process(**kw: Any) -> Any:
    """Run :func:`_worker` in a child process, so its peak memory is its own."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    cmd = [sys.executable, "-m", "benchmarks.derivatives", "--worker", json.dumps(kw)]
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"benchmark worker {kw} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_all(
    points: int, steps: int, dims: tuple[int, ...], threads: int = 0
) -> list[dict[str, Any]]:
    """One row per (dimension, loss) with both engines' figures and the ratios."""
    rows = []
    for dim in dims:
        for loss_kind in LOSSES:
            row: dict[str, Any] = {"dim": dim, "loss": loss_kind, "points": points}
            common = {"dim": dim, "loss_kind": loss_kind, "points": points, "threads": threads}
            for engine in ENGINES:
                row[f"{engine}_peak_mb"] = _in_fresh_process(what="memory", engine=engine, **common)
            timed = _in_fresh_process(what="time", steps=steps, **common)
            for engine, r in timed.items():
                for k, v in r.items():
                    row[f"{engine}_{k}"] = v
            for k in ("wall_s", "cpu_s", "peak_mb"):
                row[f"speedup_{k}" if k != "peak_mb" else "memory_ratio"] = (
                    row[f"autograd_{k}"] / row[f"closed_form_{k}"]
                )
            print(f"  {row}", file=sys.stderr, flush=True)
            rows.append(row)
    return rows


def _settings(quick: bool) -> tuple[int, int]:
    """(points, timed steps): the issue's 65,536 points, or 4,096 for a quick look."""
    return (4096, 2) if quick else (65536, 3)


def cases(quick: bool) -> list[dict[str, Any]]:
    """Rows for the suite runner: ``value`` is the closed form, ``reference`` autograd.

    ``ratio`` is ``reference / value``: the speed-up for times, the memory saved for memory
    (above 1 is better for both).
    """
    points, steps = _settings(quick)
    # One CPU thread: on a shared machine a second thread mostly spins, blurring the ratios.
    threads = 0 if torch.cuda.is_available() else 1
    out = []
    for r in run_all(points, steps, (2, 3), threads):
        note = f"{points} pts, 5x256 SIREN, median of {steps} steps"
        if threads:
            note += ", 1 CPU thread"
        name = f"{r['loss']} step {r['dim']}-D"
        out.append(
            {
                "case": f"{name} wall time",
                "value": r["closed_form_wall_s"],
                "reference": r["autograd_wall_s"],
                "ratio": r["speedup_wall_s"],
                "unit": "s",
                "note": note,
            }
        )
        out.append(
            {
                "case": f"{name} CPU time",
                "value": r["closed_form_cpu_s"],
                "reference": r["autograd_cpu_s"],
                "ratio": r["speedup_cpu_s"],
                "unit": "s",
                "note": note,
            }
        )
        out.append(
            {
                "case": f"{name} peak memory",
                "value": r["closed_form_peak_mb"],
                "reference": r["autograd_peak_mb"],
                "ratio": r["memory_ratio"],
                "unit": "MiB",
                "note": note + ("; CUDA allocator" if torch.cuda.is_available() else "; RSS rise"),
            }
        )
    return out


COLUMNS = [
    "dim",
    "loss",
    "autograd_wall_s",
    "closed_form_wall_s",
    "speedup_wall_s",
    "autograd_cpu_s",
    "closed_form_cpu_s",
    "speedup_cpu_s",
    "autograd_peak_mb",
    "closed_form_peak_mb",
    "memory_ratio",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="4,096 points, 2 timed steps")
    ap.add_argument("--points", type=int, default=None, help="override the number of points")
    ap.add_argument("--steps", type=int, default=None, help="override the timed steps")
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        print(json.dumps(_worker(**json.loads(args.worker))))
        return
    points, steps = _settings(args.quick)
    points = args.points or points
    steps = args.steps or steps
    print(f"machine: {machine()}")
    threads = args.threads or torch.get_num_threads()
    print(f"SIREN {WIDTH} wide, 5 layers; {points} points; median of {steps} steps; {threads} thr")
    rows = run_all(points, steps, tuple(args.dims), args.threads)
    print(table(rows, COLUMNS))
    meta = {"machine": machine(), "points": points, "steps": steps, "threads": threads}
    write_json(args.json, {**meta, "rows": rows})


if __name__ == "__main__":
    main()
