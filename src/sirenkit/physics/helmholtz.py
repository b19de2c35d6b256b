"""The 2-D Helmholtz equation with a PML, as a pointwise residual for a network's loss.

Equation (time convention ``exp(-i omega t)``, outgoing waves), on [-1, 1]^2:

    d0(A d0 u) + d1(B d1 u) + C (k^2 m u + f) = 0,   A = e1/e0, B = e0/e1, C = e0 e1,

which is ``Laplacian(u) + k^2 m u = -f`` in the physical domain (``e = 1``) and the stretched
operator in the layer. ``m`` is the squared slowness (1 in the background), ``f`` the source.
The finite-difference reference (:mod:`.helmholtz_fd`) discretises exactly this form.

A network's loss should not use it as it stands: dividing by ``C = e0 e1`` gives the same
equation in stretched-Laplacian form,

    (1/e0) d0((1/e0) d0 u) + (1/e1) d1((1/e1) d1 u) + k^2 m u + f = 0,

with the same solutions, but the divergence form multiplies the residual by ``|e0 e1|`` (up to
26 in the corners of the paper's layer), so its squared mean is dominated by the outer layer,
where the field is nearly zero. Trained on it, a SIREN fits the real, source-driven standing
wave and leaves the imaginary part (which only the layer's outgoing condition sets) at zero:
relative L2 0.72 after 2000 steps against 0.06 with the stretched form (docs/waves.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn

from .operators import axis_derivatives
from .pml import PML
from .source import GaussianSource

ResidualForm = Literal["stretched", "divergence"]

FIRST_W0 = 20.0
"""Default first-layer frequency for a k = 20 field on [-1, 1]^2 (docs/waves.md: rel. L2 0.027
with 20 against 0.035 with 30 after 2000 steps, 64 wide)."""


def helmholtz_residual(
    points: torch.Tensor,
    u: torch.Tensor,
    du: torch.Tensor,
    d2u: torch.Tensor,
    *,
    k: float,
    slowness2: torch.Tensor,
    source: torch.Tensor,
    pml: PML,
    form: ResidualForm = "stretched",
) -> torch.Tensor:
    """Complex residual of the PML Helmholtz equation at ``points``.

    Arguments:
        points: ``(N, 2)`` coordinates.
        u: ``(N, S)`` complex field (S fields, e.g. one per source).
        du: ``(N, S, 2)`` complex first derivatives.
        d2u: ``(N, S, 2)`` complex pure second derivatives ``d2u/dx_i^2``.
        k: wavenumber.
        slowness2: ``(N,)`` or ``(N, 1)`` squared slowness.
        source: ``(N, S)`` complex source term ``f``.
        pml: the layer.
        form: ``stretched`` (the residual divided by ``e0 e1``, for losses) or
            ``divergence`` (the form the finite-difference reference discretises).

    Returns:
        ``(N, S)`` complex residual (zero for an exact solution).
    """
    e0, de0 = pml.stretch(points[:, 0])
    e1, de1 = pml.stretch(points[:, 1])
    e0, de0, e1, de1 = e0[:, None], de0[:, None], e1[:, None], de1[:, None]
    m = slowness2 if slowness2.dim() == 2 else slowness2[:, None]
    term0 = (d2u[..., 0] - (de0 / e0) * du[..., 0]) / e0**2
    term1 = (d2u[..., 1] - (de1 / e1) * du[..., 1]) / e1**2
    stretched = term0 + term1 + k**2 * m * u + source
    if form == "stretched":
        return stretched
    if form == "divergence":
        return e0 * e1 * stretched
    raise ValueError(f"unknown residual form {form!r}; expected 'stretched' or 'divergence'")


def complex_fields(out: torch.Tensor, count: int) -> torch.Tensor:
    """``(N, 2 count)`` real channels (re, im, re, im, ...) -> ``(N, count)`` complex fields."""
    return torch.complex(out[:, 0 : 2 * count : 2], out[:, 1 : 2 * count : 2])


def residual_of(
    model: nn.Module,
    points: torch.Tensor,
    *,
    k: float,
    pml: PML,
    sources: Sequence[GaussianSource],
    slowness2: torch.Tensor | Callable[[torch.Tensor], torch.Tensor],
    form: ResidualForm = "stretched",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Helmholtz residual of a network whose first ``2 S`` outputs are the ``S`` source fields.

    Arguments:
        model: network ``(N, 2) -> (N, >= 2 S)``.
        points: ``(N, 2)`` collocation points.
        k: wavenumber.
        pml: the layer.
        sources: one per field.
        slowness2: squared slowness ``(N,)``, or a function of the network output giving it
            (full-waveform inversion, where the network also outputs the medium).
        form: residual form (see :func:`helmholtz_residual`).

    Returns:
        ``(residual (N, S) complex, output (N, m))``.
    """
    s = len(sources)
    y, du, d2u = axis_derivatives(model, points, channels=range(2 * s))
    u = complex_fields(y, s)
    du_c = torch.complex(du[:, 0::2], du[:, 1::2])
    d2u_c = torch.complex(d2u[:, 0::2], d2u[:, 1::2])
    f = torch.stack([src(points) for src in sources], dim=-1)
    m = slowness2(y) if callable(slowness2) else slowness2
    return helmholtz_residual(
        points, u, du_c, d2u_c, k=k, slowness2=m, source=f, pml=pml, form=form
    ), y
