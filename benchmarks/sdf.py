"""SDF fitting on real shapes at equal CPU time: sirenkit's defaults against the authors' recipe.

For every shape of ``../shared/data`` (meshes/*.off sampled to 200k oriented points;
points/*.xyz as given) and every variant (``oriented``: the given normals; ``unoriented``:
normals removed and estimated; ``noisy``: Gaussian noise of 0.5% of the bounding box on the
positions, normals removed and estimated), both recipes train for the same CPU seconds of this
process (one thread) and are measured on the raw 256^3 mesh against the clean reference:
Chamfer, Hausdorff, normal consistency (unit frame: the reference's longest side is 1), IoU
(watertight references) and connected components.

- ``sirenkit``: ``sirenkit fit sdf``'s defaults (sphere init, distance recipe, its network and
  optimiser), with the cosine schedule stretched over the CPU budget;
- ``authors``: SIREN 3x256 hidden, w0 30, random init, Adam 1e-4 constant, the paper's loss and
  weights (3e3 surface, 1e2 off-surface, 1e2 normal, 5e1 Eikonal), 4096 surface + 4096
  uniform points per step.

    python -m benchmarks.sdf [--shapes armadillo,bunny00] [--variants oriented,noisy]
        [--seconds 120] [--json out.json] [--write-docs]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import SHARED, load, machine, table, write_doc_block, write_json
from sirenkit.geometry.io import load_source
from sirenkit.geometry.meshing import extract_mesh
from sirenkit.geometry.pointset import estimate_normals
from sirenkit.nets.config import ModelConfig
from sirenkit.nets.registry import model_from_config
from sirenkit.signals.pointcloud import OrientedPoints
from sirenkit.tasks.sdf import FitSdfConfig, SdfLoss, SdfTask

DOC = Path(__file__).resolve().parents[1] / "docs" / "sdf.md"
VARIANTS = ("oriented", "unoriented", "noisy")
RECIPES = ("sirenkit", "authors")
NOISE = 0.005
"""Standard deviation of the noisy variant, as a fraction of the bounding box's longest side."""


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


def inputs() -> list[Path]:
    """Every mesh and point cloud of the shared data, meshes first."""
    return sorted((SHARED / "meshes").glob("*.off")) + sorted((SHARED / "points").glob("*.xyz"))


def variant_cloud(cloud: OrientedPoints, variant: str, seed: int = 0) -> OrientedPoints:
    """The oriented points a variant trains on (estimated normals for the last two)."""
    if variant == "oriented":
        return cloud
    pts = cloud.points.astype(np.float64)
    if variant == "noisy":
        extent = float((pts.max(0) - pts.min(0)).max())
        pts = pts + np.random.default_rng(seed).normal(size=pts.shape) * NOISE * extent
    return estimate_normals(pts)


def train_for(task: SdfTask, model: torch.nn.Module, seconds: float, recipe: str) -> dict:
    """Adam until ``seconds`` of this process's CPU time are spent (CPU time, not wall time,
    so the budget buys the same work on a shared machine)."""
    defaults = FitSdfConfig()
    if recipe == "sirenkit":
        lr, batch, final = (
            defaults.train.lr,
            defaults.train.batch_size,
            defaults.train.final_lr_factor,
        )
    else:
        lr, batch, final = 1e-4, 4096, 1.0
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    steps, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
    while (spent := time.process_time() - cpu0) < seconds:
        t = spent / seconds  # the cosine schedule runs over the CPU budget
        for group in opt.param_groups:
            group["lr"] = lr * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * t)))
        loss, _ = task.loss(model, task.batch(steps, gen, batch))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
    return {
        "steps": steps,
        "train cpu s": time.process_time() - cpu0,
        "train wall s": time.perf_counter() - wall0,
    }


