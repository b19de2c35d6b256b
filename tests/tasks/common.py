"""Helpers shared by the task tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    full, run_dir = _full_and_interrupted(make_cfg, runner)
    cfg = make_cfg()
    cfg.resume = run_dir
    _assert_same_end(full, runner(cfg), run_dir)


def assert_stripped_resume_matches_full_run(
    make_cfg: Callable, stripped: tuple[str, ...], runner: Callable = run
) -> Any:
    """A run folder saved before the fields ``stripped`` existed (its config.json without
    them; ``loss.recipe`` names a nested one), stopped by Ctrl-C at step 5 and resumed with
    ``--resume`` alone, ends with the weights of the same run never stopped (``make_cfg``
    sets the fields as the code before them ran: FORMER_DEFAULTS must say the same). Returns
    the resumed run's outcome."""
    full, run_dir = _full_and_interrupted(make_cfg, runner)
    strip_saved_fields(run_dir, stripped)
    resumed = runner(type(make_cfg())(resume=run_dir))
    _assert_same_end(full, resumed, run_dir)
    return resumed


def strip_saved_fields(run_dir: Path, names: tuple[str, ...]) -> None:
    """Remove fields from a run folder's config.json, as a folder written before they existed
    lacks them (``loss.recipe`` names a nested one)."""
    saved = run_dir / "config.json"
    config = json.loads(saved.read_text())
    for name in names:
        *parents, last = name.split(".")
        node = config
        for key in parents:
            node = node[key]
        del node[last]
    saved.write_text(json.dumps(config))


def _full_and_interrupted(make_cfg: Callable, runner: Callable) -> tuple[Any, Path]:
    """An uninterrupted run, and the folder of the same run stopped by Ctrl-C at step 5."""
    full = runner(make_cfg())

    def stop_at_5(step, model):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        runner(make_cfg(), callbacks=[stop_at_5])
    return full, info.value.run_dir


def _assert_same_end(full: Any, resumed: Any, run_dir: Path) -> None:
    assert resumed.run_dir == run_dir
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)
