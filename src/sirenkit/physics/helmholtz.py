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
from typing import TYPE_CHECKING, Literal

import torch

from ..problems import Constraint, Problem
from ..problems.domains import Disc
from .pml import PML, LayeredSquare
from .source import GaussianSource

if TYPE_CHECKING:
    from ..problems import Field
    from .helmholtz_fd import HelmholtzProblem

ResidualForm = Literal["stretched", "divergence"]

NAMES = ("x0", "x1")
"""The axes of the plane, in 'ij' order."""

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


def field_residual(
    f: Field,
    *,
    k: float,
    pml: PML,
    sources: Sequence[GaussianSource],
    slowness2: Callable[[Field], torch.Tensor],
    form: ResidualForm,
) -> torch.Tensor:
    """Helmholtz residual of a field whose first ``2 S`` outputs are the ``S`` source fields
    (real and imaginary parts), as a constraint's residual.

    Arguments:
        f: the field at the points (:class:`sirenkit.problems.Field`; axes ``x0, x1``).
        k: wavenumber.
        pml: the layer.
        sources: one per field.
        slowness2: the squared slowness ``(N,)`` at the field's points: the medium's, or the
            network's own (full-waveform inversion, where it also outputs the medium).
        form: residual form (see :func:`helmholtz_residual`).

    Returns:
        ``(N, S)`` complex residual.
    """
    s = len(sources)
    # second derivatives first: one pass of the engine then gives every quantity below
    d2 = torch.stack([f.d(0, 0), f.d(1, 1)], dim=-1)[:, : 2 * s]
    d1 = torch.stack([f.d(0), f.d(1)], dim=-1)[:, : 2 * s]
    u = complex_fields(f.u, s)
    x = f.x
    source = torch.stack([src(x) for src in sources], dim=-1)
    return helmholtz_residual(
        x,
        u,
        torch.complex(d1[:, 0::2], d1[:, 1::2]),
        torch.complex(d2[:, 0::2], d2[:, 1::2]),
        k=k,
        slowness2=slowness2(f),
        source=source,
        pml=pml,
        form=form,
    )


def helmholtz_constraints(
    k: float,
    pml: PML,
    sources: Sequence[GaussianSource],
    slowness2: Callable[[Field], torch.Tensor],
    *,
    points: int,
    physical_fraction: float,
    source_points: int,
    form: ResidualForm,
) -> list[Constraint]:
    """The PML Helmholtz equation as constraints: ``points`` points of the square per step
    (``physical_fraction`` of them inside the layer) and ``source_points`` around each source.

    The loss is the mean of ``|residual|^2 / k^4`` over all the points (each constraint
    weighted by its share of them), so its scale does not depend on k.
    """
    total = points + source_points * len(sources)
    scale = 1.0 / (total * k**4)

    def residual(f: Field) -> torch.Tensor:
        return field_residual(f, k=k, pml=pml, sources=sources, slowness2=slowness2, form=form)

    out = [
        Constraint(
            LayeredSquare(pml, physical_fraction), residual, points, points * scale, "residual"
        )
    ]
    if source_points > 0:
        out += [
            Constraint(
                Disc(src.center, 3 * src.width),
                residual,
                source_points,
                source_points * scale,
                f"source{i}",
            )
            for i, src in enumerate(sources)
        ]
    return out


def helmholtz_problem(
    setup: HelmholtzProblem,
    *,
    points: int,
    physical_fraction: float,
    source_points: int,
    form: ResidualForm,
) -> Problem:
    """The paper's Helmholtz problem as a constraint set: the fields of ``setup``'s sources
    (outputs ``re, im`` per source) in its known medium, from the residual alone."""

    def slowness2(f: Field) -> torch.Tensor:
        return setup.medium.squared_slowness(f.x)

    constraints = helmholtz_constraints(
        setup.k,
        setup.pml,
        setup.sources,
        slowness2,
        points=points,
        physical_fraction=physical_fraction,
        source_points=source_points,
        form=form,
    )
    return Problem(constraints, NAMES, outputs=2 * len(setup.sources), name="helmholtz")
