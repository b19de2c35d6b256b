"""An exponential moving average of the weights (``TrainConfig.average``).

A fit on small random batches sits on a floor its learning rate sets: each step's noise moves
the weights as far as the signal does. The average of the last few hundred steps' weights
cancels much of that noise while the weights themselves go on learning at the full rate, so
the averaged network is ahead of the trained one whenever the fit is noise-bound (on the bikes
clip 1.1 dB after one clip's worth of pixels, docs/speed.md). Evaluations, callbacks,
checkpoints and the fit's final network take the average; the optimiser steps the trained
weights, which a checkpoint keeps beside it so a resumed run continues exactly.

Not ``torch.optim.swa_utils.AveragedModel``: that keeps the average in a second module, and
here the task's own network must hold it wherever the fit is looked at (tasks, callbacks and
checkpoints take the model the loop trains), so the two sets of tensors are exchanged instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import torch

WARMUP = 10
"""Steps over which the average's decay ramps up, ``min(decay, (1 + t) / (WARMUP + t))``
after step ``t``: early weights are far from later ones and would linger in a full-decay
average for hundreds of steps."""


class WeightAverage:
    """The running average of ``params`` with a per-step ``decay`` (its first value: the
    weights at construction, e.g. a network's initialisation or a resumed run's average)."""

    def __init__(self, params: Iterable[torch.Tensor], decay: float, count: int = 0) -> None:
        self.params = list(params)
        self.decay = decay
        self.count = count
        """Updates so far (the warm-up's ``t``)."""
        self.averaged = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self) -> None:
        """Fold the weights as they now are into the average (after each optimiser step)."""
        self.count += 1
        keep = min(self.decay, (1 + self.count) / (WARMUP + self.count))
        for a, p in zip(self.averaged, self.params, strict=True):
            a.lerp_(p.detach(), 1.0 - keep)

    def _swap(self) -> None:
        for a, p in zip(self.averaged, self.params, strict=True):
            p.data, a.data = a.data, p.data

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """The parameters hold the average inside the block, the trained weights again after
        it (exchanged, not copied: free per step)."""
        self._swap()
        try:
            yield
        finally:
            self._swap()

    @torch.no_grad()
    def finish(self) -> None:
        """Make the average the parameters' values for good (the end of the fit)."""
        for a, p in zip(self.averaged, self.params, strict=True):
            p.copy_(a)

    def state_dict(self) -> dict[str, Any]:
        """The trained weights (the parameters outside :meth:`applied`) and the update count:
        with the average a checkpoint's network holds, what a resumed run continues from."""
        return {"count": self.count, "trained": [p.detach().cpu().clone() for p in self.params]}

    @torch.no_grad()
    def resume(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`, the parameters holding the checkpoint's average:
        that becomes the average and the saved trained weights the parameters again."""
        self.averaged = [p.detach().clone() for p in self.params]
        for p, w in zip(self.params, state["trained"], strict=True):
            p.copy_(w.to(p.device, p.dtype))
        self.count = int(state["count"])
