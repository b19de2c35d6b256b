"""Differential operators by automatic differentiation, for any network.

Each operator takes outputs ``y`` computed from inputs ``x`` (``x.requires_grad`` set, ``y``
computed with gradients enabled) and returns derivatives with respect to ``x``. With
``create_graph=True`` (the default whenever gradients are enabled) the result is differentiable
with respect to the parameters, so it can sit inside a training loss; under ``torch.no_grad()``
nothing is kept beyond what the caller already holds.

Points are assumed independent (row ``i`` of ``y`` depends on row ``i`` of ``x`` only, as for
every coordinate network), so one reverse pass with unit cotangents gives every point's
derivative at once. Loops run over input/output dimensions (a handful), never over points.

Shapes: ``x`` is ``(N, d)``, ``y`` is ``(N, m)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

Operator = Callable[..., torch.Tensor]


def _grad(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """``sum_i dy_i/dx`` per point; zeros where ``y`` does not depend on ``x``."""
    if not y.requires_grad:
        # e.g. the second derivative of a piecewise-linear or linear network
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(
        y,
        x,
        grad_outputs=torch.ones_like(y),
        create_graph=create_graph,
        retain_graph=True,
        allow_unused=True,
    )
    return torch.zeros_like(x) if g is None else g


def _default_graph(create_graph: bool | None) -> bool:
    return torch.is_grad_enabled() if create_graph is None else create_graph


def _operator(fn: Callable[[torch.Tensor, torch.Tensor, bool], torch.Tensor]) -> Operator:
    """Resolve ``create_graph`` from the caller's grad mode, then differentiate with grad on.

    Inner derivatives (the first derivative inside a Laplacian, the slices of a Jacobian) need
    their graph even when the caller is under ``torch.no_grad()``.
    """

    @functools.wraps(fn)
    def wrapper(y: torch.Tensor, x: torch.Tensor, create_graph: bool | None = None):
        cg = _default_graph(create_graph)
        with torch.enable_grad():
            return fn(y, x, cg)

    return wrapper


def _as_2d(y: torch.Tensor) -> torch.Tensor:
    return y.unsqueeze(-1) if y.dim() == 1 else y


@_operator
def jacobian(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """``dy_k/dx_j`` as ``(N, m, d)`` (``y`` of shape ``(N,)`` counts as one output).

    Arguments:
        y: outputs ``(N, m)`` computed from ``x``.
        x: inputs ``(N, d)`` with ``requires_grad``.
        create_graph: keep the result differentiable; default ``torch.is_grad_enabled()``.

    Returns:
        The Jacobian of every point, ``(N, m, d)``.
    """
    y = _as_2d(y)
    return torch.stack([_grad(y[..., k], x, create_graph) for k in range(y.shape[-1])], dim=-2)


@_operator
def gradient(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Gradient of a scalar field: ``y`` ``(N, 1)`` or ``(N,)`` -> ``(N, d)``.

    Arguments:
        y: scalar outputs computed from ``x``.
        x: inputs ``(N, d)`` with ``requires_grad``.
        create_graph: keep the result differentiable; default ``torch.is_grad_enabled()``.

    Returns:
        ``(N, d)``.
    """
    if y.dim() > 1 and y.shape[-1] != 1:
        raise ValueError(f"gradient needs a scalar field, got {y.shape[-1]} outputs; use jacobian")
    return _grad(_as_2d(y)[..., 0], x, create_graph)


def _row_divergence(v: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Divergence of each of ``m`` vector fields ``v`` ``(N, m, d)`` -> ``(N, m)``."""
    d = x.shape[-1]
    cols = [
        sum(_grad(v[:, k, i], x, create_graph)[:, i] for i in range(d)) for k in range(v.shape[1])
    ]
    return torch.stack(cols, dim=-1)


@_operator
def divergence(v: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Divergence of a vector field ``v`` ``(N, d)`` -> ``(N, 1)``.

    Arguments:
        v: vector field computed from ``x``, one component per input dimension.
        x: inputs ``(N, d)`` with ``requires_grad``.
        create_graph: keep the result differentiable; default ``torch.is_grad_enabled()``.

    Returns:
        ``(N, 1)``.
    """
    if v.shape[-1] != x.shape[-1]:
        raise ValueError(f"divergence needs {x.shape[-1]} components, got {v.shape[-1]}")
    return _row_divergence(v.unsqueeze(1), x, create_graph)


@_operator
def hessian(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Second derivatives ``d2y_k / dx_i dx_j`` as ``(N, m, d, d)``.

    Arguments:
        y: outputs ``(N, m)`` computed from ``x``.
        x: inputs ``(N, d)`` with ``requires_grad``.
        create_graph: keep the result differentiable; default ``torch.is_grad_enabled()``.

    Returns:
        ``(N, m, d, d)``, symmetric in the last two axes.
    """
    jac = jacobian(y, x, create_graph=True)
    n, m, d = jac.shape
    return jacobian(jac.reshape(n, m * d), x, create_graph).reshape(n, m, d, d)


@_operator
def laplacian(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Sum of pure second derivatives of every output, ``(N, m)``.

    Arguments:
        y: outputs ``(N, m)`` computed from ``x``.
        x: inputs ``(N, d)`` with ``requires_grad``.
        create_graph: keep the result differentiable; default ``torch.is_grad_enabled()``.

    Returns:
        ``(N, m)``.
    """
    jac = jacobian(y, x, create_graph=True)
    return _row_divergence(jac, x, create_graph)


@_operator
def laplacian_of_jacobian(jac: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Laplacian ``(N, m)`` from a Jacobian ``(N, m, d)`` built with ``create_graph=True``.

    Lets a caller that already holds the Jacobian avoid a second first-order pass.
    """
    return _row_divergence(jac, x, create_graph)
