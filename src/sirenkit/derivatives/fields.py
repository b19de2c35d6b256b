"""One entry point for a network's value and its input derivatives.

Tasks ask :func:`value_and_derivatives` for what their loss needs; which engine computes it is
not their concern. Sine networks (every :class:`~sirenkit.nets.siren.Siren`) and tanh MLPs
take the closed-form forward pass of :mod:`.closed_form` when second derivatives are asked for
(tanh: but the full Hessian), or when the input is one-dimensional; everything else goes
through autograd (:mod:`.autograd`): reverse mode, or nested forward mode for the Hessian
diagonal or Laplacian of a network with more outputs than inputs (one pass per axis instead of
one per output and axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..errors import SirenkitError
from . import autograd as ad
from .chain import AffineAct, layer_chain
from .closed_form import SecondOrder, forward_rows

Engine = Literal["auto", "closed_form", "autograd"]
ENGINES: tuple[str, ...] = ("auto", "closed_form", "autograd")


@dataclass
class FieldDerivatives:
    """A network's output at some points and, if asked for, its input derivatives.

    Attributes:
        value: ``(N, m)`` outputs.
        gradient: ``(N, m, d)`` Jacobian with respect to the coordinates, or None.
        laplacian: ``(N, m)`` Laplacian of every output, or None.
        hessian_diagonal: ``(N, m, d)`` pure second derivatives ``d2y/dx_k^2``, or None.
        hessian: ``(N, m, d, d)`` all second derivatives, or None.
        engine: which engine computed the derivatives, ``"closed_form"`` or ``"autograd"``
            (``"none"`` when only the value was asked for).
    """

    value: torch.Tensor
    gradient: torch.Tensor | None = None
    laplacian: torch.Tensor | None = None
    hessian_diagonal: torch.Tensor | None = None
    hessian: torch.Tensor | None = None
    engine: str = "autograd"


def _second_kind(laplacian: bool, hessian_diagonal: bool, hessian: bool) -> SecondOrder:
    if hessian:
        return "full"
    if hessian_diagonal:
        return "diagonal"
    return "laplacian" if laplacian else "none"


def _pick_engine(
    model: nn.Module, d: int, kind: SecondOrder, engine: str
) -> list[AffineAct] | None:
    """The layer chain to run in closed form, or None for autograd."""
    if engine not in ENGINES:
        raise SirenkitError(f"unknown derivative engine {engine!r}; expected one of {ENGINES}")
    if engine == "autograd":
        return None
    layers = layer_chain(model)
    if engine == "closed_form":
        if layers is None:
            raise SirenkitError(
                f"engine='closed_form' needs a sine or tanh network (Siren, SineLayer, "
                f"nn.Linear and nn.Tanh in nn.Sequential, a tanh MLP); got {type(model).__name__}"
            )
        return layers
    # Forward mode carries 1 + d rows for the gradient, reverse mode costs about 2: for a
    # gradient alone it only pays in one dimension. Second derivatives pay for sine networks;
    # for tanh networks the Laplacian and the Hessian diagonal do (autograd/closed form 1.6-2.0
    # and 1.1-1.7 per training step), the full Hessian does not (0.7-1.0), measured on MLPs of
    # width 20-256 in 1-3 dimensions, one thread.
    if layers is None or (kind == "none" and d > 1):
        return None
    if kind == "full" and d > 1 and any(layer.activation == "tanh" for layer in layers):
        return None
    return layers


def _only(diag: torch.Tensor, axes: tuple[int, ...] | None) -> torch.Tensor:
    """``diag`` ``(N, m, d)`` with the entries off ``axes`` (not asked for) set to NaN."""
    if axes is None:
        return diag
    keep = torch.zeros(diag.shape[-1], dtype=torch.bool, device=diag.device)
    keep[list(axes)] = True
    return torch.where(keep, diag, torch.nan)


def _closed_form(
    layers: list[AffineAct], x: torch.Tensor, kind: SecondOrder, axes: tuple[int, ...] | None
) -> FieldDerivatives:
    value, jac, rows = forward_rows(layers, x, kind, axes)
    out = FieldDerivatives(value, jac, engine="closed_form")
    d = x.shape[-1]
    if kind == "laplacian":
        out.laplacian = rows[0]
    elif kind == "diagonal" and axes is not None:  # the rows carried, NaN elsewhere
        nan = torch.full_like(value, torch.nan)
        row = {k: p for p, k in enumerate(axes)}
        cols = [rows[row[k]] if k in row else nan for k in range(d)]
        out.hessian_diagonal = torch.stack(cols, -1)
    elif kind == "diagonal":
        out.hessian_diagonal = rows.permute(1, 2, 0).contiguous()
    elif kind == "full":
        n, m = value.shape
        iu = torch.triu_indices(d, d, device=x.device)
        hess = value.new_empty((n, m, d, d))
        hess[:, :, iu[0], iu[1]] = rows.permute(1, 2, 0)
        hess[:, :, iu[1], iu[0]] = rows.permute(1, 2, 0)
        out.hessian = hess
    return out


def _forward_diagonal(
    model: nn.Module, x: torch.Tensor, cg: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Jacobian and Hessian diagonal ``(N, m, d)`` each by forward mode: a ``jvp`` of a
    ``jvp`` along each axis, one pass per axis whatever the number of outputs."""
    from torch.func import jvp

    firsts, seconds = [], []
    with torch.set_grad_enabled(cg):
        for i in range(x.shape[1]):
            v = torch.zeros_like(x)
            v[:, i] = 1

            def along(z: torch.Tensor, v: torch.Tensor = v):
                return jvp(model, (z,), (v,))

            (_, dy), (_, d2y) = jvp(along, (x,), (v,))
            firsts.append(dy)
            seconds.append(d2y)
    return torch.stack(firsts, -1), torch.stack(seconds, -1)


