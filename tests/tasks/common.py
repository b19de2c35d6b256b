"""Helpers shared by the task tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from sirenkit.training import Interrupted, TrainConfig, run


def tiny_train(**overrides) -> TrainConfig:
    """A dozen quiet steps with frequent evaluations and checkpoints."""
    settings = {
        "steps": 12,
        "lr": 1e-3,
        "log_every": 2,
        "eval_every": 4,
        "checkpoint_every": 4,
        "progress": False,
        **overrides,
    }
    return TrainConfig(**settings)


def assert_resume_matches_full_run(make_cfg: Callable, runner: Callable = run) -> None:
    """A run stopped by Ctrl-C at step 5 and resumed ends with the uninterrupted run's weights
    (``runner(cfg, callbacks=...)``: how a command runs its config)."""
    full = runner(make_cfg())

    def stop_at_5(step, model):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        runner(make_cfg(), callbacks=[stop_at_5])
    cfg = make_cfg()
    cfg.resume = info.value.run_dir
    resumed = runner(cfg)
    assert resumed.run_dir == info.value.run_dir
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)