def bench_one(path: Path, variant: str, recipe: str, src, args) -> dict:
    cpu0 = time.process_time()
    cloud = variant_cloud(src.cloud, variant)
    if recipe == "sirenkit":
        cfg = FitSdfConfig()
        task = SdfTask(
            cloud,
            label=src.label,
            norm=src.norm,
            reference=src.reference,
            loss=cfg.loss,
            start=cfg.start,
            pool=cfg.pool,
            eval_points=args.eval_points,
            iou_points=args.iou_points,
        )
        model_cfg = cfg.model
    else:
        task = SdfTask(
            cloud,
            label=src.label,
            norm=src.norm,
            reference=src.reference,
            loss=SdfLoss(recipe="paper"),
            start="siren",
            eval_points=args.eval_points,
            iou_points=args.iou_points,
        )
        model_cfg = ModelConfig(hidden=256, layers=5)
    setup = time.process_time() - cpu0
    torch.manual_seed(0)
    model = model_from_config(model_cfg, task.shape)
    task.init_model(model)
    with PeakRss() as mem:
        row = train_for(task, model, args.seconds, recipe)
    model.eval()
    c0 = time.process_time()
    mesh = extract_mesh(model, args.resolution)
    metrics = task.measure(mesh, model)
    row = {
        "shape": src.label,
        "variant": variant,
        "recipe": recipe,
        "points": len(cloud),
        "setup cpu s": setup,
        **row,
        "train peak MiB": mem.peak - mem.base,
        "mesh cpu s": time.process_time() - c0,
        "chamfer": metrics.get("chamfer"),
        "hausdorff": metrics.get("hausdorff"),
        "normal cons.": metrics.get("normal_consistency"),
        "iou": metrics.get("iou"),
        "components": int(metrics.get("components", 0)),
        "load": os.getloadavg()[0],
    }
    if args.mesh512 == src.label and variant == "oriented" and recipe == "sirenkit":
        with PeakRss() as big_mem:
            c0 = time.process_time()
            big = extract_mesh(model, 512)
            row["mesh 512 cpu s"] = time.process_time() - c0
        row["mesh 512 peak MiB"] = big_mem.peak - big_mem.base
        row["mesh 512 faces"] = len(big.faces)
    print(row, flush=True)
    return row


COLUMNS = [
    "shape",
    "variant",
    "recipe",
    "steps",
    "setup cpu s",
    "train cpu s",
    "chamfer",
    "hausdorff",
    "normal cons.",
    "iou",
    "components",
]


def ratios(rows: list[dict]) -> list[dict]:
    """Authors' Chamfer over sirenkit's, per shape and variant."""
    out = []
    for r in rows:
        if r["recipe"] != "sirenkit":
            continue
        for o in rows:
            if (o["shape"], o["variant"], o["recipe"]) == (r["shape"], r["variant"], "authors"):
                out.append(
                    {
                        "shape": r["shape"],
                        "variant": r["variant"],
                        "chamfer ratio (authors / sirenkit)": o["chamfer"] / r["chamfer"]
                        if r["chamfer"] and o["chamfer"]
                        else None,
                    }
                )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default=None, help="comma-separated stems (default: all)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--seconds", type=float, default=120.0, help="training CPU s per fit")
    ap.add_argument("--samples", type=int, default=200_000, help="points drawn from meshes")
    ap.add_argument("--resolution", type=int, default=256, help="mesh resolution for metrics")
    ap.add_argument("--eval-points", type=int, default=100_000)
    ap.add_argument("--iou-points", type=int, default=200_000)
    ap.add_argument("--mesh512", default="armadillo", help="shape also meshed at 512^3")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--write-docs", action="store_true", help=f"write the table into {DOC}")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"machine: {machine()}; {load()}", flush=True)
    wanted = None if args.shapes is None else set(args.shapes.split(","))
    rows = []
    for path in inputs():
        if wanted is not None and path.stem not in wanted:
            continue
        src = load_source(
            str(path), samples=args.samples, padding=0.1, eval_points=args.eval_points
        )
        for variant in args.variants.split(","):
            for recipe in args.recipes.split(","):
                rows.append(bench_one(path, variant, recipe, src, args))
    body = (
        table(rows, COLUMNS)
        + "\n\n"
        + table(ratios(rows), ["shape", "variant", "chamfer ratio (authors / sirenkit)"])
    )
    big = [r for r in rows if "mesh 512 peak MiB" in r]
    if big:
        r = big[0]
        body += (
            f"\n\nMeshing the {r['shape']} fit at 512^3: {r['mesh 512 cpu s']:.0f} CPU s, "
            f"{r['mesh 512 faces']} faces, peak RSS increase {r['mesh 512 peak MiB']:.0f} MiB."
        )
    print(body)
    write_json(
        args.json, {"machine": machine(), "settings": vars(args) | {"json": None}, "rows": rows}
    )
    if args.write_docs:
        write_doc_block(
            DOC, "sdf-benchmark", body, "python -m " + " ".join(["benchmarks.sdf", *sys.argv[1:]])
        )


if __name__ == "__main__":
    main()
