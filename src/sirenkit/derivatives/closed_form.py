"""Closed-form forward derivatives of sine and tanh networks: value, Jacobian and second
derivatives.

Every derivative of a network of affine maps and pointwise activations ``s`` is built from
``s``, ``s'`` and ``s''`` of the same pre-activations, so the derivatives with respect to the
``d`` input coordinates can be carried forward through the layers together with the value. For
a layer ``h' = s(z)``, ``z = w0 (W h + b)`` (``w0 = 1`` but for sine layers), with ``J`` the
Jacobian of ``h`` and ``S_p`` a second-order quantity ``sum_ij M_p[i, j] d2h/dx_i dx_j`` (the
Laplacian for ``M = I``)::

    Jz = w0 W J                  Sz_p = w0 W S_p
    J' = s'(z) * Jz              S'_p = s'(z) * Sz_p + s''(z) * sum_ij M_p[i, j] Jz_i Jz_j

and a linear layer maps ``J`` and ``S`` by ``W`` alone. ``sin`` (``s' = cos``, ``s'' = -sin``)
and ``tanh`` (``s' = 1 - t^2``, ``s'' = -2 t s'``) are carried (:data:`ACTIVATIONS`). The value,
the ``d`` Jacobian rows and the ``P`` second-order rows are stacked along a leading "row" axis,
``(1 + d + P, N, width)``, so each layer is ONE matrix product with ``W`` (the bias enters the
value row only) and the activation is evaluated once per point and unit.

Each layer is a :class:`torch.autograd.Function` with a hand-written backward that keeps only
the layer's input rows and pre-activation rows, so the result is an ordinary autograd graph,
differentiable once with respect to the parameters (a loss on the Laplacian trains the network;
derivatives of those parameter gradients are not supported). Autograd on the same loss
differentiates twice (double backward): for a tanh MLP the closed form is the cheaper step.
"""

from __future__ import annotations

from typing import Literal, Protocol

import torch
from torch.autograd.function import once_differentiable

from ..nets.siren import weight_gradient
from .chain import AffineAct

SecondOrder = Literal["none", "laplacian", "diagonal", "full"]
Terms = tuple[tuple[int, int, int], ...]
"""``(p, i, j)``: second-order row ``p`` gains ``Jz_i * Jz_j`` (``i <= j``)."""


def second_order_terms(d: int, kind: SecondOrder, axes: tuple[int, ...] | None = None) -> Terms:
    """The quadratic terms of each second-order row for ``d`` inputs.

    ``laplacian``: one row, ``sum_k d2/dx_k^2``; ``diagonal``: ``d2/dx_k^2`` for each ``k`` of
    ``axes`` (default all ``d``), one row each; ``full``: ``d (d + 1) / 2`` rows,
    ``d2/dx_i dx_j`` for ``i <= j`` in row-major order.
    """
    if kind == "none":
        return ()
    if kind == "laplacian":
        return tuple((0, k, k) for k in range(d))
    if kind == "diagonal":
        return tuple((p, k, k) for p, k in enumerate(range(d) if axes is None else axes))
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    return tuple((p, i, j) for p, (i, j) in enumerate(pairs))


def _quadratic(z: torch.Tensor, d: int, terms: Terms, rows: int) -> torch.Tensor:
    """``q_p = sum over p's terms of Jz_i * Jz_j``, ``(rows, N, n)``, from stacked ``z``."""
    q = z.new_empty((rows, *z.shape[1:]))
    started: set[int] = set()
    for p, i, j in terms:
        if p in started:
            q[p].addcmul_(z[1 + i], z[1 + j])
        else:
            torch.mul(z[1 + i], z[1 + j], out=q[p])
            started.add(p)
    return q


