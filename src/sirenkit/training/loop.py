"""The training loop every task shares: Adam, schedule, logging, checkpoints, resume; then an
optional L-BFGS phase (``TrainConfig.then_lbfgs``), checkpointed and resumed the same way."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import SirenkitError
from ..nets.siren import bfloat16_backward
from . import distributed
from .average import WeightAverage
from .bfgs import BFGS, BFGS_MAX_WEIGHTS
from .checkpoint import CHECKPOINT_NAME, save_checkpoint
from .config import TrainConfig
from .metrics_log import MetricsLog
from .optim import LearnedRateSGD, MuonAdam, is_learned_rate_state, param_groups
from .precision import MIN_SPEEDUP, bfloat16_speedup
from .schedule import batch_size_at, learning_rate
from .task import Task

Callback = Callable[[int, nn.Module], None]


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; a named device must exist here
    (a one-line :class:`SirenkitError` otherwise, before any work is done)."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SirenkitError(
            f"--device {name!r} is not a device; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            why = "no GPU found" if torch.version.cuda else "this torch is built without CUDA"
            raise SirenkitError(f"--device {name}: CUDA is not available ({why})")
        if device.index is not None and device.index >= count:
            raise SirenkitError(f"--device {name}: only {count} CUDA device(s) here")
    elif device.type == "mps" and not _mps_available():
        raise SirenkitError(f"--device {name}: Apple's MPS is not available here")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise SirenkitError(f"--device {name}: sirenkit runs on auto, cpu, cuda, cuda:N or mps")
    return device


AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {
    "float32": None,
    "bfloat16": torch.bfloat16,
    "bfloat16-backward": None,
}
"""``TrainConfig.precision`` -> the autocast dtype of the training forward pass (None: off)."""

LOW_BACKWARD = "bfloat16-backward"
"""The precision whose forward pass is float32 and whose sine layers' backward products are
bfloat16 (:func:`~sirenkit.nets.siren.bfloat16_backward`)."""


@dataclass
class TrainState:
    """What a checkpoint needs beyond the weights to continue exactly where it stopped."""

    step: int = 0
    train_time: float = 0.0
    optimizer: dict[str, Any] | None = None
    generator: torch.Tensor | None = None
    task_state: dict[str, Any] | None = None
    average: dict[str, Any] | None = None
    """The trained weights behind a checkpoint's averaged network (``TrainConfig.average``)."""


@dataclass
class TrainResult:
    steps: int
    train_time: float
    final: dict[str, float] = field(default_factory=dict)
    stopped: str | None = None
    """Why training ended before ``cfg.steps`` (the task's :meth:`Task.should_stop`), if it did."""
    float64_from: int | None = None
    """The L-BFGS iteration from which the phase ran in float64 (``lbfgs_float64_after``), if
    it switched in this session (a run resumed after the switch does not know it)."""


def _optimizer(
    model: nn.Module,
    cfg: TrainConfig,
    rates: Sequence[torch.Tensor] | None,
    saved: dict[str, Any] | None,
    extra: Sequence[nn.Parameter] = (),
    bfloat16_pays: bool = True,
) -> torch.optim.Optimizer | MuonAdam:
    """Adam (or, under ``--optimizer muon``, :class:`MuonAdam`, orthogonalising in float32
    where bfloat16 does not pay) on the network's parameters and ``extra`` (the task's own),
    the first layer in a group of its own under ``cfg.first_lr_w0``
    (:func:`~sirenkit.training.optim.param_groups`); or the learned-rate steps of a learned
    initialisation (given, or, on resume, named by the saved optimiser state, which then
    restores the rates), which are per weight already."""
    if rates is None and is_learned_rate_state(saved):
        rates = [torch.zeros_like(p) for p in model.parameters()]
    if rates is not None:
        if extra:
            raise SirenkitError("--init: a task with parameters of its own cannot take it")
        return LearnedRateSGD(model.parameters(), rates, lr=cfg.lr, peak=cfg.lr)
    groups = param_groups(model, extra, cfg.first_lr_w0)
    if cfg.optimizer == "muon":
        low = torch.bfloat16 if bfloat16_pays else torch.float32
        return MuonAdam(groups, lr=cfg.lr, betas=cfg.betas, ns_dtype=low)
    return torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas)


