"""Differential operators by automatic differentiation, for any network.

Each operator takes outputs ``y`` computed from inputs ``x`` (``x.requires_grad`` set) and
returns derivatives with respect to ``x``. With ``create_graph=True`` (the default whenever
gradients are enabled) the result is differentiable with respect to the parameters, so it can
sit inside a training loss. Loops run over input/output dimensions (at most a handful), never
over points.

Shapes: ``x`` is ``(N, d)``, ``y`` is ``(N, m)``.
"""

from __future__ import annotations

import torch


def _grad(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
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


def jacobian(y: torch.Tensor, x: torch.Tensor, create_graph: bool | None = None) -> torch.Tensor:
    """``dy_i/dx_j`` as ``(N, m, d)``."""
    cg = _default_graph(create_graph)
    return torch.stack([_grad(y[..., i], x, cg) for i in range(y.shape[-1])], dim=-2)


def gradient(y: torch.Tensor, x: torch.Tensor, create_graph: bool | None = None) -> torch.Tensor:
    """Gradient of a scalar field: ``y`` ``(N, 1)`` or ``(N,)`` -> ``(N, d)``."""
    if y.dim() == x.dim() and y.shape[-1] != 1:
        raise ValueError(f"gradient needs a scalar field, got {y.shape[-1]} outputs; use jacobian")
    return _grad(
        y.reshape(y.shape[0], -1).sum(-1) if y.dim() > 1 else y, x, _default_graph(create_graph)
    )


def divergence(v: torch.Tensor, x: torch.Tensor, create_graph: bool | None = None) -> torch.Tensor:
    """Divergence of a vector field ``v`` ``(N, d)`` -> ``(N, 1)``."""
    cg = _default_graph(create_graph)
    if v.shape[-1] != x.shape[-1]:
        raise ValueError(f"divergence needs {x.shape[-1]} components, got {v.shape[-1]}")
    return sum(_grad(v[..., i], x, cg)[..., i : i + 1] for i in range(x.shape[-1]))


def hessian(y: torch.Tensor, x: torch.Tensor, create_graph: bool | None = None) -> torch.Tensor:
    """Second derivatives ``d2y_k / dx_i dx_j`` as ``(N, m, d, d)``."""
    cg = _default_graph(create_graph)
    rows = []
    for k in range(y.shape[-1]):
        g = _grad(y[..., k], x, True)
        rows.append(torch.stack([_grad(g[..., i], x, cg) for i in range(x.shape[-1])], dim=-2))
    return torch.stack(rows, dim=-3)


def laplacian(y: torch.Tensor, x: torch.Tensor, create_graph: bool | None = None) -> torch.Tensor:
    """Sum of pure second derivatives, ``(N, m)``; cheaper than the full Hessian."""
    cg = _default_graph(create_graph)
    out = []
    for k in range(y.shape[-1]):
        g = _grad(y[..., k], x, True)
        out.append(sum(_grad(g[..., i], x, cg)[..., i] for i in range(x.shape[-1])))
    return torch.stack(out, dim=-1)
