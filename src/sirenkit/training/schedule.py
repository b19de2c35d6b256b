"""Learning-rate and batch-size schedules as pure functions of the step (so resuming needs no
state)."""

from __future__ import annotations

import math

from .config import TrainConfig


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Learning rate for 0-based ``step`` of ``cfg.steps``."""
    if cfg.warmup > 0 and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    held = round(cfg.hold * (cfg.steps - cfg.warmup))
    span = max(1, cfg.steps - cfg.warmup - held - 1)
    t = min(1.0, max(0.0, (step - cfg.warmup - held) / span))
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


def batch_size_at(cfg: TrainConfig, step: int) -> int | None:
    """Points for 0-based ``step``: ``cfg.batch_size``, doubled every ``batch_growth_every``
    steps, and None (the task's full batch) after ``batch_doublings`` doublings; the first
    ``batch_growth_every`` steps ramp up to ``batch_size`` from ``batch_ramp`` halvings below
    it, in equal parts."""
    if cfg.batch_size is None or cfg.batch_growth_every <= 0:
        return cfg.batch_size
    if step < cfg.batch_growth_every and cfg.batch_ramp > 0:
        part = step * (cfg.batch_ramp + 1) // cfg.batch_growth_every
        return max(1, cfg.batch_size >> (cfg.batch_ramp - part))
    doublings = step // cfg.batch_growth_every
    if doublings >= cfg.batch_doublings:
        return None
    return cfg.batch_size * 2**doublings


def work_until(
    cfg: TrainConfig,
    step: int,
    points: int,
    full_batch: int | None = None,
    halve_at: int | None = None,
) -> float:
    """Full signals' worth of points (of ``points`` in all) trained on in the first ``step``
    steps of ``cfg``'s batch schedule; a step the schedule gives no size (None) trains on
    ``full_batch`` points (default: all of them), and a task that halves its batches from
    step ``halve_at`` on (``fit video --halve-batch-at``) trains on half."""
    full = points if full_batch is None else full_batch
    work = 0.0
    for s in range(step):
        b = batch_size_at(cfg, s) or full
        work += min(1.0, (b // 2 if halve_at is not None and s >= halve_at else b) / points)
    return work


JUDGE_FROM = 0.75
"""Share of a run's steps before which a flat-curve stop (``--min-gain``) judges nothing. At
half the steps a cosine schedule is still at half its peak, and a long run's fit can sit on
the floor that rate sets and climb again (a 512x512 cameraman at ``--steps 600`` was stopped
at 32.6 dB at step 1360 of 2400, docs/speed.md); at three quarters the rate is 15% of it."""


def judging_from(
    cfg: TrainConfig, points: int, full_batch: int | None = None, halve_at: int | None = None
) -> float:
    """The work (as :func:`work_until`) after which ``cfg``'s run may be judged flat."""
    return work_until(cfg, round(JUDGE_FROM * cfg.steps), points, full_batch, halve_at)
