"""From a command's config to a finished run folder: the driver every ``fit`` command uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from ..errors import SirenkitError, require_positive
from ..nets.registry import model_from_config
from ..runtime import keep_freed_memory
from . import distributed
from .checkpoint import model_from_checkpoint, read_checkpoint
from .config import RunOptions, from_dict, to_dict
from .loop import AUTOCAST_DTYPES, Callback, TrainState, train
from .metrics_log import read_metrics
from .rundir import new_run_dir
from .task import Task

C = TypeVar("C", bound=RunOptions)


@dataclass
class RunOutcome:
    """A finished run: where it is, the trained model and its final metrics."""

    run_dir: Path
    model: nn.Module
    task: Task
    final: dict[str, float]
    train_time: float


def check_train_config(cfg: RunOptions) -> None:
    """Reject nonsensical optimisation settings before any work is done."""
    t = cfg.train
    require_positive("--steps", t.steps)
    require_positive("--lr", t.lr)
    require_positive("--batch-size", t.batch_size, allow_none=True)
    require_positive("--log-every", t.log_every)
    if min(t.eval_every, t.checkpoint_every, t.warmup, t.batch_growth_every, t.batch_doublings) < 0:
        raise SirenkitError(
            "--eval-every, --checkpoint-every, --warmup, --batch-growth-every and "
            "--batch-doublings must be >= 0"
        )
    if not 0 < t.final_lr_factor <= 1:
        raise SirenkitError(f"--final-lr-factor must be in (0, 1], got {t.final_lr_factor}")
    if t.precision not in AUTOCAST_DTYPES:
        raise SirenkitError(
            f"--precision must be one of {', '.join(AUTOCAST_DTYPES)}, got {t.precision!r}"
        )


def run(
    cfg: C,
    task: Task | None = None,
    *,
    callbacks: Sequence[Callback] = (),
) -> RunOutcome:
    """Build the task (``cfg.setup()``, unless an already built ``task`` is given) and the
    network of ``cfg``, train, and write the run folder.

    With ``cfg.resume`` set, the run folder's saved config replaces ``cfg`` and training goes
    on from its checkpoint, ending exactly where an uninterrupted run would. Started by
    torchrun, each process trains its shard (:mod:`sirenkit.training.distributed`) and rank 0
    writes the run folder; the other ranks' outcomes have empty ``final`` metrics.
    """
    with distributed.session(cfg.train.device), keep_freed_memory():
        return _run(cfg, task, callbacks)


def _run(cfg: C, task: Task | None, callbacks: Sequence[Callback]) -> RunOutcome:
    main = distributed.is_main()
    resume_state: TrainState | None = None
    ckpt: dict[str, Any] | None = None
    if cfg.resume is not None:
        run_dir = Path(cfg.resume)
        cfg_path = run_dir / "config.json"
        if not cfg_path.is_file():
            raise SirenkitError(f"--resume: {run_dir} is not a run folder (no config.json)")
        cfg = from_dict(type(cfg), json.loads(cfg_path.read_text()))
        cfg.resume = run_dir
        ckpt = read_checkpoint(run_dir)
        resume_state = TrainState(
            step=int(ckpt["step"]),
            train_time=float(ckpt.get("train_time", 0.0)),
            optimizer=ckpt.get("optimizer"),
            generator=ckpt.get("generator"),
        )
    check_train_config(cfg)
    task = task or cfg.setup()
    if ckpt is not None:
        if ckpt.get("task") != task.name:
            raise SirenkitError(f"--resume: {cfg.resume} is a {ckpt.get('task')!r} run")
        model = model_from_checkpoint(ckpt, cfg.resume)
        if resume_state.step >= cfg.train.steps:
            print(f"{cfg.resume} already finished ({resume_state.step} steps)")
    else:
        torch.manual_seed(cfg.train.seed)
        model = model_from_config(cfg.model, task.shape)
        task.init_model(model)
        run_dir = None
        if main:
            run_dir = new_run_dir(cfg.out, cfg.name or f"{task.name}-{task.label}")
            (run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
        run_dir = distributed.broadcast(run_dir, distributed.current())
    result = train(
        task,
        model,
        cfg.train,
        run_dir,
        resume=resume_state,
        checkpoint_extra={"config": to_dict(cfg)},
        callbacks=callbacks,
    )
    model.eval()
    if not main:
        return RunOutcome(run_dir, model, task, result.final, result.train_time)
    task.write_outputs(model, run_dir)
    summary = {
        "task": task.name,
        "signal": task.label,
        "model": cfg.model.name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": result.steps,
        "train_seconds": round(result.train_time, 3),
        "seconds_per_step": round(result.train_time / max(1, result.steps), 5),
        **result.final,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _plot_history(run_dir, task.headline)
    return RunOutcome(run_dir, model, task, result.final, result.train_time)


def _plot_history(run_dir: Path, headline: str) -> None:
    from ..viz.figures import plot_history

    records = read_metrics(run_dir / "metrics.jsonl")
    if records:
        plot_history(run_dir / "history.png", records, headline)
