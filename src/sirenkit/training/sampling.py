"""Error-driven sampling of training points, and a rule for when a fit has stopped paying.

A random batch of pixels is a noisy estimate of the full-batch gradient; most of its noise
comes from the few points whose residual is large (edges, texture). Drawing points with a
probability that grows with their last seen error, and weighting each drawn point's loss by
``1 / (N p_i)``, keeps the loss an unbiased estimate of the full mean squared error while
spending the batch where the error is (importance sampling, as in the soft-mining and
nonparametric-teaching lines of work on neural fields; docs/speed.md has the measurements).

Everything here is a deterministic function of its state and the generator it is given, and
the state travels in the checkpoint, so an interrupted run resumes exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ..errors import SirenkitError
from .task import Task


class ErrorSampler:
    """Draws point indices with probability ``(1 - mix) / N + mix * |r_i| / sum(|r|)``.

    ``|r_i|`` is the (root mean square over channels) error of point ``i`` the last time it was
    in a batch (all equal at the start, so the first draws are uniform). Proportional to
    ``|r|`` rather than ``r^2``: the variance of the weighted gradient estimate is smallest
    when each point is drawn in proportion to its gradient's size, which for a squared error
    grows with ``|r|`` (drawing by ``r^2`` measured no better than uniform, docs/speed.md).
    The uniform share ``1 - mix`` bounds every weight by ``1 / (1 - mix)``, so no point is
    starved or given an unbounded weight.
    """

    def __init__(self, n: int, mix: float = 0.5) -> None:
        if n < 1:
            raise ValueError(f"need at least one point, got {n}")
        if not 0.0 <= mix < 1.0:  # also rejects NaN
            raise SirenkitError(f"--error-mix must be in [0, 1), got {mix}")
        self.n = n
        self.mix = mix
        self.error = torch.ones(n)
        """Last seen root mean square error of every point."""

    def probabilities(self) -> torch.Tensor:
        """The current draw probability of every point (sums to 1)."""
        total = self.error.sum()
        if not torch.isfinite(total) or total <= 0:
            return torch.full((self.n,), 1.0 / self.n)
        return (1.0 - self.mix) / self.n + self.mix * self.error / total

    def draw(self, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``size`` indices drawn with replacement, and each one's loss weight ``1 / (N p)``
        (the weighted mean over a batch is an unbiased estimate of the mean over all points).

        Drawn as the mixture it is: a binomial share ``mix`` of the batch by error, the rest
        uniformly, and the probabilities computed at the drawn points only. Same distribution
        as one draw from :meth:`probabilities`, at a fraction of the cost on large signals (a
        video's 544,000 pixels: 0.7 against 3.8 ms a draw, a quarter of a 1024-pixel step)."""
        total = self.error.sum()
        if self.mix == 0 or not torch.isfinite(total) or total <= 0:
            return torch.randint(self.n, (size,), generator=generator), torch.ones(size)
        error = self.error.cpu()  # the generator is the loop's, on the CPU
        k = int(torch.binomial(torch.tensor(float(size)), torch.tensor(self.mix), generator))
        by_error = (
            torch.multinomial(error, k, replacement=True, generator=generator)
            if k
            else torch.zeros(0, dtype=torch.long)
        )
        idx = torch.cat([by_error, torch.randint(self.n, (size - k,), generator=generator)])
        p = (1.0 - self.mix) / self.n + self.mix * error[idx] / float(total)
        return idx, (1.0 / (self.n * p)).to(self.error.device)

    def observe(self, idx: torch.Tensor | None, squared_error: torch.Tensor) -> None:
        """Record the squared errors just measured at ``idx`` (None: at every point)."""
        e = squared_error.detach().float().reshape(-1).sqrt().to(self.error.device)
        if idx is None:
            self.error.copy_(e)
        else:
            self.error[idx.to(self.error.device)] = e

    def to(self, device: torch.device) -> ErrorSampler:
        self.error = self.error.to(device)
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"error": self.error.cpu().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; ``{}`` is the fresh state (uniform draws)."""
        error = state.get("error", torch.ones(self.n))
        self.error = error.to(self.error.device, torch.float32).clone()


class GainStop:
    """Stop when a target quality is reached, or when quality stops paying for the work.

    Fed ``(work, quality)`` pairs (work in any unit that grows with compute, e.g. full-batch
    equivalents; quality in dB), it says stop once ``quality >= target``, or, with
    ``min_gain`` set, once the curve has flattened: the least-squares slope of quality against
    work over the last ``window`` units of work falls below ``min_gain`` per unit. A slope over
    the whole window, not the best value now against the best one a window ago, so that one
    lucky noisy measurement (a partial batch's estimate) neither ends a rising fit nor keeps a
    flat one going. Work rather than seconds makes the decision reproducible and independent
    of the load. The flat-curve rule judges no measurement before ``start`` units of work: a fit
    whose learning rate has not yet decayed can sit on a floor that rate sets (Muon's,
    docs/speed.md) and climb again once it falls.
    """

    def __init__(
        self,
        target: float | None = None,
        min_gain: float | None = None,
        window: float = 20.0,
        start: float = 0.0,
    ) -> None:
        self.target = target
        self.min_gain = min_gain
        self.window = window
        self.start = start
        self.history: list[tuple[float, float]] = []
        self.reason = ""

    def update(self, work: float, quality: float) -> bool:
        """Record one measurement; True when training should stop (``reason`` says why)."""
        if not math.isfinite(quality):
            return False
        self.history.append((float(work), float(quality)))
        if self.target is not None and quality >= self.target:
            self.reason = f"reached the target {self.target:g}"
            return True
        first = max(self.start, self.history[0][0])
        if self.min_gain is None or work - first < self.window:
            return False
        recent = [(w, q) for w, q in self.history if w >= max(work - self.window, first)]
        if len(recent) < 3:
            return False
        if slope(recent) < self.min_gain:
            self.reason = (
                f"gained less than {self.min_gain:.3g} per unit of work over the last "
                f"{self.window:g} units (--min-gain)"
            )
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"history": [list(h) for h in self.history], "reason": self.reason}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = [(float(w), float(q)) for w, q in state.get("history", [])]
        self.reason = str(state.get("reason", ""))


class PlateauDecay:
    """Lower the learning rate when the training quality flattens (reduce-on-plateau).

    Fed the same ``(work, quality)`` pairs as :class:`GainStop`, it multiplies
    :attr:`factor` by ``cut`` each time the least-squares slope of quality against work over
    the last ``window`` units falls below ``min_gain`` per unit, judging only measurements made
    since its last cut (so each cut is given a window to show its effect). Why: Muon's update
    keeps its size whatever the gradient, so a fit sits on a floor set by the learning rate
    (docs/speed.md); a lower rate lowers the floor at once instead of waiting for the
    schedule's decay. :meth:`rate` applies it to the schedule's rate.

    It acts until ``until`` units of work; after that it keeps the last rate it set until the
    schedule's own rate falls below it. Not back to the schedule's rate at once: a jump up
    raises the floor again, and measured, the fits lost what the cuts had gained
    (docs/speed.md).
    """

    def __init__(
        self,
        min_gain: float,
        window: float = 5.0,
        cut: float = 0.5,
        until: float = math.inf,
    ) -> None:
        if not 0.0 < cut < 1.0:
            raise ValueError(f"cut must be in (0, 1), got {cut}")
        self.min_gain = min_gain
        self.window = window
        self.cut = cut
        self.until = until
        self.factor = 1.0
        self.level = math.inf
        """The last rate set while the rule acted (it caps the rate after)."""
        self.history: list[tuple[float, float]] = []

    def rate(self, scheduled: float, work: float) -> float:
        """The learning rate for a step starting after ``work`` units, given the schedule's."""
        if work < self.until:
            self.level = scheduled * self.factor
            return self.level
        return min(scheduled, self.level)

    def update(self, work: float, quality: float) -> float:
        """Record one measurement; returns the (possibly lowered) factor."""
        if work >= self.until or not math.isfinite(quality):
            return self.factor
        self.history.append((float(work), float(quality)))
        first = self.history[0][0]
        if work - first < self.window:
            return self.factor
        recent = [(w, q) for w, q in self.history if w >= work - self.window]
        if len(recent) >= 3 and slope(recent) < self.min_gain:
            self.factor *= self.cut
            self.history = [self.history[-1]]  # the next judgement starts from the cut
        return self.factor

    def state_dict(self) -> dict[str, Any]:
        return {
            "history": [list(h) for h in self.history],
            "factor": self.factor,
            "level": self.level,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = [(float(w), float(q)) for w, q in state.get("history", [])]
        self.factor = float(state.get("factor", 1.0))
        self.level = float(state.get("level", math.inf))


class TargetCheck:
    """When to check a quality target on the fitted network rather than trust the estimate.

    The training estimate lags the network a run ends with: it is a mean over the last full
    signal's worth of batches of a fit that is still rising, of the trained weights (not their
    average), possibly in bfloat16. On the moon at 256x256 in float32 the averaged network was
    up to 3.5 dB above the estimate (docs/speed.md, "When --target-psnr stops"), and the rule
    that waited for the estimate stopped 12-81 steps late. So the target is checked on
    the fitted network (one inference, about a third of a full batch's training step) once
    the estimate comes within :attr:`first` dB of it, and then whenever the estimate plus the
    offset the last check measured comes within :attr:`slack` dB, at most every
    :attr:`spacing` full signals of work while it falls short (a fit that levels off just
    below its target pays at most one inference per that much work). A target the estimate
    itself reports is always checked, as before.
    """

    first: float = 3.0
    slack: float = 0.5
    spacing: float = 2.0

    def __init__(self) -> None:
        self.offset: float | None = None
        """The fitted network's quality minus the estimate, at the last check."""
        self.last_work: float | None = None
        """The work at the last check."""
        self._judged = 0.0
        # the work of the last measurement judged: one decision per measurement

    def due(self, measurement: tuple[float, float], target: float, reached: bool) -> bool:
        """Whether to check ``target`` at ``measurement`` (``(work, estimate)``, the newest);
        ``reached``: the estimate itself says so."""
        work, estimate = measurement
        if work <= self._judged:
            return False
        self._judged = work
        if reached:
            return True
        if self.last_work is not None and work - self.last_work < self.spacing:
            return False
        if self.offset is None:
            return estimate >= target - self.first
        return estimate + self.offset >= target - self.slack

    def measure(self, value: float, measurement: tuple[float, float]) -> float:
        """Book a check of the fitted network (``value``) at ``measurement``; ``value``."""
        self.offset = value - measurement[1]
        self.last_work = measurement[0]
        return value

    def state_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "last_work": self.last_work, "judged": self._judged}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        offset = state.get("offset")
        self.offset = None if offset is None else float(offset)
        last = state.get("last_work")
        self.last_work = None if last is None else float(last)
        self._judged = float(state.get("judged", 0.0))


class TrainingQuality:
    """The training PSNR of a fit on partial batches, and the rules it drives.

    Fed every step's batch estimate of the mean squared error and the share of the signal the
    batch covered, it measures, after every full signal's worth of points (a full image, a
    whole clip), the PSNR of the mean estimate over that work (exact for full batches, an
    unbiased MSE estimate otherwise, and a conservative one while the fit improves), at no
    extra cost, and hands it to the stopping rule (:class:`GainStop`) and the learning-rate
    cut (:class:`PlateauDecay`, optional). Work is counted in full signals, so both rules
    decide the same on a busy machine and when resumed. Shared by the tasks that train on
    random batches (image, video).
    """

    def __init__(self, stop: GainStop, plateau: PlateauDecay | None = None, peak: float = 4.0):
        self.stop = stop
        self.plateau = plateau
        self.peak = peak
        """Squared peak-to-peak range of the signal (4 for values in [-1, 1])."""
        self.work = 0.0
        """Points trained on so far, in full signals' worth."""
        self._window = [0.0, 0.0]
        # (sum of batch MSE x share, share) since the last measurement
        self.target_check = TargetCheck()
        """When the target (``stop.target``) is checked on the fitted network, and the offset
        of the estimate from that check."""

    def confirm_target(self, exact: Callable[[], float]) -> None:
        """After a measurement, check the target on the fitted network (``exact()``, the
        quality of the network the run would end with) where :class:`TargetCheck` says it
        may be reached: stop (``stop.reason``) if it is, else go on, whatever the estimate
        said."""
        stop = self.stop
        if stop.target is None or not stop.history:
            return
        reached = stop.reason.startswith("reached")
        if not self.target_check.due(stop.history[-1], stop.target, reached):
            return
        value = self.target_check.measure(exact(), stop.history[-1])
        if value >= stop.target:
            stop.reason = f"reached the target {stop.target:g}"
        elif reached:
            stop.reason = ""

    def observe(self, mse: float, share: float) -> bool:
        """Book one step's batch MSE estimate covering ``share`` of the signal; True when the
        stopping rule fired at the measurement this step completed (``stop.reason`` says why)."""
        self.work += share
        self._window[0] += mse * share
        self._window[1] += share
        if self._window[1] < 1.0 - 1e-9:
            return False
        mean = self._window[0] / self._window[1]
        self._window = [0.0, 0.0]
        quality = 10 * math.log10(self.peak / max(mean, 1e-30))
        if self.plateau is not None:
            self.plateau.update(self.work, quality)
        return self.stop.update(self.work, quality)

    def learning_rate(self, scheduled: float) -> float:
        """The schedule's rate, lowered by the plateau rule if there is one."""
        return scheduled if self.plateau is None else self.plateau.rate(scheduled, self.work)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "work": self.work,
            "window": list(self._window),
            "stop": self.stop.state_dict(),
            "target_check": self.target_check.state_dict(),
        }
        if self.plateau is not None:
            state["plateau"] = self.plateau.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.work = float(state.get("work", 0.0))
        self._window = [float(x) for x in state.get("window", (0.0, 0.0))]
        self.stop.load_state_dict(state.get("stop", {}))
        self.target_check.load_state_dict(state.get("target_check", {}))
        if self.plateau is not None:
            self.plateau.load_state_dict(state.get("plateau", {}))


