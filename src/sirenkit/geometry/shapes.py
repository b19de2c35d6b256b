"""Shapes with exact signed distance functions, and the built-in shape ``sirenkit fit sdf`` fits.

Every shape is a parameter-free ``nn.Module`` mapping ``(N, 3)`` points to ``(N, 1)`` signed
distances, so meshing, slicing and metrics treat it exactly like a trained network. Sign
convention (the paper's): negative inside, positive outside, zero on the surface.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..errors import SirenkitError


def _vec(v: Sequence[float], like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(v, dtype=like.dtype, device=like.device)


class Shape(nn.Module):
    """Base class: ``forward(x (N, 3)) -> (N, 1)`` signed distance, negative inside."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sdf(x).unsqueeze(-1)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        """``(N,)`` signed distances."""
        raise NotImplementedError


class Sphere(Shape):
    """``|x - c| - r``."""

    def __init__(self, center: Sequence[float] = (0, 0, 0), radius: float = 0.5) -> None:
        super().__init__()
        self.center, self.radius = tuple(center), float(radius)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        return (x - _vec(self.center, x)).norm(dim=-1) - self.radius


class Box(Shape):
    """Axis-aligned box with the given half sizes (exact inside and outside)."""

    def __init__(
        self, center: Sequence[float] = (0, 0, 0), half: Sequence[float] = (0.5, 0.5, 0.5)
    ) -> None:
        super().__init__()
        self.center, self.half = tuple(center), tuple(half)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        q = (x - _vec(self.center, x)).abs() - _vec(self.half, x)
        return q.clamp_min(0).norm(dim=-1) + q.max(dim=-1).values.clamp_max(0)


def _axes(axis: int) -> tuple[int, int]:
    if axis not in (0, 1, 2):
        raise SirenkitError(f"axis must be 0, 1 or 2, got {axis}")
    return tuple(a for a in (0, 1, 2) if a != axis)  # type: ignore[return-value]


class Torus(Shape):
    """Ring of tube radius ``minor`` around a circle of radius ``major`` normal to ``axis``."""

    def __init__(
        self,
        center: Sequence[float] = (0, 0, 0),
        major: float = 0.5,
        minor: float = 0.2,
        axis: int = 2,
    ) -> None:
        super().__init__()
        self.center, self.major, self.minor, self.axis = tuple(center), major, minor, axis
        self._plane = _axes(axis)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        p = x - _vec(self.center, x)
        ring = p[:, list(self._plane)].norm(dim=-1) - self.major
        return torch.stack([ring, p[:, self.axis]], -1).norm(dim=-1) - self.minor


class Cylinder(Shape):
    """Capped cylinder along ``axis`` (exact inside and outside)."""

    def __init__(
        self,
        center: Sequence[float] = (0, 0, 0),
        radius: float = 0.2,
        half_height: float = 0.5,
        axis: int = 2,
    ) -> None:
        super().__init__()
        self.center, self.radius, self.half_height, self.axis = (
            tuple(center),
            radius,
            half_height,
            axis,
        )
        self._plane = _axes(axis)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        p = x - _vec(self.center, x)
        q = torch.stack(
            [
                p[:, list(self._plane)].norm(dim=-1) - self.radius,
                p[:, self.axis].abs() - self.half_height,
            ],
            -1,
        )
        return q.clamp_min(0).norm(dim=-1) + q.max(dim=-1).values.clamp_max(0)


class Union(Shape):
    """``min`` of the parts: exact outside, a bound inside where parts overlap."""

    def __init__(self, *parts: Shape) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([p.sdf(x) for p in self.parts], -1).min(dim=-1).values


class Difference(Shape):
    """``a`` with ``b`` carved out: ``max(a, -b)``."""

    def __init__(self, a: Shape, b: Shape) -> None:
        super().__init__()
        self.a, self.b = a, b

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        return torch.maximum(self.a.sdf(x), -self.b.sdf(x))


def chair() -> Shape:
    """A chair: a thin seat, four thin legs and a backrest with a round hole through it.

    Thin parts (plates 0.08 thick, legs 0.1 across, in a shape 1.6 tall) and concavities (the
    space under the seat, the hole) are what separate a good SDF fit from a blob.
    """
    legs = [
        Cylinder((sx * 0.4, sy * 0.4, -0.4), radius=0.05, half_height=0.4)
        for sx in (-1, 1)
        for sy in (-1, 1)
    ]
    seat = Box((0, 0, 0), (0.5, 0.5, 0.04))
    back = Difference(
        Box((0, 0.46, 0.42), (0.5, 0.04, 0.38)),
        Cylinder((0, 0.46, 0.45), radius=0.17, half_height=0.2, axis=1),
    )
    return Union(seat, back, *legs)


BUILTIN: dict[str, Callable[[], Shape]] = {
    "chair": chair,
    "sphere": lambda: Sphere(radius=0.6),
    "box": lambda: Box(half=(0.6, 0.4, 0.3)),
    "torus": lambda: Torus(major=0.55, minor=0.2),
}
"""Shapes ``sirenkit fit sdf NAME`` knows; ``chair`` is the default."""


def builtin_shape(name: str) -> Shape:
    """The built-in shape called ``name`` (see :data:`BUILTIN`)."""
    if name not in BUILTIN:
        raise SirenkitError(f"unknown built-in shape {name!r}; available: {', '.join(BUILTIN)}")
    return BUILTIN[name]()
