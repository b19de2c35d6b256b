"""SDF fitting on real shapes at equal CPU time: sirenkit's defaults against the authors' recipe.

For every shape of ``../shared/data`` (meshes/*.off sampled to 200k oriented points;
points/*.xyz as given) and every variant (``oriented``: the given normals; ``unoriented``:
normals removed and estimated; ``noisy``: Gaussian noise of 0.5% of the bounding box on the
positions, normals removed and estimated), the recipes train in this process (one thread) and
are measured on the raw 256^3 mesh against the clean reference: Chamfer, Hausdorff, normal
consistency (unit frame: the reference's longest side is 1), IoU (closed references) and
connected components.

- ``sirenkit``: ``sirenkit fit sdf``'s defaults exactly (its network, loss, steps and schedule;
  ``--steps`` overrides the step count for quick looks); its CPU seconds are reported;
- ``authors``: SIREN 3x256 hidden, w0 30, random init, Adam 1e-4 constant, the paper's loss and
  weights (3e3 surface, 1e2 off-surface, 1e2 normal, 5e1 Eikonal), 4096 surface + 4096
  uniform points per step, for ``--seconds`` CPU seconds (120: at least sirenkit's time).

    python -m benchmarks.sdf [--shapes armadillo,bunny00] [--variants oriented,noisy]
        [--recipes sirenkit] [--seconds 120] [--json out.json] [--write-docs]
    python -m benchmarks.sdf --merge a.json b.json --write-docs   # one table from parts
    python -m benchmarks.sdf --profile --shapes armadillo [--write-docs]   # where a step goes
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
from sirenkit.training.config import TrainConfig
from sirenkit.training.schedule import learning_rate

DOC = Path(__file__).resolve().parents[1] / "docs" / "sdf.md"
VARIANTS = ("oriented", "unoriented", "noisy")
RECIPES = ("sirenkit", "authors")
AUTHORS_BATCH = 4096
"""The authors' surface points per step (and as many uniform ones)."""
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


