"""From a command's config to a finished run folder: the driver every ``fit`` command uses."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from ..errors import ForeignRun, SirenkitError, flag, require_finite_options, require_positive
from ..nets.registry import model_from_config
from ..runtime import keep_freed_memory
from . import distributed
from .checkpoint import CHECKPOINT_NAME, model_from_checkpoint, read_checkpoint
from .config import RunOptions, from_dict, to_dict
from .init import apply_init
from .loop import AUTOCAST_DTYPES, Callback, TrainState, resolve_device, train
from .metrics_log import read_metrics
from .optim import is_learned_rate_state
from .rundir import fresh_run_dir
from .task import Task
from .tensorboard_log import open_log, require_tensorboard

C = TypeVar("C", bound=RunOptions)


@dataclass
class RunOutcome:
    """A finished run: where it is, the trained model and its final metrics."""

    run_dir: Path
    model: nn.Module
    task: Task
    final: dict[str, float]
    train_time: float
    stopped: str | None = None
    """Why training ended before its last step, if it did (as summary.json's ``stopped``)."""


def check_train_config(cfg: RunOptions) -> None:
    """Reject nonsensical settings (non-finite numbers, bad ranges, a device this machine
    lacks) before any work is done or any folder is written."""
    require_finite_options(cfg)
    t = cfg.train
    require_positive("--steps", t.steps)
    require_positive("--lr", t.lr)
    require_positive("--first-lr-w0", t.first_lr_w0, allow_none=True)
    require_positive("--batch-size", t.batch_size, allow_none=True)
    require_positive("--log-every", t.log_every)
    counts = (t.eval_every, t.checkpoint_every, t.warmup, t.batch_growth_every, t.batch_doublings)
    if min(*counts, t.batch_ramp, t.bfloat16_steps) < 0:
        raise SirenkitError(
            "--eval-every, --checkpoint-every, --warmup, --batch-growth-every, "
            "--batch-doublings, --batch-ramp and --bfloat16-steps must be >= 0"
        )
    if t.then_lbfgs < 0:
        raise SirenkitError(f"--then-lbfgs must be >= 0, got {t.then_lbfgs}")
    if t.lbfgs_float64_after is not None and t.lbfgs_float64_after < 0:
        raise SirenkitError(f"--lbfgs-float64-after must be >= 0, got {t.lbfgs_float64_after}")
    if t.average is not None and not 0 <= t.average < 1:
        raise SirenkitError(f"--average must be in [0, 1), got {t.average}")
    if t.average is not None and t.then_lbfgs:
        raise SirenkitError("--average averages Adam's noisy steps: not with --then-lbfgs")
    if not 0 < t.final_lr_factor <= 1:
        raise SirenkitError(f"--final-lr-factor must be in (0, 1], got {t.final_lr_factor}")
    if len(t.betas) != 2 or not all(0 <= b < 1 for b in t.betas):
        raise SirenkitError(f"--betas must be two numbers in [0, 1), got {t.betas}")
    if not 0 <= t.hold < 1:  # also rejects NaN
        raise SirenkitError(f"--hold must be in [0, 1), got {t.hold}")
    if t.precision not in AUTOCAST_DTYPES:
        raise SirenkitError(
            f"--precision must be one of {', '.join(AUTOCAST_DTYPES)}, got {t.precision!r}"
        )
    resolve_device(t.device)


def run(
    cfg: C,
    task: Task | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    model: nn.Module | None = None,
) -> RunOutcome:
    """Build the task (``cfg.setup()``, unless an already built ``task`` is given) and the
    network of ``cfg``, train, and write the run folder.

    With ``cfg.resume`` set, the run folder's saved config replaces ``cfg`` and training goes
    on from its checkpoint, ending exactly where an uninterrupted run would (see
    :func:`resumed_config` for the flags a resume may change). Started by torchrun, each
    process trains its shard (:mod:`sirenkit.training.distributed`) and rank 0 writes the run
    folder; the other ranks' outcomes have empty ``final`` metrics.

    ``model``, when given, is the network to train instead of the one ``cfg.model`` names
    (built by :func:`~sirenkit.nets.build_model`, so that checkpoints can rebuild it); a
    resumed run always takes the checkpoint's.
    """
    with distributed.session(cfg.train.device), keep_freed_memory(), _threads(cfg.train.threads):
        return _run(cfg, task, callbacks, model)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """torch's CPU threads set to ``n`` for the run and restored after (None: untouched)."""
    if n is not None and n < 1:
        raise SirenkitError(f"--threads must be >= 1, got {n}")
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


RESUME_MAY_CHANGE = (("train", "progress"), ("train", "device"), ("train", "threads"))
"""Settings a ``--resume`` takes from the command line: they do not change the result."""


def _config_ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _leaves(d: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= _leaves(v, (*prefix, k))
        else:
            out[(*prefix, k)] = v
    return out


def resumed_config(cfg: C, ckpt: dict[str, Any]) -> C:
    """The saved config of the run ``cfg.resume``, with what the command line may change.

    A run resumes with the settings it started with. Flags given with ``--resume`` that
    differ from them are refused (never silently ignored), except ``--progress``,
    ``--device`` and ``--threads``, which do not change the result (beyond rounding), and a
    ``--steps`` beyond the steps done, which extends the run (its learning-rate schedule then
    spans the new count). A folder
    of another command is a :class:`ForeignRun`, before that command's task is built.
    """
    run_dir = Path(cfg.resume)
    saved = json.loads((run_dir / "config.json").read_text())
    ref = saved.pop("_config", None)
    saved.pop("_views", None)
    names = {f.name for f in dataclasses.fields(cfg)}
    # a folder written before the class was recorded: another command's has other fields
    foreign = (ref != _config_ref(type(cfg))) if ref else not set(saved) <= names
    if foreign:
        task = str(ckpt.get("task", "other"))
        article = "an" if task[:1] in "aeiou" else "a"
        raise ForeignRun(f"--resume: {run_dir} is {article} {task} run", ref)
    old = from_dict(type(cfg), saved)
    stored = _leaves(to_dict(old))
    gone = [k for k in _leaves(saved) if k not in stored]
    if gone:
        names = ", ".join(flag(k[-1]) for k in gone)
        raise SirenkitError(
            f"--resume: {run_dir} was written with {names}, which this sirenkit no longer "
            "has, so it cannot go on as it started: start a new run instead"
        )
    try:
        given, default = _leaves(to_dict(cfg)), _leaves(to_dict(type(cfg)()))
    except TypeError:  # a config without defaults: every field was given, compare them all
        given, default = _leaves(to_dict(cfg)), {}
    done = int(ckpt["step"])
    changed = []
    for key, value in given.items():
        if key == ("resume",) or value == default.get(key) or value == stored.get(key):
            continue
        if key in RESUME_MAY_CHANGE:
            setattr(getattr(old, key[0]), key[1], value)
        elif key == ("train", "steps") and value > done:
            print(f"{run_dir}: extending the run from {old.train.steps} to {value} steps")
            old.train.steps = value
        else:
            changed.append(f"{flag(key[-1])} {value} (the run's: {stored.get(key)})")
    if changed:
        hint = f"; it has done {done} steps" if any("--steps " in c for c in changed) else ""
        raise SirenkitError(
            f"--resume continues {run_dir} with its own settings; {', '.join(changed)} would "
            f"change it{hint}: start a new run instead"
        )
    old.resume = run_dir
    return old


def _run(
    cfg: C, task: Task | None, callbacks: Sequence[Callback], given: nn.Module | None
) -> RunOutcome:
    main = distributed.is_main()
    if cfg.resume is not None:
        run_dir = Path(cfg.resume)
        if not (run_dir / "config.json").is_file():
            raise SirenkitError(f"--resume: {run_dir} is not a run folder (no config.json)")
        ckpt = read_checkpoint(run_dir)
        cfg = resumed_config(cfg, ckpt)
        check_train_config(cfg)
        task = task or cfg.setup()
        _check_task_options(cfg, task)
        if ckpt.get("task") != task.name:
            raise SirenkitError(f"--resume: {run_dir} is a {ckpt.get('task')!r} run")
        model = model_from_checkpoint(ckpt, run_dir)
        state = TrainState(
            step=int(ckpt["step"]),
            train_time=float(ckpt.get("train_time", 0.0)),
            optimizer=ckpt.get("optimizer"),
            generator=ckpt.get("generator"),
            task_state=ckpt.get("task_state"),
            average=ckpt.get("average"),
        )
        schedule = cfg.schedule(task)
        if state.step >= schedule.steps + schedule.then_lbfgs:
            return _finished(run_dir, model, task, state)
        return _train(cfg, task, model, run_dir, state, callbacks)
    check_train_config(cfg)
    if cfg.train.log == "tensorboard":
        require_tensorboard()  # before any work or folder
    task = task or cfg.setup()
    _check_task_options(cfg, task)
    if given is None:
        model = fresh_model(cfg, task)
    else:
        torch.manual_seed(cfg.train.seed)  # its batches draw as a built network's run would
        model = given
    rates = None if cfg.init is None else apply_init(model, cfg.init, task.name)
    with contextlib.ExitStack() as stack:
        run_dir = None
        if main:
            name = cfg.name or f"{task.name}-{task.label}"
            run_dir = stack.enter_context(fresh_run_dir(cfg.out, name, CHECKPOINT_NAME))
            saved = {"_config": _config_ref(type(cfg)), "_views": list(task.views), **to_dict(cfg)}
            (run_dir / "config.json").write_text(json.dumps(saved, indent=2) + "\n")
        run_dir = distributed.broadcast(run_dir, distributed.current())
        return _train(cfg, task, model, run_dir, None, callbacks, rates)


def fresh_model(cfg: RunOptions, task: Task) -> nn.Module:
    """The network a new run starts from: seeded by ``--seed``, built as ``cfg.model`` says,
    then initialised by the task (a benchmark that trains a run's side builds it here too, so
    it starts where the CLI does)."""
    torch.manual_seed(cfg.train.seed)
    model = model_from_config(cfg.model, task.shape)
    task.init_model(model)
    return model


def _check_task_options(cfg: RunOptions, task: Task) -> None:
    """Options only some tasks can follow, checked once the task is built (before any work)."""
    if cfg.train.lbfgs_float64_after is not None and not task.follows_model_dtype:
        raise SirenkitError(
            f"--lbfgs-float64-after: the {task.name} task's loss does not follow the network's "
            "dtype (problems posed with sirenkit solve do)"
        )


def _finished(run_dir: Path, model: nn.Module, task: Task, state: TrainState) -> RunOutcome:
    """A resumed run that has nothing left to do: say so and touch nothing."""
    print(f"{run_dir} already finished its {state.step} steps; nothing to do")
    evals = [r for r in read_metrics(run_dir / "metrics.jsonl") if r.get("eval")]
    final = {k: v for k, v in (evals[-1] if evals else {}).items() if k not in _NOT_METRICS}
    model.eval()
    return RunOutcome(run_dir, model, task, final, state.train_time)


_NOT_METRICS = ("step", "time", "eval")


def _train(
    cfg: C,
    task: Task,
    model: nn.Module,
    run_dir: Path,
    resume: TrainState | None,
    callbacks: Sequence[Callback],
    rates: list[torch.Tensor] | None = None,
) -> RunOutcome:
    """Train (from scratch or from ``resume``) and write the outputs into ``run_dir``;
    ``rates``: the learned step sizes of a ``--init`` run (see :func:`apply_init`)."""
    main = distributed.is_main()
    learned = rates is not None or is_learned_rate_state(resume.optimizer if resume else None)
    if learned and main:
        print(f"--init {cfg.init}: fitting with its learned step sizes (SGD), not Adam")
    start = resume.step if resume else 0
    tb = open_log(cfg.train.log, run_dir, cfg.train.log_every, start) if main else None
    result = train(
        task,
        model,
        cfg.schedule(task),
        run_dir,
        resume=resume,
        checkpoint_extra={"config": to_dict(cfg)},
        callbacks=[*callbacks, tb] if tb else callbacks,
        rates=rates,
    )
    model.eval()
    if not main:
        return RunOutcome(run_dir, model, task, result.final, result.train_time, result.stopped)
    task.write_outputs(model, run_dir)
    summary = {
        "task": task.name,
        "signal": task.label,
        "model": cfg.model.name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": result.steps,
        "train_seconds": round(result.train_time, 3),
        "seconds_per_step": round(result.train_time / max(1, result.steps), 5),
        **({"stopped": result.stopped} if result.stopped else {}),
        **({"lbfgs_float64_from": result.float64_from} if result.float64_from is not None else {}),
        **({"optimizer": f"learned step sizes of --init {cfg.init} (SGD)"} if learned else {}),
        **result.final,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _plot_history(run_dir, task.headline)
    if tb:
        tb.finish(result.steps)
    return RunOutcome(run_dir, model, task, result.final, result.train_time, result.stopped)


def _plot_history(run_dir: Path, headline: str) -> None:
    from ..viz.figures import plot_history

    records = read_metrics(run_dir / "metrics.jsonl")
    if records:
        plot_history(run_dir / "history.png", records, headline)