def _bfloat16_speedup(cfg: TrainConfig, device: torch.device, ctx: Any) -> float | None:
    """How many times faster bfloat16 products are than float32 ones on ``device``
    (:func:`~sirenkit.training.precision.bfloat16_speedup`; rank 0 measures for all ranks),
    measured only where ``cfg`` computes in bfloat16: its precision phases, Muon's
    orthogonalisation (None otherwise)."""
    if cfg.precision == "float32" and cfg.bfloat16_steps == 0 and cfg.optimizer != "muon":
        return None
    main = ctx is None or ctx.main
    return distributed.broadcast(bfloat16_speedup(device) if main else None, ctx)


def _float32_unless_bfloat16_pays(
    cfg: TrainConfig, speedup: float | None, device: torch.device, main: bool
) -> TrainConfig:
    """``cfg``, or the same in float32 throughout (its precision phases; the loop also
    orthogonalises Muon's steps in float32) where bfloat16 products are not at least
    :data:`MIN_SPEEDUP` times faster, said once. The saved config keeps what was asked: a
    resumed run re-measures."""
    if speedup is None or speedup >= MIN_SPEEDUP:
        return cfg
    if main:
        phases = cfg.precision != "float32" or cfg.bfloat16_steps > 0
        what = [f"--precision {cfg.precision} and --bfloat16-steps {cfg.bfloat16_steps}"] * phases
        what += ["Muon's orthogonalisation"] * (cfg.optimizer == "muon")
        print(
            f"sirenkit: bfloat16 products are not faster than float32 on this {device.type} "
            f"({speedup:.2f}x): float32 instead for {' and '.join(what)}",
            file=sys.stderr,
        )
    return dataclasses.replace(cfg, precision="float32", bfloat16_steps=0)


class Interrupted(Exception):
    """Training stopped by the user; a checkpoint at ``step`` was written."""

    def __init__(self, step: int, run_dir: Path) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step
        self.run_dir = run_dir


