"""Helpers shared by the problem tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sirenkit.problems.solve import SolveConfig, SolveModelConfig, SolveTrainConfig


def small_solve_config(
    file: Path,
    out: Path,
    steps: int,
    then_lbfgs: int,
    lr: float = 1e-3,
    model: str = "siren",
    **train: Any,
) -> SolveConfig:
    """``sirenkit solve FILE`` on a small network (a SIREN, or ``model``), evaluating and
    checkpointing every 4 steps (the setting of the resume tests); ``train``: other options."""
    w0 = 2.0 if model == "siren" else None
    return SolveConfig(
        problem=str(file),
        model=SolveModelConfig(name=model, hidden=8, layers=3, w0=w0),
        train=SolveTrainConfig(
            steps=steps,
            then_lbfgs=then_lbfgs,
            lr=lr,
            log_every=2,
            eval_every=4,
            checkpoint_every=4,
            progress=False,
            **train,
        ),
        out=out,
    )