class SampledTask(Task):
    """The hooks of a task that trains on random batches of a signal's points: its sampler's
    state and its :class:`TrainingQuality` (stopping rule, learning-rate cut) travel in the
    checkpoint, the quality's rules answer the loop. Subclasses set ``sampler`` (None for
    uniform draws) and ``quality`` and feed ``quality`` every step's batch loss."""

    sampler: ErrorSampler | None
    quality: TrainingQuality

    @property
    def work(self) -> float:
        """Points trained on so far, in full signals' worth (full-batch equivalents)."""
        return self.quality.work

    def should_stop(self, model: torch.nn.Module) -> str | None:
        return self.quality.stop.reason or None

    def learning_rate(self, scheduled: float) -> float:
        return self.quality.learning_rate(scheduled)

    def state_dict(self) -> dict[str, Any]:
        state = self.quality.state_dict()
        if self.sampler is not None:
            state["sampler"] = self.sampler.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.quality.load_state_dict(state)
        if self.sampler is not None:
            self.sampler.load_state_dict(state.get("sampler", {}))

    def sampled_mse(
        self, model: torch.nn.Module, batch: tuple, points: int
    ) -> tuple[torch.Tensor, bool]:
        """The mean squared error of ``batch`` (``(coords, target, weights, indices)``,
        importance-weighted for an error-driven draw) of a signal of ``points`` points. Books
        the batch's errors in the sampler and its estimate in the quality (the loop calls a
        task's loss once per training step); True when the stopping rule fired."""
        coords, target, weights, idx = batch
        per_point = ((model(coords).float() - target) ** 2).mean(-1)
        mse = batch_mse(per_point, weights)
        if self.sampler is not None:
            self.sampler.observe(idx, per_point)
        return mse, self.quality.observe(float(mse.detach()), per_point.shape[0] / points)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``y`` against ``x`` over ``(x, y)`` points (0 if all x agree)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx if sxx > 0 else 0.0


def draw_batch(
    sampler: ErrorSampler | None, n: int, size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Indices of a batch of ``size`` of ``n`` points and their loss weights: drawn by
    ``sampler``, or uniformly with replacement (weights None: all equal) without one."""
    if sampler is None:
        return torch.randint(n, (size,), generator=generator), None
    return sampler.draw(size, generator)


def batch_mse(per_point: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """The batch's estimate of the mean squared error over all points: the plain mean, or the
    importance-weighted one for an error-driven draw."""
    return per_point.mean() if weights is None else (per_point * weights).mean()