def train(
    task: Task,
    model: nn.Module,
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: TrainState | None = None,
    checkpoint_extra: dict[str, Any] | None = None,
    callbacks: Sequence[Callback] = (),
    rates: Sequence[torch.Tensor] | None = None,
) -> TrainResult:
    """Optimise ``model`` on ``task`` for ``cfg.steps`` steps, writing into ``run_dir``.

    Arguments:
        task: the problem (batches, loss, metrics, outputs).
        model: the network, already seeded and built; moved to ``cfg.device``.
        cfg: optimiser, schedule, logging and checkpoint settings.
        run_dir: an existing folder for ``metrics.jsonl`` and ``checkpoint.pt``.
        resume: state read from a checkpoint of this run, to continue it.
        checkpoint_extra: JSON-able data stored in every checkpoint (the run's config).
        callbacks: called as ``fn(step, model)`` after each completed step (1-based count);
            under ``cfg.average`` the model holds the average of its weights during the call.
        rates: learned step sizes, one tensor per parameter of ``model`` (a learned
            initialisation's, :func:`~sirenkit.training.init.apply_init`): the fit takes
            :class:`~sirenkit.training.optim.LearnedRateSGD` steps instead of Adam's.

    Returns:
        Steps done, training seconds (evaluation and I/O excluded) and the final metrics.

    Under a process group (torchrun; see :mod:`sirenkit.training.distributed`) every rank
    trains a DistributedDataParallel copy on its shard of each batch; only rank 0 writes, and
    only rank 0 returns final metrics.

    Raises:
        Interrupted: on Ctrl-C, after writing a checkpoint of the last completed step.
    """
    ctx = distributed.current()
    main = ctx is None or ctx.main
    device = distributed.local_device(resolve_device(cfg.device), ctx)
    model.to(device)
    task.to(device)
    model.train()
    net = distributed.wrap(model, ctx, device)
    speedup = _bfloat16_speedup(cfg, device, ctx)
    cfg = _float32_unless_bfloat16_pays(cfg, speedup, device, main)
    pays = speedup is None or speedup >= MIN_SPEEDUP
    saved = resume.optimizer if resume else None
    optimizer = _optimizer(model, cfg, rates, saved, task.parameters(), pays)
    low = AUTOCAST_DTYPES[cfg.precision]
    generator = torch.Generator().manual_seed(cfg.seed)
    state = resume or TrainState()
    total = cfg.steps + cfg.then_lbfgs
    lbfgs: _LBFGSPhase | None = None

    def start_lbfgs() -> torch.optim.Optimizer:
        nonlocal lbfgs
        lbfgs = _LBFGSPhase(task, net, model, cfg, device, low)
        return lbfgs.optimizer

    # a task object may train several networks in turn (sirenkit compare): each run starts
    # from the task's fresh state, or from the checkpoint's
    task.load_state_dict(resume.task_state if resume and resume.task_state is not None else {})
    if resume is not None:
        if resume.step > cfg.steps:  # the checkpoint holds the L-BFGS phase's state
            optimizer = start_lbfgs()
        if resume.optimizer is not None:
            optimizer.load_state_dict(resume.optimizer)
        if resume.generator is not None:
            generator.set_state(resume.generator)
    average = None if cfg.average is None else WeightAverage(model.parameters(), cfg.average)
    if average is not None and resume is not None and resume.average is not None:
        average.resume(resume.average)  # the model holds the checkpoint's average
    if main:
        log = MetricsLog(run_dir / "metrics.jsonl", resume_step=state.step if resume else None)

    def as_fitted() -> contextlib.AbstractContextManager:
        """The network the fit stands at: the average of the weights, if it keeps one."""
        return contextlib.nullcontext() if average is None else average.applied()

    def checkpoint(step: int, task_state: dict[str, Any] | None = None) -> None:
        if not main:
            return
        trained = {} if average is None else {"average": average.state_dict()}
        with as_fitted():
            save_checkpoint(
                run_dir / CHECKPOINT_NAME,
                model,
                step=step,
                train_time=state.train_time,
                optimizer=optimizer.state_dict(),
                generator=generator.get_state(),
                task_state=task.state_dict() if task_state is None else task_state,
                task=task.name,
                task_meta=task.meta(),
                renderer=task.renderer,
                **trained,
                **(checkpoint_extra or {}),
            )

    def evaluate(step: int) -> dict[str, float]:
        if not main:
            return {}
        model.eval()
        with as_fitted():
            metrics = task.evaluate(model)
        model.train()
        log.write({"step": step, "time": state.train_time, "eval": True, **metrics})
        return metrics

    bar = tqdm(
        total=total,
        initial=state.step,
        disable=not (cfg.progress and main),
        dynamic_ncols=True,
        desc=f"{task.name}:{task.label}",
        unit="step",
    )
    step = state.step
    consistent = True  # weights and optimizer match `step` (False only inside optimizer.step)
    gen_before = generator.get_state()
    task_before = None
    # A task's own stop and rate are judged on each rank's shard: rank 0 decides for every rank
    # (a rank that left the loop alone would hang the others), one broadcast per step and hook,
    # and none for the hooks a task leaves as the contract's (which answer alike everywhere).
    agree_stop = ctx is not None and type(task).should_stop is not Task.should_stop
    agree_rate = ctx is not None and type(task).learning_rate is not Task.learning_rate

    def should_stop() -> str | None:
        """The task's answer, asked of the network as fitted (call it under as_fitted())."""
        stop = task.should_stop(model)
        return distributed.broadcast(stop, ctx) if agree_stop else stop

    with as_fitted():
        stopped = should_stop()  # a resumed run that had stopped early stays stopped
    try:
        while step < total and stopped is None:
            t0 = time.perf_counter()
            gen_before = generator.get_state()
            task_before = task.state_dict()
            if step >= cfg.steps:
                if lbfgs is None:
                    optimizer = start_lbfgs()
                lr = 1.0
                consistent = False
                loss, scalars = lbfgs.step(step - cfg.steps)
                optimizer = lbfgs.optimizer  # a fresh one after the switch to float64
                consistent = True
            else:
                lr = task.learning_rate(learning_rate(cfg, step))  # the task may lower it
                lr = distributed.broadcast(lr, ctx) if agree_rate else lr
                for group in optimizer.param_groups:  # a first layer's own rate: lr_scale
                    group["lr"] = lr * group.get("lr_scale", 1.0)
                batch = task.batch(step, generator, batch_size_at(cfg, step))
                batch = distributed.shard_batch(batch, ctx)
                dtype = torch.bfloat16 if step < cfg.bfloat16_steps else low
                low_backward = dtype is None and cfg.precision == LOW_BACKWARD
                with (
                    torch.autocast(device.type, dtype=dtype, enabled=dtype is not None),
                    bfloat16_backward(low_backward),
                ):
                    loss, scalars = task.loss(net, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                distributed.average_gradients(task.parameters(), ctx)
                consistent = False
                optimizer.step()
                if average is not None:
                    average.update()
                consistent = True
            gen_before = generator.get_state()
            task_before = None  # the step is complete: the task's current state is its state
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            state.train_time += time.perf_counter() - t0
            step += 1
            state.step = step
            if step % cfg.log_every == 0 or step == total:
                scalars = distributed.mean_over_ranks({**scalars, "loss": loss.detach()}, ctx)
                record = {
                    "step": step,
                    "time": state.train_time,
                    "lr": lr,
                    "loss": float(scalars.pop("loss")),
                }
                record.update({k: float(v) for k, v in scalars.items()})
                if main:
                    log.write(record)
                bad = [k for k, v in record.items() if not math.isfinite(v)]
                if bad:
                    bar.close()
                    raise SirenkitError(
                        f"training diverged: {', '.join(bad)} not finite by step {step} (a "
                        "residual outside its function's domain, e.g. log or sqrt of a "
                        "negative, or a learning rate too high: try a lower --lr); a periodic "
                        "checkpoint written before it is kept"
                    )
                shown = {"loss": f"{record['loss']:.3e}"}
                if task.headline in record and task.headline != "loss":  # not as 0.00
                    shown[task.headline] = f"{record[task.headline]:.4g}"
                bar.set_postfix(shown, refresh=False)
            bar.update(1)
            if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
                evaluate(step)
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                checkpoint(step)
            with as_fitted():
                for fn in callbacks:
                    fn(step, model)
                stopped = should_stop()
            if stopped is None and lbfgs is not None and lbfgs.stalled:
                stopped = f"L-BFGS stalled: iteration {step - cfg.steps} left the weights unchanged"
    except KeyboardInterrupt:
        bar.close()
        if consistent:  # else keep the last periodic checkpoint: the weights are half-updated
            generator.set_state(gen_before)
            checkpoint(step, task_before)
        raise Interrupted(step, run_dir) from None
    bar.close()
    if average is not None:
        average.finish()  # the fit's network is the average from here on
    final = evaluate(step)
    checkpoint(step)
    float64_from = lbfgs.float64_from if lbfgs is not None else None
    return TrainResult(step, state.train_time, final, stopped, float64_from)


class _LBFGSPhase:
    """L-BFGS (strong-Wolfe line search) on one fixed batch, one iteration per loop step.

    The batch is drawn from its own seeded generator, so a resumed run sees the same one. The
    closure remembers its last evaluation: each iteration starts where the previous line search
    ended, so that point's loss and gradient are reused instead of computed again. An iteration
    that leaves the weights as they were leaves L-BFGS's whole state as it was too, so every
    later one would repeat it at the cost of a full line search: :attr:`stalled` says so.
    """

    def __init__(
        self,
        task: Task,
        net: nn.Module,
        model: nn.Module,
        cfg: TrainConfig,
        device: torch.device,
        low: torch.dtype | None,
    ) -> None:
        self.task, self.net, self.device, self.low = task, net, device, low
        self.params = [p for p in [*model.parameters(), *task.parameters()] if p.requires_grad]
        self.quasi_newton = cfg.quasi_newton
        n = sum(p.numel() for p in self.params)
        if cfg.quasi_newton == "bfgs" and n > BFGS_MAX_WEIGHTS:
            raise SirenkitError(
                f"--quasi-newton bfgs keeps an n x n matrix: {n} weights is more than "
                f"{BFGS_MAX_WEIGHTS}; use lbfgs"
            )
        self.optimizer = self._lbfgs()
        fixed = torch.Generator().manual_seed(cfg.seed + 1)
        # a task may choose this batch itself (e.g. points where the residual is large)
        make = getattr(task, "fixed_batch", None)
        self.batch = make(fixed) if make is not None else task.batch(cfg.steps, fixed, None)
        self._last: tuple[torch.Tensor, list, torch.Tensor, dict] | None = None
        self.stalled = False
        """The last iteration left the weights unchanged (bit for bit): nothing more to gain."""
        self.float64_after = cfg.lbfgs_float64_after
        self.float64_from: int | None = None
        """The iteration from which this phase ran in float64, once it switched."""

    def to_float64(self) -> bool:
        """Go on in float64 (``TrainConfig.lbfgs_float64_after``): the weights and the task's
        unknowns cast in place, a fresh L-BFGS memory (its history is float32 rounding). The
        task keeps its batch (its loss takes the points in the network's dtype). Returns
        whether anything was cast (False: already float64)."""
        if all(p.dtype == torch.float64 for p in self.params):
            return False
        for p in self.params:
            p.data = p.data.to(torch.float64)
        # float64 goes below float32's rounding: torch's defaults (stop at a gradient of 1e-7,
        # end the line search's zoom at a step change of 1e-9) would end it there
        self.optimizer = self._lbfgs(tolerance_grad=1e-12, tolerance_change=0.0)
        self._last = None
        return True

    def _lbfgs(self, **tolerances: float) -> torch.optim.LBFGS:
        # max_eval bounds the line search too (to max_eval minus the one evaluation at the
        # start): LBFGS's default for max_iter=1 leaves it none, so every step would fail.
        kind = BFGS if self.quasi_newton == "bfgs" else torch.optim.LBFGS
        return kind(
            self.params,
            lr=1.0,
            max_iter=1,
            max_eval=26,
            line_search_fn="strong_wolfe",
            **tolerances,
        )

    def _closure(self) -> torch.Tensor:
        flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        if self._last is not None and torch.equal(flat, self._last[0]):
            _, grads, loss, _ = self._last
            for p, g in zip(self.params, grads, strict=True):
                p.grad = None if g is None else g.clone()
            return loss
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=self.low, enabled=self.low is not None):
            loss, scalars = self.task.loss(self.net, self.batch)
        loss.backward()
        grads = [None if p.grad is None else p.grad.clone() for p in self.params]
        self._last = (flat, grads, loss.detach(), scalars)
        return loss.detach()

    def step(self, iteration: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Iteration ``iteration`` (from 0); the loss and logged scalars at the point it
        started from. With ``lbfgs_float64_after`` set, the phase goes on in float64 from that
        iteration, or after the first one that stalls."""
        switch = self.float64_after
        if switch is not None and iteration >= switch and self.to_float64():
            self.float64_from = iteration
        loss = self._closure()
        start, _, _, scalars = self._last
        self.optimizer.step(self._closure)
        now = torch.cat([p.detach().reshape(-1) for p in self.params])
        self.stalled = torch.equal(start, now)
        if self.stalled and switch is not None and self.to_float64():
            self.float64_from = iteration + 1
            self.stalled = False
        return loss, scalars
