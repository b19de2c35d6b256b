"""Fair comparisons: give every baseline about as many parameters as the SIREN it faces.

With ``ModelConfig.param_match`` on (the default), a baseline's hidden width is not ``--hidden``
but the width whose parameter count is closest to that of the SIREN with the same ``--hidden``
and ``--layers`` for the same task. The count is that of trainable numbers: a complex weight
(WIRE) counts as two, fixed buffers (the Fourier-feature matrix, the positional-encoding
bands) count as none. Candidate networks are built on PyTorch's ``meta`` device, which
allocates nothing and draws no random numbers, so matching is cheap and leaves the seeded
initialisation of the real network untouched.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .config import ModelConfig
from .registry import TaskShape


def parameter_count(model: nn.Module) -> int:
    """Trainable real numbers in ``model`` (complex parameters count twice)."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


def _count(cls: type[nn.Module], kwargs: dict[str, Any]) -> int:
    with torch.device("meta"):
        return parameter_count(cls(**kwargs))


def siren_parameter_count(cfg: ModelConfig, shape: TaskShape) -> int:
    """Parameters of the SIREN with ``cfg``'s ``--hidden`` and ``--layers`` for ``shape``."""
    from .siren import Siren
    from .siren_entry import _siren_kwargs

    return _count(Siren, _siren_kwargs(cfg, shape))


def closest_width(count: Callable[[int], int], target: int, start: int = 64) -> int:
    """The width ``h >= 1`` whose ``count(h)`` is closest to ``target``.

    ``count`` must be non-decreasing in ``h`` (parameter counts are); ties go to the narrower
    width. Bisection: about ``2 log2(h)`` calls.
    """
    hi = max(1, start)
    while count(hi) < target:
        hi *= 2
    lo = 1
    while lo < hi:  # smallest h with count(h) >= target
        mid = (lo + hi) // 2
        if count(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    if lo > 1 and target - count(lo - 1) <= count(lo) - target:
        return lo - 1
    return lo


def matched(
    cls: type[nn.Module],
    cfg: ModelConfig,
    shape: TaskShape,
    kwargs_for: Callable[[int], dict[str, Any]],
) -> dict[str, Any]:
    """Constructor kwargs of ``cls`` at the matched width (or at ``cfg.hidden`` if matching is
    off).

    Arguments:
        cls: the baseline's class.
        cfg: the model config (``hidden``, ``layers``, ``param_match``).
        shape: the task's input/output sizes.
        kwargs_for: the constructor kwargs for a given hidden width.

    Returns:
        ``kwargs_for(width)``.
    """
    if not cfg.param_match:
        return kwargs_for(cfg.hidden)
    target = siren_parameter_count(cfg, shape)
    width = closest_width(lambda h: _count(cls, kwargs_for(h)), target, start=cfg.hidden)
    got = _count(cls, kwargs_for(width))
    if abs(got / target - 1) > 0.05:
        warnings.warn(
            f"{cls.__name__}: the closest width, {width}, gives {got} parameters against the "
            f"SIREN's {target}; its encoding or width steps are too coarse at this --hidden",
            stacklevel=2,
        )
    return kwargs_for(width)