def train_steps(task: SdfTask, model: torch.nn.Module, train: TrainConfig) -> dict:
    """``sirenkit fit sdf``'s optimisation: Adam, ``train.steps`` steps of ``train.batch_size``
    points, its learning-rate schedule."""
    opt = torch.optim.Adam(model.parameters(), lr=train.lr)
    gen = torch.Generator().manual_seed(train.seed)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for step in range(train.steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(train, step)
        loss, _ = task.loss(model, task.batch(step, gen, train.batch_size))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return {
        "steps": train.steps,
        "train cpu s": time.process_time() - cpu0,
        "train wall s": time.perf_counter() - wall0,
    }


def train_for(task: SdfTask, model: torch.nn.Module, seconds: float) -> dict:
    """The authors' optimisation (Adam 1e-4, constant, 4096 + 4096 points) until ``seconds``
    of this process's CPU time are spent (CPU time, not wall time, so the budget buys the same
    work on a shared machine)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    steps, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
    while time.process_time() - cpu0 < seconds:
        loss, _ = task.loss(model, task.batch(steps, gen, AUTHORS_BATCH))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
    return {
        "steps": steps,
        "train cpu s": time.process_time() - cpu0,
        "train wall s": time.perf_counter() - wall0,
    }


def build(src, cloud: OrientedPoints, recipe: str, args) -> tuple[SdfTask, torch.nn.Module]:
    """The task and the initialised network of one recipe."""
    cfg = FitSdfConfig()
    loss = cfg.loss if recipe == "sirenkit" else SdfLoss(recipe="paper")
    task = SdfTask(
        cloud,
        label=src.label,
        norm=src.norm,
        reference=src.reference,
        loss=loss,
        start=cfg.start if recipe == "sirenkit" else "siren",
        pool=cfg.pool,
        eval_points=args.eval_points,
        iou_points=args.iou_points,
    )
    model_cfg = cfg.model if recipe == "sirenkit" else ModelConfig(hidden=256, layers=5)
    torch.manual_seed(cfg.train.seed)
    model = model_from_config(model_cfg, task.shape)
    task.init_model(model)
    return task, model


def bench_one(path: Path, variant: str, recipe: str, src, args) -> dict:
    cpu0 = time.process_time()
    cloud = variant_cloud(src.cloud, variant)
    task, model = build(src, cloud, recipe, args)
    setup = time.process_time() - cpu0
    with PeakRss() as mem:
        if recipe == "sirenkit":
            train = FitSdfConfig().train
            if args.steps is not None:
                train = dataclasses.replace(train, steps=args.steps)
            row = train_steps(task, model, train)
        else:
            row = train_for(task, model, args.seconds)
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
    "mesh cpu s",
    "chamfer",
    "hausdorff",
    "normal cons.",
    "iou",
    "components",
]


def goals(rows: list[dict]) -> list[dict]:
    """Per shape, the issue's goals: the authors' Chamfer over sirenkit's (oriented), the
    unoriented Chamfer over the oriented one, the noisy IoU."""
    by = {(r["shape"], r["variant"], r["recipe"]): r for r in rows}
    out = []
    for shape in dict.fromkeys(r["shape"] for r in rows):
        ours = by.get((shape, "oriented", "sirenkit"), {})
        theirs = by.get((shape, "oriented", "authors"), {})
        unoriented = by.get((shape, "unoriented", "sirenkit"), {})
        noisy = by.get((shape, "noisy", "sirenkit"), {})
        out.append(
            {
                "shape": shape,
                "chamfer authors / sirenkit": _ratio(theirs.get("chamfer"), ours.get("chamfer")),
                "chamfer unoriented / oriented": _ratio(
                    unoriented.get("chamfer"), ours.get("chamfer")
                ),
                "noisy iou": noisy.get("iou"),
            }
        )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


GOAL_COLUMNS = [
    "shape",
    "chamfer authors / sirenkit",
    "chamfer unoriented / oriented",
    "noisy iou",
]


def profile(src, args) -> str:
    """Where the CPU time of one default step goes: drawing the points, the forward pass with
    input gradients (the loss), the backward pass (a double backward through the gradient
    terms), Adam; and the same step without the gradient terms, for their price."""
    rows = []
    for label, gradients in (("default", True), ("values only (--no-gradients)", False)):
        cfg = FitSdfConfig()
        cfg.loss = dataclasses.replace(cfg.loss, gradients=gradients)
        task = SdfTask(src.cloud, norm=src.norm, reference=src.reference, loss=cfg.loss)
        torch.manual_seed(0)
        model = model_from_config(cfg.model, task.shape)
        task.init_model(model)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
        gen = torch.Generator().manual_seed(0)
        spent = dict.fromkeys(("draw", "loss (forward + input gradients)", "backward", "adam"), 0.0)
        for step in range(args.profile_steps + 5):
            t0 = time.process_time()
            batch = task.batch(step, gen, cfg.train.batch_size)
            t1 = time.process_time()
            loss, _ = task.loss(model, batch)
            t2 = time.process_time()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            t3 = time.process_time()
            opt.step()
            t4 = time.process_time()
            if step >= 5:  # after the warm-up steps (the derivative plan is learnt on the first)
                for k, dt in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    spent[k] += dt
        total = sum(spent.values())
        row = {"step": label, "cpu ms / step": 1e3 * total / args.profile_steps}
        row |= {k: f"{100 * v / total:.0f}%" for k, v in spent.items()}
        rows.append(row)
    return table(rows, list(rows[0])) + (
        f"\n\n{args.profile_steps} steps of {FitSdfConfig().train.batch_size} surface + as many "
        f"off-surface points on the {src.label}, one thread, process CPU time per phase."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default=None, help="comma-separated stems (default: all)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument(
        "--authors-variants",
        default="oriented",
        help="variants the authors' recipe runs on (it needs normals: given or estimated)",
    )
    ap.add_argument("--seconds", type=float, default=120.0, help="authors' training CPU s")
    ap.add_argument("--steps", type=int, default=None, help="sirenkit steps (default: its own)")
    ap.add_argument("--samples", type=int, default=200_000, help="points drawn from meshes")
    ap.add_argument("--resolution", type=int, default=256, help="mesh resolution for metrics")
    ap.add_argument("--eval-points", type=int, default=100_000)
    ap.add_argument("--iou-points", type=int, default=200_000)
    ap.add_argument("--mesh512", default="armadillo", help="shape also meshed at 512^3")
    ap.add_argument("--json", type=Path, default=None, help="rows, rewritten after each fit")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, help="tables from JSON parts")
    ap.add_argument("--profile", action="store_true", help="profile a step instead")
    ap.add_argument("--profile-steps", type=int, default=40)
    ap.add_argument("--write-docs", action="store_true", help=f"write the table into {DOC}")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"machine: {machine()}; {load()}", flush=True)
    command = "python -m " + " ".join(["benchmarks.sdf", *sys.argv[1:]])
    wanted = None if args.shapes is None else set(args.shapes.split(","))
    paths = [p for p in inputs() if wanted is None or p.stem in wanted]
    if args.profile:
        src = load_source(str(paths[0]), samples=args.samples, padding=0.1, eval_points=1000)
        body = profile(src, args)
        print(body)
        if args.write_docs:
            write_doc_block(DOC, "sdf-profile", body, command)
        return
    rows = []
    for part in args.merge or []:
        rows += json.loads(part.read_text())["rows"]
    for path in [] if args.merge else paths:
        src = load_source(
            str(path), samples=args.samples, padding=0.1, eval_points=args.eval_points
        )
        for variant in args.variants.split(","):
            for recipe in args.recipes.split(","):
                if recipe == "authors" and variant not in args.authors_variants.split(","):
                    continue
                rows.append(bench_one(path, variant, recipe, src, args))
                write_json(
                    args.json,
                    {"machine": machine(), "settings": vars(args) | {"json": None}, "rows": rows},
                )
    body = table(rows, COLUMNS) + "\n\n" + table(goals(rows), GOAL_COLUMNS)
    big = [r for r in rows if "mesh 512 peak MiB" in r]
    if big:
        r = big[0]
        body += (
            f"\n\nMeshing the {r['shape']} fit at 512^3: {r['mesh 512 cpu s']:.0f} CPU s, "
            f"{r['mesh 512 faces']} faces, peak RSS increase {r['mesh 512 peak MiB']:.0f} MiB."
        )
    cpu = sum(r["setup cpu s"] + r["train cpu s"] + r["mesh cpu s"] for r in rows)
    loads = [r["load"] for r in rows]
    body += (
        f"\n\n{len(rows)} fits, {cpu / 60:.0f} CPU minutes in all (setup, training, meshing and "
        f"metrics); 1-minute load during the fits {min(loads):.1f}-{max(loads):.1f} on "
        f"{os.cpu_count()} cores."
    )
    missing = [
        f"{p.stem} {variant} {recipe}"
        for p in paths
        for variant in VARIANTS
        for recipe in RECIPES
        if (recipe == "sirenkit" or variant in args.authors_variants.split(","))
        and not any(
            (r["shape"], r["variant"], r["recipe"]) == (p.stem, variant, recipe) for r in rows
        )
    ]
    if missing:
        body += f" Not measured here: {', '.join(missing)}."
    print(body)
    if args.write_docs:
        write_doc_block(DOC, "sdf-benchmark", body, command)


if __name__ == "__main__":
    main()
