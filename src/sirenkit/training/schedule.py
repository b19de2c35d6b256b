"""Learning-rate schedules as pure functions of the step (so resuming needs no state)."""

from __future__ import annotations

import math

from .config import TrainConfig


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Learning rate for 0-based ``step`` of ``cfg.steps``."""
    if cfg.warmup > 0 and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    span = max(1, cfg.steps - cfg.warmup - 1)
    t = min(1.0, max(0.0, (step - cfg.warmup) / span))
    lo = cfg.final_lr_factor
    if cfg.schedule == "constant":
        factor = 1.0
    elif cfg.schedule == "cosine":
        factor = lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * t))
    elif cfg.schedule == "exponential":
        factor = lo**t
    else:
        raise ValueError(f"unknown schedule {cfg.schedule!r}")
    return cfg.lr * factor
