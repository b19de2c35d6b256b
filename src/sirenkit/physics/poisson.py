"""Images from their derivatives (the paper's Poisson experiments) as a constraint set.

A network's input gradient (or Laplacian), computed exactly by the derivative engine, is fitted
to a target field given at points (the pixels of the [-1, 1] grid, in its coordinate units).
The residual is ``fit - target``; the loss is its relative squared norm
``sum |fit - target|^2 / sum |target|^2``, a dimensionless normalisation with no other factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..derivatives import value_and_derivatives
from ..problems import Constraint, Problem
from ..problems.domains import PointSet
from ..render import in_chunks, model_device
from ..signals.grid import grid

if TYPE_CHECKING:
    from ..problems import Field

NAMES = ("y", "x")
"""The image axes, row first ('ij' order of :func:`~sirenkit.signals.grid`)."""


def gradient_residual(f: Field) -> torch.Tensor:
    """The field's gradient minus the target gradient the points carry, ``(N, 2 C)``."""
    return f.grad.reshape(len(f.x), -1) - f.data


def laplacian_residual(f: Field) -> torch.Tensor:
    """The field's Laplacian minus the target Laplacian the points carry, ``(N, C)``."""
    return f.lap - f.data


def supervision(
    coords: torch.Tensor,
    target: torch.Tensor | np.ndarray,
    *,
    laplacian: bool,
    points: int | None,
    name: str = "supervision",
) -> Constraint:
    """The constraint ``derivative = target`` at the points ``coords`` ``(N, 2)``.

    Arguments:
        coords: where the target is given.
        target: ``(N, C, 2)`` gradients (d/dy, d/dx) or ``(N, C)`` Laplacians.
        laplacian: which derivative ``target`` is.
        points: points drawn per step (None: all of them).
        name: the constraint's name in the logs.

    The weight ``N C / sum |target|^2`` makes the loss the relative squared error (exactly
    so on all the points; its unbiased estimate on a random share).
    """
    flat = torch.as_tensor(target).reshape(len(target), -1)
    weight = flat.numel() / float((flat.double() ** 2).sum().clamp_min(1e-12))
    residual = laplacian_residual if laplacian else gradient_residual
    return Constraint(PointSet(coords, flat), residual, points, weight, name)


def guided_values(
    coords: torch.Tensor,
    guidance: np.ndarray,
    values: np.ndarray,
    valued: np.ndarray,
    *,
    value_weight: float,
    points: int | None,
) -> Constraint:
    """Poisson image editing as one constraint: the gradient follows a guidance field at every
    point, and the values are fitted where ``valued`` (the Dirichlet condition).

    Arguments:
        coords: ``(N, 2)`` points.
        guidance: ``(N, C, 2)`` gradient field.
        values: ``(N, C)`` values, used where ``valued``.
        valued: ``(N,)`` booleans.
        value_weight: weight of the values' mean squared error.
        points: points drawn per step (None: all of them).

    One constraint, so one pass of the engine serves both terms. The residual's columns are
    ``2 C`` gradient ones then ``C`` value ones, scaled so that their mean square is
    ``relative_squared_error(gradient, guidance) + value_weight * MSE(values where valued)``;
    each part's share is ``sum of its columns' squares / residual.numel()``.
    """
    n, c = values.shape
    g = guidance.reshape(n, 2 * c).astype(np.float64)
    mask = valued.reshape(n, 1)
    alpha = (3 * c * n / max(float((g**2).sum()), 1e-12)) ** 0.5
    beta = (3 * n * value_weight / max(int(mask.sum()), 1)) ** 0.5

    def residual(f: Field) -> torch.Tensor:
        grad = f.grad.reshape(len(f.x), -1)  # first: the same pass gives the value
        d = f.data
        fitted = (f.u - d[:, 2 * c : 3 * c]) * d[:, 3 * c :]
        return torch.cat([(grad - d[:, : 2 * c]) * alpha, fitted * beta], dim=1)

    data = np.concatenate([g, values, mask], axis=1)
    return Constraint(PointSet(coords, data), residual, points, 1.0, "guided_values")


def mean_value(
    coords: torch.Tensor, values: torch.Tensor | np.ndarray, *, points: int | None
) -> Constraint:
    """The field's mean over the drawn points follows ``values``' mean there (``(N, C)`` at
    ``coords``): what a gradient leaves free, an image being fixed by it up to a constant."""

    def residual(f: Field) -> torch.Tensor:
        return (f.u - f.data).mean(0, keepdim=True).expand(len(f.x), -1)

    return Constraint(
        PointSet(coords, values.reshape(len(values), -1)), residual, points, 1.0, "mean"
    )


def poisson_problem(
    coords: torch.Tensor,
    target: torch.Tensor | np.ndarray,
    *,
    laplacian: bool,
    points: int | None,
    values: torch.Tensor | np.ndarray | None = None,
) -> Problem:
    """An image from its gradient or Laplacian alone: one :func:`supervision` constraint on a
    network with one output per channel of ``target``; with ``values`` (the image, ``(N, C)``),
    a second one pins the field's mean to theirs (:func:`mean_value`)."""
    constraints = [supervision(coords, target, laplacian=laplacian, points=points)]
    if values is not None:
        constraints.append(mean_value(coords, values, points=points))
    return Problem(constraints, NAMES, outputs=target.shape[1], name="poisson")


def network_fields(
    model: nn.Module, shape: tuple[int, int], laplacian: bool = False, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """The network's image ``(H, W, C)`` and its gradient ``(H, W, C, 2)`` (or, with
    ``laplacian``, its Laplacian ``(H, W, C)``) on ``grid(shape)``, evaluated in chunks."""
    coords = grid(shape, device=model_device(model))

    def fn(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            d = value_and_derivatives(model, x, gradient=not laplacian, laplacian=laplacian)
        return d.value, d.laplacian if laplacian else d.gradient

    value, deriv = in_chunks(fn, coords, chunk)
    value = value.reshape(*shape, -1).float().cpu().numpy()
    return value, deriv.reshape(*shape, *deriv.shape[1:]).float().cpu().numpy()
