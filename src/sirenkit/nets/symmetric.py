"""A symmetry as a hard constraint: a network made exactly even or odd under a reflection.

``Symmetric(net, axes, parity)`` is ``u(x) = (net(x) + parity * net(R x)) / 2``, where ``R``
reflects the coordinates along ``axes`` (``x_k -> 2 c_k - x_k``, about ``center`` c, 0 by
default). Then ``u(R x) = parity * u(x)`` holds
exactly, whatever the weights: a solution known to be odd in x (Burgers from ``-sin(pi x)``:
the problem is invariant under ``(x, u) -> (-x, -u)``) is searched among odd functions only, as
an exact boundary condition is searched among functions that satisfy it. It wraps any network;
the derivative engine differentiates the inner network once, on ``x`` and ``R x`` stacked, and
combines (a k-th derivative along a reflected axis picks up ``(-1)^k``), so a SIREN inside keeps
its closed-form derivatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import SirenkitError
from .registry import TaskShape, build_model, register_model


class Symmetric(nn.Module):
    """``u(x) = (net(x) + parity * net(R x)) / 2``, exactly even (``parity`` 1) or odd (-1)
    under the reflection ``R`` of ``axes``.

    Arguments:
        net: the inner network ``(N, d) -> (N, m)``, or its ``{"name", "kwargs"}`` spec (how a
            checkpoint rebuilds it).
        axes: coordinate indices whose sign ``R`` flips (one index, or several for a point
            reflection such as ``(x, y) -> (-x, -y)``).
        parity: 1 (even) or -1 (odd), one for all outputs or one per output.
        center: where each reflected axis is mirrored (one value, or one per axis of ``axes``).
    """

    def __init__(
        self,
        net: nn.Module | dict[str, Any],
        axes: int | Sequence[int],
        parity: int | Sequence[int] = -1,
        center: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__()
        if isinstance(net, dict):
            net = build_model(net["name"], **net.get("kwargs", {}))
        if not isinstance(net, nn.Module):
            raise SirenkitError(f"Symmetric wraps a network, got {type(net).__name__}")
        self.net = net
        self.axes = [int(a) for a in ((axes,) if isinstance(axes, int) else axes)]
        self.parity = [int(p) for p in ((parity,) if isinstance(parity, int) else parity)]
        if not self.axes or len(set(self.axes)) != len(self.axes) or min(self.axes) < 0:
            raise SirenkitError(f"Symmetric: axes must be distinct indices >= 0, got {axes}")
        c = [float(v) for v in ((center,) if isinstance(center, int | float) else center)]
        if len(c) not in (1, len(self.axes)):
            raise SirenkitError(f"Symmetric: {len(c)} centers for {len(self.axes)} axes")
        self.center = c * len(self.axes) if len(c) == 1 else c
        if any(p not in (1, -1) for p in self.parity):
            raise SirenkitError(f"Symmetric: parity must be 1 (even) or -1 (odd), got {parity}")

    def signs(self, d: int, like: torch.Tensor) -> torch.Tensor:
        """``(d,)``: -1 on the reflected axes, 1 elsewhere (``R`` as a diagonal)."""
        if max(self.axes) >= d:
            raise SirenkitError(
                f"Symmetric: axis {max(self.axes)} does not exist in {d}-D coordinates"
            )
        s = torch.ones(d, dtype=like.dtype, device=like.device)
        s[self.axes] = -1
        return s

    def parities(self, m: int, like: torch.Tensor) -> torch.Tensor:
        """``(m,)``: each output's parity."""
        if len(self.parity) not in (1, m):
            raise SirenkitError(
                f"Symmetric: {len(self.parity)} parities for a network of {m} outputs"
            )
        p = torch.tensor(self.parity, dtype=like.dtype, device=like.device)
        return p.expand(m)

    def stacked(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` and ``R x`` in one batch ``(2N, d)``: one pass of the inner network."""
        mirrored = x * self.signs(x.shape[-1], x)
        if any(self.center):
            shift = torch.zeros(x.shape[-1], dtype=x.dtype, device=x.device)
            shift[self.axes] = 2 * torch.tensor(self.center, dtype=x.dtype, device=x.device)
            mirrored = mirrored + shift
        return torch.cat([x, mirrored])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(self.stacked(x))
        a, b = y.chunk(2)
        return 0.5 * (a + self.parities(y.shape[-1], y) * b)


def _no_config(cfg: Any, shape: TaskShape) -> dict[str, Any]:
    raise SirenkitError("the symmetric wrapper is built in Python: sk.nets.Symmetric(net, ...)")


# Registered so that a checkpoint rebuilds it; the "wrapper" family is no --model choice.
register_model(
    "symmetric", _no_config, "a network made even or odd under a reflection", family="wrapper"
)(Symmetric)
