"""Wave physics: error against the numerical references after a fixed training budget.

For each problem a network is trained with the command's defaults (``--steps``, ``--hidden`` and
``--layers`` override them for every problem) and scored against an independent solution:

- Helmholtz (k, PML as in the paper): relative L2 and MSE of the complex field against the
  finite-difference reference inside the physical domain, for each ``--models`` network; the
  reference's own error against the Hankel solution is printed too.
- Wave equation: relative L2 against the leapfrog reference over all snapshot times, for a
  uniform medium and a slow block.
- FWI on generated data (disc of speed 1.2 by default): relative L2 of the recovered speed in
  the region of interest, next to the error of the background model (speed 1 everywhere).

    python -m benchmarks.waves [--steps 1000] [--models siren tanh relu relu_pe] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import machine, table, write_json
from sirenkit.nets.registry import list_models
from sirenkit.tasks.fwi import InvertFWIConfig
from sirenkit.tasks.helmholtz import SolveHelmholtzConfig
from sirenkit.tasks.wave import SolveWaveConfig
from sirenkit.training.run import run


def _train(cfg, steps: int | None, out: Path) -> dict[str, Any]:
    cfg.out = out
    cfg.train.steps = steps or cfg.train.steps
    cfg.train.eval_every = 0
    cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = run(cfg)
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    summary["wall_seconds"] = time.perf_counter() - t0
    summary["cpu_seconds"] = time.process_time() - c0
    summary["run_dir"] = str(outcome.run_dir)
    return summary


def _jsonable(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}


def _size(cfg, args) -> None:
    """The network size and wavenumber from the flags; the command's default where a flag is
    not given."""
    if args.hidden is not None:
        cfg.model.hidden = args.hidden
    if args.layers is not None:
        cfg.model.layers = args.layers
    if args.k is not None and hasattr(cfg, "k"):
        cfg.k = args.k


def helmholtz_rows(steps: int | None, models: list[str], out: Path, args) -> list[dict[str, Any]]:
    rows = []
    for name in models:
        cfg = SolveHelmholtzConfig()
        cfg.reference_grid = args.grid or cfg.reference_grid
        cfg.model.name = name
        _size(cfg, args)
        s = _train(cfg, steps, out)
        check = Path(s["run_dir"]) / "reference_check.json"
        ref = json.loads(check.read_text()) if check.exists() else {}
        rows.append(
            {
                "problem": f"helmholtz k={cfg.k:g}",
                "model": name,
                "steps": s["steps"],
                "s/step": s["seconds_per_step"],
                "CPU s": s["cpu_seconds"],
                "rel L2": s["rel_l2"],
                "MSE": s["mse"],
                "FD vs Hankel": ref.get("reference_vs_hankel_rel_l2"),
            }
        )
        print(rows[-1], flush=True)
    return rows


def wave_rows(steps: int | None, out: Path, args) -> list[dict[str, Any]]:
    rows = []
    for medium in ("uniform", "block"):
        cfg = SolveWaveConfig()
        cfg.media.medium = medium
        cfg.media.medium_speed = 0.6
        cfg.media.medium_size = 0.3
        _size(cfg, args)
        s = _train(cfg, steps, out)
        rows.append(
            {
                "problem": f"wave, {medium}"
                + (" (speed 0.6, half-width 0.3)" if medium == "block" else ""),
                "model": "siren",
                "steps": s["steps"],
                "s/step": s["seconds_per_step"],
                "CPU s": s["cpu_seconds"],
                "rel L2": s["rel_l2"],
                "MSE": s["mse"],
                "rel L2 at T": s["rel_l2_final"],
            }
        )
        print(rows[-1], flush=True)
    return rows


def fwi_rows(steps: int | None, out: Path, args) -> list[dict[str, Any]]:
    cfg = InvertFWIConfig()
    cfg.data_grid = args.grid or cfg.data_grid
    _size(cfg, args)
    if steps:  # keep the defaults' share of pretraining (2000 of 5000 steps)
        cfg.pretrain_steps = steps * cfg.pretrain_steps // cfg.train.steps
    s = _train(cfg, steps, out)
    row = {
        "problem": f"FWI k={cfg.k:g}, disc speed 1.2 r=0.2, 5 sources, 30 receivers",
        "model": "siren",
        "steps": s["steps"],
        "s/step": s["seconds_per_step"],
        "CPU s": s["cpu_seconds"],
        "velocity rel L2": s["velocity_rel_l2"],
        "background rel L2": s["background_velocity_rel_l2"],
        "data rel L2": s["data_rel_l2"],
    }
    print(row, flush=True)
    return [row]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=None, help="default: each command's")
    ap.add_argument("--k", type=float, default=None, help="default: the command's")
    ap.add_argument(
        "--grid",
        type=int,
        default=None,
        help="finite-difference nodes per side (default: the command's)",
    )
    ap.add_argument("--hidden", type=int, default=None, help="default: the command's")
    ap.add_argument("--layers", type=int, default=None, help="default: the command's")
    ap.add_argument("--models", nargs="+", default=["siren", "tanh", "relu", "relu_pe"])
    ap.add_argument("--problems", nargs="+", default=["helmholtz", "wave", "fwi"])
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--out", type=Path, default=None, help="keep run folders here")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = [m for m in args.models if m in list_models()]
    skipped = sorted(set(args.models) - set(models))
    print(f"machine: {machine()}")
    if skipped:
        print(f"not registered (skipped): {', '.join(skipped)}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        if "helmholtz" in args.problems:
            rows += helmholtz_rows(args.steps, models, out, args)
        if "wave" in args.problems:
            rows += wave_rows(args.steps, out, args)
        if "fwi" in args.problems:
            rows += fwi_rows(args.steps, out, args)
    cols = ["problem", "model", "steps", "s/step", "CPU s", "rel L2", "MSE", "rel L2 at T",
            "FD vs Hankel", "velocity rel L2", "background rel L2", "data rel L2"]  # fmt: skip
    print(table(rows, cols))
    write_json(args.json, {"machine": machine(), "settings": _jsonable(vars(args)),
                           "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()
