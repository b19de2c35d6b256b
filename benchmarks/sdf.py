"""SDF fitting on real shapes: Chamfer, IoU and time after a fixed CPU-time budget,
and peak memory of training and of meshing at 512^3.

Inputs from ``../shared/data``: meshes/armadillo.off, bunny00.off, ChineseDragon-10kv.off
(sampled to oriented points) and points/kitten.xyz (an oriented point cloud). Metrics are in
the unit frame (the reference's longest bounding-box side is 1); see docs/sdf.md.

    python -m benchmarks.sdf [--budget 240] [--hidden 128] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import torch

from benchmarks.common import SHARED, machine, table, write_json
from sirenkit.geometry.meshing import extract_mesh
from sirenkit.nets.config import ModelConfig
from sirenkit.nets.registry import model_from_config
from sirenkit.tasks.sdf import SdfTask, load_source

INPUTS = (
    "meshes/armadillo.off",
    "meshes/bunny00.off",
    "meshes/ChineseDragon-10kv.off",
    "points/kitten.xyz",
)
PUBLISHED = {"armadillo": (1.03e-5, 0.976), "ChineseDragon-10kv": (9.4e-6, 0.948)}


class PeakRss:
    """Peak resident memory (MiB) of this process while the block runs, sampled every 20 ms."""

    def __enter__(self) -> PeakRss:
        self.base = _rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fit_for(task: SdfTask, model: torch.nn.Module, budget: float, batch: int, lr: float):
    """Adam on the task's loss until ``budget`` seconds of this process's CPU time are spent.

    CPU time, not wall time, so that the budget buys the same work on a shared machine.
    Returns steps, CPU seconds, wall seconds and the last loss.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    steps, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
    while time.process_time() - cpu0 < budget:
        loss, _ = task.loss(model, task.batch(steps, gen, batch))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return steps, cpu, wall, float(loss.detach())


def bench_one(rel: str, args) -> dict:
    path = SHARED / rel
    cloud, norm, reference, label = load_source(
        str(path), samples=args.samples, padding=0.1, eval_points=args.eval_points
    )
    task = SdfTask(
        cloud,
        label=label,
        norm=norm,
        reference=reference,
        eval_points=args.eval_points,
        iou_points=args.iou_points,
    )
    torch.manual_seed(0)
    model = model_from_config(ModelConfig(hidden=args.hidden, layers=args.layers), task.shape)
    with PeakRss() as train_mem:
        steps, cpu, wall, loss = fit_for(task, model, args.budget, args.batch, args.lr)
    model.eval()
    t0, c0 = time.perf_counter(), time.process_time()
    mesh = extract_mesh(model, args.resolution)
    mesh_s, mesh_cpu = time.perf_counter() - t0, time.process_time() - c0
    metrics = task.measure(mesh, model)
    row = {
        "shape": label,
        "points": len(cloud),
        "steps": steps,
        "train cpu s": cpu,
        "train wall s": wall,
        "cpu s/step": cpu / steps,
        "final loss": loss,
        "train peak MiB": train_mem.peak - train_mem.base,
        f"mesh {args.resolution} wall s": mesh_s,
        f"mesh {args.resolution} cpu s": mesh_cpu,
        "chamfer": metrics.get("chamfer"),
        "hausdorff": metrics.get("hausdorff"),
        "normal cons.": metrics.get("normal_consistency"),
        "iou": metrics.get("iou"),
        "faces": len(mesh.faces),
    }
    if label in PUBLISHED:
        row["paper chamfer"], row["paper iou"] = PUBLISHED[label]
    if args.mesh512 in ("all", label):
        with PeakRss() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            big = extract_mesh(model, 512)
            row["mesh 512 wall s"] = time.perf_counter() - t0
            row["mesh 512 cpu s"] = time.process_time() - c0
        row["mesh 512 peak MiB"] = mem.peak - mem.base
        row["mesh 512 evaluated"] = big.stats.evaluated_points / 512**3
        row["mesh 512 faces"] = len(big.faces)
    print(row, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=240.0, help="training CPU seconds per shape")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument(
        "--batch", type=int, default=4096, help="surface points per step (+ as many off)"
    )
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--samples", type=int, default=200_000, help="points drawn from meshes")
    ap.add_argument("--resolution", type=int, default=256, help="mesh resolution for metrics")
    ap.add_argument("--eval-points", type=int, default=100_000)
    ap.add_argument("--iou-points", type=int, default=200_000)
    ap.add_argument("--mesh512", default="armadillo", help="shape label meshed at 512^3, or all")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default=None, help="run only inputs whose path contains this")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    print(f"machine: {machine()}")
    print(f"settings: {vars(args)}")
    rows = [bench_one(rel, args) for rel in INPUTS if args.only is None or args.only in rel]
    cols = [
        "shape",
        "steps",
        "train cpu s",
        "train wall s",
        "cpu s/step",
        "train peak MiB",
        f"mesh {args.resolution} cpu s",
        "chamfer",
        "hausdorff",
        "normal cons.",
        "iou",
        "paper chamfer",
        "paper iou",
        "mesh 512 cpu s",
        "mesh 512 wall s",
        "mesh 512 peak MiB",
        "mesh 512 evaluated",
    ]
    print(table(rows, cols))
    write_json(
        args.json, {"machine": machine(), "settings": vars(args) | {"json": None}, "rows": rows}
    )


if __name__ == "__main__":
    main()