def _autograd(
    model: nn.Module, coords: torch.Tensor, kind: SecondOrder, cg: bool
) -> FieldDerivatives:
    with torch.enable_grad():
        x = coords.detach().requires_grad_(True)
        y = model(x)
        if kind in ("diagonal", "laplacian") and y.shape[1] > x.shape[1]:
            # Reverse mode costs a backward pass per output and axis, forward mode one per
            # axis: 0.03 s against 0.67 s for FWI's 11 outputs (tanh 64x4, 1024 points).
            jac, diag = _forward_diagonal(model, coords.detach(), cg)
            out = FieldDerivatives(y, jac, engine="autograd")
            if kind == "laplacian":
                out.laplacian = diag.sum(-1)
            else:
                out.hessian_diagonal = diag
            return out
        jac = ad.jacobian(y, x, create_graph=cg or kind != "none")
        out = FieldDerivatives(y, jac, engine="autograd")
        if kind == "laplacian":
            out.laplacian = ad.laplacian_of_jacobian(jac, x, cg)
        elif kind != "none":
            n, m, d = jac.shape
            hess = ad.jacobian(jac.reshape(n, m * d), x, cg).reshape(n, m, d, d)
            if kind == "full":
                out.hessian = hess
            else:
                out.hessian_diagonal = hess.diagonal(dim1=-2, dim2=-1)
    return out