def _affine(rows: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``rows @ W^T`` with ``b`` added to the value row only (written in place, no copy)."""
    r, n, n_in = rows.shape
    z = rows.new_empty((r, n, weight.shape[0]))
    wt = weight.t()
    if bias is None:
        torch.mm(rows[0], wt, out=z[0])
    else:
        torch.addmm(bias, rows[0], wt, out=z[0])
    if r > 1:
        torch.mm(rows[1:].reshape(-1, n_in), wt, out=z[1:].view(-1, z.shape[-1]))
    return z


class _Pointwise(Protocol):
    """A pointwise activation ``s`` and its first three derivatives, each from what the
    forward pass saves (so backward evaluates no transcendental function).

    ``forward`` writes ``s(z)`` into ``out`` and overwrites ``z`` with ``s'(z)``. ``second``
    and ``third`` return ``(tensor, factor)`` pairs, ``s'' = factor * tensor`` (the factor
    goes into ``addcmul``'s ``value``, so ``sin'' = -sin`` costs no negation).
    """

    @staticmethod
    def forward(z: torch.Tensor, out: torch.Tensor) -> None: ...

    @staticmethod
    def second(d1: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, float]: ...

    @staticmethod
    def third(d1: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, float]: ...


class _Sin:
    """``sin' = cos``, ``sin'' = -sin``, ``sin''' = -cos``."""

    @staticmethod
    def forward(z: torch.Tensor, out: torch.Tensor) -> None:
        torch.sin(z, out=out)
        z.cos_()

    @staticmethod
    def second(d1: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, float]:
        return s, -1.0

    @staticmethod
    def third(d1: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, float]:
        return d1, -1.0


class _Tanh:
    """With ``t = tanh``: ``t' = 1 - t^2``, ``t'' = -2 t t'``, ``t''' = t' (6 t^2 - 2)``."""

    @staticmethod
    def forward(z: torch.Tensor, out: torch.Tensor) -> None:
        torch.tanh(z, out=out)
        torch.mul(out, out, out=z).neg_().add_(1.0)

    @staticmethod
    def second(d1: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, float]:
        return s * d1, -2.0

    @staticmethod
    def third(d1: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, float]:
        return (s * s).mul_(6.0).sub_(2.0).mul_(d1), 1.0


ACTIVATIONS: dict[str, type[_Pointwise]] = {"sin": _Sin, "tanh": _Tanh}
"""The activations carried in closed form, by :attr:`~.chain.AffineAct.activation`."""


class _StackedLayer(torch.autograd.Function):
    """One layer applied to stacked rows ``(R, N, n_in)`` -> ``(R, N, n_out)``.

    For ``h' = s(z)`` the rows map as ``out_0 = s(z_0)``, ``out_r = s'(z_0) z_r`` (``r >= 1``)
    and the second-order rows gain ``s''(z_0) q_p``. Saved for backward: the input rows, the
    pre-activation rows with row 0 overwritten by ``s'(z_0)``, the output (whose row 0 is
    ``s(z_0)``; the next layer holds it anyway) and the quadratic terms ``q``.
    """

    @staticmethod
    def forward(
        ctx,
        rows: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        activation: str | None,
        d: int,
        terms: Terms,
    ) -> torch.Tensor:
        rows = rows.contiguous()
        z = _affine(rows, weight, bias)
        ctx.act, ctx.d, ctx.terms = ACTIVATIONS.get(activation), d, terms
        ctx.has_bias = bias is not None
        if ctx.act is None:
            ctx.save_for_backward(rows, weight)
            return z
        out = torch.empty_like(z)
        ctx.act.forward(z[0], out[0])
        torch.mul(z[1:], z[0], out=out[1:])
        q = None
        if terms:
            q = _quadratic(z, d, terms, z.shape[0] - 1 - d)
            d2, f2 = ctx.act.second(z[0], out[0])
            out[1 + d :].addcmul_(q, d2, value=f2)
        ctx.save_for_backward(rows, weight, z, out, q)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        grad = grad.contiguous()
        if ctx.act is not None:
            rows, weight, z, out, q = ctx.saved_tensors
            dz = _activation_backward(ctx.act, z, out[0], q, grad, ctx.d, ctx.terms)
        else:
            rows, weight = ctx.saved_tensors
            dz = grad
        r, n, n_in = rows.shape
        flat = dz.view(r * n, -1)
        d_rows = d_weight = d_bias = None
        if ctx.needs_input_grad[0]:
            if weight.shape[0] == 1:  # an outer product: a broadcast multiply is faster
                d_rows = (flat * weight).view(r, n, n_in)
            else:
                d_rows = torch.mm(flat, weight).view(r, n, n_in)
        if ctx.needs_input_grad[1]:
            d_weight = weight_gradient(flat, rows.view(r * n, n_in))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            d_bias = dz[0].sum(0)
        return d_rows, d_weight, d_bias, None, None, None


def _activation_backward(
    act: type[_Pointwise],
    zd: torch.Tensor,
    s: torch.Tensor,
    q: torch.Tensor | None,
    g: torch.Tensor,
    d: int,
    terms: Terms,
) -> torch.Tensor:
    """Cotangent of the stacked pre-activations given that of the activation's rows ``g``.

    ``zd`` holds ``s'(z_0)`` in row 0 and the derivative rows ``z_r`` after it; ``s`` is
    ``s(z_0)``. With ``out_0 = s``, ``out_r = s' z_r`` (r >= 1) and ``out_{1+d+p} += s'' q_p``::

        dz_r   = s' g_r + s'' g_{1+d+p} dq_p/dz_r       (r >= 1)
        dz_0   = s' g_0 + s''' sum_p q_p g_{1+d+p} + s'' sum_{r>=1} z_r g_r
    """
    d1 = zd[0]
    dz = torch.empty_like(zd)
    torch.mul(g[1:], d1, out=dz[1:])
    zg = torch.mul(zd[1], g[1])
    for r in range(2, zd.shape[0]):
        zg.addcmul_(zd[r], g[r])
    d0 = dz[0].copy_(g[0])
    if q is not None:
        d3, f3 = act.third(d1, s)
        if d3 is d1:  # s''' = f3 s' (sine): one product with s' for both terms
            for p in range(q.shape[0]):
                d0.addcmul_(q[p], g[1 + d + p], value=f3)
            d0.mul_(d1)
        else:
            qg = torch.mul(q[0], g[1 + d])
            for p in range(1, q.shape[0]):
                qg.addcmul_(q[p], g[1 + d + p])
            d0.mul_(d1).addcmul_(qg, d3, value=f3)
    else:
        d0.mul_(d1)
    d2, f2 = act.second(d1, s)
    d0.addcmul_(zg, d2, value=f2)
    if terms:
        sg = torch.mul(g[1 + d :], d2, out=zg.new_empty(g[1 + d :].shape))
        for p, i, j in terms:
            if i == j:
                dz[1 + i].addcmul_(sg[p], zd[1 + i], value=2.0 * f2)
            else:
                dz[1 + i].addcmul_(sg[p], zd[1 + j], value=f2)
                dz[1 + j].addcmul_(sg[p], zd[1 + i], value=f2)
    return dz


def input_rows(x: torch.Tensor, second: int) -> torch.Tensor:
    """The stacked rows of the coordinates themselves: ``[x, e_1 .. e_d, 0 * second]``."""
    n, d = x.shape
    eye = torch.eye(d, dtype=x.dtype, device=x.device).unsqueeze(1).expand(d, n, d)
    zero = x.new_zeros((second, n, d))
    return torch.cat([x.unsqueeze(0), eye, zero])


def forward_rows(
    layers: list[AffineAct],
    x: torch.Tensor,
    kind: SecondOrder,
    axes: tuple[int, ...] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, Jacobian and second-order rows of a layer chain at ``x`` ``(N, d)`` in one pass.

    Arguments:
        layers: from :func:`~sirenkit.derivatives.chain.layer_chain`.
        x: coordinates ``(N, d)``.
        kind: which second-order rows to carry (see :func:`second_order_terms`).
        axes: for ``kind="diagonal"``, the axes whose pure second derivatives are carried
            (default all): each row not carried is a matrix product less per layer.

    Returns:
        ``value`` ``(N, m)``, ``jacobian`` ``(N, m, d)`` and the second-order rows
        ``(P, N, m)`` (``P = 0`` for ``kind="none"``).
    """
    d = x.shape[-1]
    terms = second_order_terms(d, kind, axes)
    n_second = 1 + max((p for p, _, _ in terms), default=-1)
    rows = input_rows(x, n_second)
    for layer in layers:
        weight, bias = layer.scaled()
        rows = _StackedLayer.apply(rows, weight, bias, layer.activation, d, terms)
    value = rows[0]
    jac = rows[1 : 1 + d].permute(1, 2, 0).contiguous()
    return value, jac, rows[1 + d :]
