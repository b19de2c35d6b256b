"""The 2-D Helmholtz equation with a PML, as a pointwise residual for a network's loss.

Equation (time convention ``exp(-i omega t)``, outgoing waves), on [-1, 1]^2:

    d0(A d0 u) + d1(B d1 u) + C (k^2 m u + f) = 0,   A = e1/e0, B = e0/e1, C = e0 e1,

which is ``Laplacian(u) + k^2 m u = -f`` in the physical domain (``e = 1``) and the stretched
operator in the layer. ``m`` is the squared slowness (1 in the background), ``f`` the source.
The finite-difference reference (:mod:`.helmholtz_fd`) discretises exactly this form.
"""

from __future__ import annotations

import torch

from .pml import PML


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

    Returns:
        ``(N, S)`` complex residual (zero for an exact solution).
    """
    e0, de0 = pml.stretch(points[:, 0])
    e1, de1 = pml.stretch(points[:, 1])
    e0, de0, e1, de1 = e0[:, None], de0[:, None], e1[:, None], de1[:, None]
    m = slowness2 if slowness2.dim() == 2 else slowness2[:, None]
    term0 = (e1 / e0) * (d2u[..., 0] - (de0 / e0) * du[..., 0])
    term1 = (e0 / e1) * (d2u[..., 1] - (de1 / e1) * du[..., 1])
    return term0 + term1 + e0 * e1 * (k**2 * m * u + source)