def value_and_derivatives(
    model: nn.Module,
    coords: torch.Tensor,
    *,
    gradient: bool = True,
    laplacian: bool = False,
    hessian_diagonal: bool | Sequence[int] = False,
    hessian: bool = False,
    create_graph: bool | None = None,
    engine: Engine = "auto",
) -> FieldDerivatives:
    """Evaluate ``model`` at ``coords`` ``(N, d)`` with its input derivatives, in one call.

    Arguments:
        model: any coordinate network mapping ``(N, d) -> (N, m)``.
        coords: evaluation points ``(N, d)``.
        gradient: also return the Jacobian ``(N, m, d)``.
        laplacian: also return the Laplacian ``(N, m)``.
        hessian_diagonal: also return ``d2y/dx_k^2`` as ``(N, m, d)`` (e.g. to split time from
            space in a wave equation); a sequence of axis indices: only those entries are
            computed (Burgers needs ``u_xx``, not ``u_tt``: a cheaper closed form), the
            others are NaN (all are computed when the Laplacian or Hessian is asked for too).
        hessian: also return the full Hessian ``(N, m, d, d)``.
        create_graph: keep the graph so the results can be differentiated with respect to the
            parameters (for a loss). Defaults to ``torch.is_grad_enabled()``, so under
            ``torch.no_grad()`` nothing is kept (for rendering).
        engine: ``auto`` (closed form for sine and tanh networks where it is faster, else
            autograd), ``closed_form`` (those networks only; an error otherwise) or
            ``autograd``. The results agree to rounding; the choice is for tests and benchmarks.

    Returns:
        A :class:`FieldDerivatives`; fields not asked for are None.
    """
    if coords.dim() != 2:
        raise SirenkitError(f"coords must be (N, d), got shape {tuple(coords.shape)}")
    cg = torch.is_grad_enabled() if create_graph is None else create_graph
    if not (gradient or laplacian or hessian_diagonal or hessian):
        return FieldDerivatives(model(coords), engine="none")
    d = coords.shape[-1]
    axes = None
    if not isinstance(hessian_diagonal, bool):
        axes = tuple(sorted({int(k) for k in hessian_diagonal}))
        if any(not 0 <= k < d for k in axes):
            raise SirenkitError(f"hessian_diagonal={axes}: axes of {d}-D points are 0..{d - 1}")
        hessian_diagonal = bool(axes)
        if laplacian or hessian or len(axes) == d:
            axes = None
    if _plain_symmetric(model):
        asked = hessian_diagonal if axes is None else axes
        return _symmetric(model, coords, gradient, laplacian, asked, hessian, cg, engine)
    kind = _second_kind(laplacian, hessian_diagonal, hessian)
    layers = _pick_engine(model, coords.shape[-1], kind, engine)
    # Derivatives of a sine network amplify rounding by w0 per layer: keep them in float32
    # even inside a low-precision autocast region.
    with torch.autocast(coords.device.type, enabled=False):
        if layers is None:
            out = _autograd(model, coords, kind, cg)
            if out.hessian_diagonal is not None:
                out.hessian_diagonal = _only(out.hessian_diagonal, axes)
        else:
            with torch.set_grad_enabled(cg):
                out = _closed_form(layers, coords, kind, axes)
    _fill_second_order(out, laplacian, hessian_diagonal)
    if not gradient:
        out.gradient = None
    if not hessian:
        out.hessian = None
    if not cg:
        for name in ("value", "gradient", "laplacian", "hessian_diagonal", "hessian"):
            t = getattr(out, name)
            if t is not None:
                setattr(out, name, t.detach())
    return out


def _plain_symmetric(model: nn.Module) -> bool:
    from ..nets.symmetric import Symmetric

    return type(model) is Symmetric and not (model._forward_hooks or model._forward_pre_hooks)


def _symmetric(
    model, coords, gradient, laplacian, hessian_diagonal, hessian, cg, engine
) -> FieldDerivatives:
    """A :class:`~sirenkit.nets.symmetric.Symmetric` network: the inner network's derivatives
    at ``x`` and ``R x`` in one call, combined (``d/dx_k`` of ``net(R x)`` is ``s_k`` times the
    inner derivative at ``R x``, ``s = diag(R)``)."""
    inner = value_and_derivatives(
        model.net,
        model.stacked(coords),
        gradient=gradient,
        laplacian=laplacian,
        hessian_diagonal=hessian_diagonal,
        hessian=hessian,
        create_graph=cg,
        engine=engine,
    )
    s = model.signs(coords.shape[-1], coords)
    p = model.parities(inner.value.shape[-1], inner.value)

    def half(t: torch.Tensor | None, factor: torch.Tensor) -> torch.Tensor | None:
        if t is None:
            return None
        a, b = t.chunk(2)
        return 0.5 * (a + factor * b)

    pm = p[:, None]
    return FieldDerivatives(
        half(inner.value, p),
        half(inner.gradient, pm * s),
        half(inner.laplacian, p),
        half(inner.hessian_diagonal, pm),
        half(inner.hessian, pm[..., None] * s[:, None] * s),
        inner.engine,
    )


def _fill_second_order(out: FieldDerivatives, laplacian: bool, diagonal: bool) -> None:
    """Derive the requested Laplacian / diagonal from the richest second-order result."""
    if out.hessian_diagonal is None and out.hessian is not None:
        out.hessian_diagonal = out.hessian.diagonal(dim1=-2, dim2=-1)
    if laplacian and out.laplacian is None:
        out.laplacian = out.hessian_diagonal.sum(-1)
    if not diagonal:
        out.hessian_diagonal = None
