"""Full-waveform inversion as two constraint sets on one network.

The network maps ``(x0, x1)`` to the fields of all ``S`` sources (real and imaginary parts,
outputs ``0 .. 2S-1``) and to the medium (output ``2S``): the squared slowness is
``1 + scale * output`` in the region of interest, the background 1 outside (:func:`slowness2`).
Pretraining fits the fields for the background medium alone and holds the medium output at
the background; the inversion then uses the network's own slowness in the Helmholtz residual
and adds the misfit to the receiver data (the paper's setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..problems import Constraint, Problem
from ..problems.domains import PointSet
from .helmholtz import NAMES, ResidualForm, helmholtz_constraints
from .pml import PML, LayeredSquare
from .source import GaussianSource

if TYPE_CHECKING:
    from ..problems import Field


def slowness2(points: torch.Tensor, out: torch.Tensor, *, roi: float, scale: float) -> torch.Tensor:
    """Squared slowness ``(N,)`` from the network's last output: ``1 + scale * out`` inside the
    centred square of half-width ``roi`` (kept above 0.01), the background 1 outside."""
    inside = (points.abs() <= roi).all(dim=-1)
    m = 1 + (scale * out[:, -1]).clamp_min(-0.99)
    return torch.where(inside, m, torch.ones_like(m))


def fwi_problems(
    *,
    k: float,
    pml: PML,
    sources: Sequence[GaussianSource],
    receivers: np.ndarray,
    values: np.ndarray,
    roi: float,
    slowness_scale: float,
    data_weight: float,
    points: int,
    physical_fraction: float,
    source_points: int,
    form: ResidualForm = "stretched",
) -> tuple[Problem, Problem]:
    """The pretraining and the inversion constraint sets.

    Arguments:
        k, pml, sources: the Helmholtz problem of every source.
        receivers: ``(R, 2)`` receiver positions.
        values: ``(R, S)`` complex recorded fields.
        roi, slowness_scale: the medium's parametrisation (:func:`slowness2`).
        data_weight: weight of the misfit ``mean |u - data|^2 / mean |data|^2``.
        points, physical_fraction, source_points: the Helmholtz constraints' points
            (:func:`~.helmholtz.helmholtz_constraints`).
        form: the Helmholtz residual's form (:func:`~.helmholtz.helmholtz_residual`).

    Both sets log the misfit (weight 0 while pretraining) under the name ``data``.
    """
    s = len(sources)
    power = float(np.mean(np.abs(values) ** 2)) or 1.0
    targets = np.stack([values.real, values.imag], axis=-1).reshape(len(values), 2 * s)
    scale = (2 / power) ** 0.5

    def misfit(f: Field) -> torch.Tensor:
        return (f.u[:, : 2 * s] - f.data) * scale

    def helmholtz(medium) -> list[Constraint]:
        return helmholtz_constraints(
            k,
            pml,
            sources,
            medium,
            points=points,
            physical_fraction=physical_fraction,
            source_points=source_points,
            form=form,
        )

    def background(f: Field) -> torch.Tensor:
        return torch.ones_like(f.x[:, 0])

    def own(f: Field) -> torch.Tensor:
        return slowness2(f.x, f.u, roi=roi, scale=slowness_scale)

    def held(f: Field) -> torch.Tensor:
        return slowness_scale * f.u[:, -1:]

    data = PointSet(receivers, targets)
    pretraining = [
        *helmholtz(background),
        Constraint(data, misfit, None, 0.0, "data"),
        Constraint(LayeredSquare(pml, physical_fraction), held, points, 1.0, "background"),
    ]
    inversion = [*helmholtz(own), Constraint(data, misfit, None, data_weight, "data")]
    return (
        Problem(pretraining, NAMES, outputs=2 * s + 1, name="fwi-pretraining"),
        Problem(inversion, NAMES, outputs=2 * s + 1, name="fwi"),
    )
