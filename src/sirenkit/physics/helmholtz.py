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

from typing import Literal

import torch

from .pml import PML

ResidualForm = Literal["stretched", "divergence"]


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
