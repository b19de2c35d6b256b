"""The perfectly matched layer (PML) by complex coordinate stretching.

With the time convention ``exp(-i omega t)`` an outgoing wave ``exp(i k x)`` decays in a layer
where ``d/dx`` becomes ``(1 / e(x)) d/dx`` with ``e(x) = 1 + i a0 (d(x) / L)^2``: ``d`` is the
distance into the layer and ``L`` its thickness (the paper: a0 = 5, L = 0.5 on the border of
[-1, 1]^2). A wave crossing the layer twice is damped by ``exp(-2 k a0 L / 3)``, so the
reflection off the outer edge is negligible for k = 20.

Functions take torch tensors so the same code serves a training loss and (in float64) the
finite-difference reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import require_fraction
from ..problems.domains import Domain, Names


@dataclass(frozen=True)
class PML:
    """A layer of thickness ``thickness`` inside the border of ``[-half_width, half_width]^d``.

    Arguments:
        thickness: layer thickness ``L`` (0 turns the layer off).
        a0: strength; the stretch reaches ``1 + i a0`` at the outer edge.
        half_width: the domain's half-width (1 for [-1, 1]^2).
    """

    thickness: float = 0.5
    a0: float = 5.0
    half_width: float = 1.0

    @property
    def inner(self) -> float:
        """Half-width of the physical domain inside the layer."""
        return self.half_width - self.thickness

    def stretch(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``e(s)`` and ``de/ds`` along one axis, complex tensors shaped like ``s``."""
        if self.thickness <= 0 or self.a0 == 0:
            one = torch.ones_like(s)
            return torch.complex(one, 0 * one), torch.complex(0 * one, 0 * one)
        depth = (s.abs() - self.inner).clamp_min(0)
        sigma = self.a0 * (depth / self.thickness) ** 2
        dsigma = 2 * self.a0 * depth / self.thickness**2 * torch.sign(s)
        return torch.complex(torch.ones_like(s), sigma), torch.complex(torch.zeros_like(s), dsigma)

    def sample(
        self, n: int, generator: torch.Generator, physical_fraction: float = 0.0
    ) -> torch.Tensor:
        """``n`` collocation points in ``[-half_width, half_width]^2``: the first
        ``round(physical_fraction * n)`` uniform in the physical domain, the rest uniform over
        the whole square (layer included).

        The layer covers 3/4 of the paper's square; extra points inside weight the loss towards
        the region the answer is scored on.
        """
        pts = (torch.rand(n, 2, generator=generator) * 2 - 1) * self.half_width
        require_fraction("physical_fraction", physical_fraction)
        inside = round(physical_fraction * n)
        pts[:inside] *= self.inner / self.half_width
        return pts

    def physical(self, points: torch.Tensor) -> torch.Tensor:
        """Boolean mask of the points inside the physical domain (outside the layer)."""
        return (points.abs() <= self.inner + 1e-9).all(dim=-1)


class LayeredSquare(Domain):
    """The square a PML borders, as a constraint's domain: ``physical_fraction`` of the points
    drawn in the physical domain, the rest over the whole square (:meth:`PML.sample`)."""

    def __init__(self, pml: PML, physical_fraction: float) -> None:
        require_fraction("physical_fraction", physical_fraction)
        self.pml, self.physical_fraction, self.dim = pml, physical_fraction, 2

    def __repr__(self) -> str:
        return f"LayeredSquare({self.pml}, physical_fraction={self.physical_fraction})"

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        return self.pml.sample(n, generator, self.physical_fraction).double()

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        return (x.abs() <= self.pml.half_width + 1e-9).all(dim=-1)

    @property
    def measure(self) -> float:
        return (2 * self.pml.half_width) ** 2

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.full((2,), float(self.pml.half_width), dtype=torch.float64)
        return -h, h


@dataclass
class PMLOptions:
    """The absorbing layer on the border of [-1, 1]^2 as command-line options; defaults are
    :class:`PML`'s (the paper's)."""

    pml_thickness: float = PML.thickness
    """Layer thickness (paper: 0.5); the physical domain is [-1 + t, 1 - t]^2."""
    pml_a0: float = PML.a0
    """Layer strength a0 (paper: 5); 0 turns it off (then the box reflects)."""

    def build(self) -> PML:
        return PML(thickness=self.pml_thickness, a0=self.pml_a0)
