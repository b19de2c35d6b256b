"""Signed distance functions from points, as constraints: the SIREN paper's Section 4.2.

A surface is the zero level set of ``f``, negative inside (the paper's sign). Every term of the
loss is a residual that vanishes on the exact SDF, penalised by its absolute value (the
paper's ``|C|``, not its square: the surface term stays sharp near zero):

- on surface points (a :class:`~sirenkit.problems.domains.PointSet` carrying the normals):
  the value ``f``, the normal misalignment ``1 - cos(grad f, n)`` and the Eikonal residual
  ``|grad f| - 1`` (:func:`surface_residual`);
- off the surface, either the distance residual ``f - d`` against target distances the points
  carry (:func:`distance_residual`, sirenkit's default: every region of space is told how far
  the surface is, so no zero crossing survives far from the points) or the paper's
  ``exp(-alpha |f|)`` that only keeps ``f`` away from zero (:func:`off_surface_residual`), both
  with the Eikonal residual.

:func:`sdf_problem` assembles them with each column's weight; one pass of the derivative
engine per domain serves all of that domain's terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ..problems import Constraint, Problem
from ..problems.domains import Box, PointSet

if TYPE_CHECKING:
    from ..problems import Field
    from ..problems.problem import Residual

NAMES = ("x", "y", "z")


def eikonal(f: Field) -> torch.Tensor:
    """``|grad f| - 1``, ``(N, 1)``: zero for a distance function."""
    return f.grad.norm(dim=-1, keepdim=True) - 1


def surface_residual(gradients: bool = True) -> Residual:
    """On surface points whose normals are the domain's data: ``f`` alone, or (``gradients``)
    ``[f, 1 - cos(grad f, n), |grad f| - 1]``."""

    def residual(f: Field) -> torch.Tensor:
        value = f.u  # first: with the plan of the previous step, one pass gives all three
        if not gradients:
            return value
        g = f.grad
        cos = torch.nn.functional.cosine_similarity(g, f.data, dim=-1)
        return torch.cat([value, (1 - cos)[:, None], eikonal(f)], dim=1)

    return residual


def distance_residual(gradients: bool = True) -> Residual:
    """At points carrying a target signed distance ``d``: ``f - d``, and (``gradients``) the
    Eikonal residual."""

    def residual(f: Field) -> torch.Tensor:
        r = f.u - f.data
        return torch.cat([r, eikonal(f)], dim=1) if gradients else r

    return residual


def off_surface_residual(alpha: float) -> Residual:
    """The paper's ``[exp(-alpha |f|), |grad f| - 1]`` off the surface: the first is large
    wherever ``f`` is near zero away from the points."""

    def residual(f: Field) -> torch.Tensor:
        return torch.cat([torch.exp(-alpha * f.u.abs()), eikonal(f)], dim=1)

    return residual


def sdf_problem(
    points: np.ndarray,
    normals: np.ndarray,
    *,
    weight_surface: float,
    weight_normal: float,
    weight_eikonal: float,
    gradients: bool = True,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
    weight_distance: float = 0.0,
    weight_off_surface: float = 0.0,
    alpha: float = 100.0,
    points_per_step: int = 1024,
) -> Problem:
    """The SDF of the surface that ``points`` (with outward unit ``normals``) sample, in the
    [-1, 1] cube.

    Arguments:
        points, normals: ``(N, 3)`` surface samples.
        weight_surface, weight_normal, weight_eikonal: weights of ``|f|``, ``1 - cos`` and
            ``||grad f| - 1|``; the Eikonal term is a mean over every point of a step.
        gradients: with ``pool``, whether the normal and Eikonal terms are used at all
            (without them a step is one forward and one backward pass).
        pool: ``(x, d)`` points off the surface with their target signed distances: the
            distance recipe (``weight_distance``); None: the paper's recipe, uniform points in
            the cube with ``exp(-alpha |f|)`` (``weight_off_surface``).
        points_per_step: surface points per step, and as many off the surface.

    Returns:
        Two constraints, ``on`` and ``off`` the surface, both with the ``abs`` penalty and one
        weight per residual column (logged as ``loss_surface``, ``loss_normal``,
        ``loss_eikonal_surface``, ``loss_distance`` or ``loss_off_surface``,
        ``loss_eikonal_off``). Masked terms of the paper's loss
        are averaged over the whole batch, as in the authors' code, so its weights mean what
        they mean there: a term on half the points gets half its weight.
    """
    n = points_per_step
    surface = PointSet(points, normals, replace=True)
    half = 0.5  # each domain's share of a step's points, for terms averaged over all of them
    if pool is not None:
        if not gradients:
            weights: tuple[float, ...] = (weight_surface,)
            parts: tuple[str, ...] = ("surface",)
        else:
            weights = (weight_surface, weight_normal, half * weight_eikonal)
            parts = ("surface", "normal", "eikonal_surface")
        off = Constraint(
            PointSet(*pool, replace=True),
            distance_residual(gradients),
            n,
            (weight_distance, half * weight_eikonal) if gradients else (weight_distance,),
            "off",
            penalty="abs",
            parts=("distance", "eikonal_off") if gradients else ("distance",),
        )
    else:
        weights = (half * weight_surface, half * weight_normal, half * weight_eikonal)
        parts = ("surface", "normal", "eikonal_surface")
        off = Constraint(
            Box([-1.0] * 3, [1.0] * 3),
            off_surface_residual(alpha),
            n,
            (half * weight_off_surface, half * weight_eikonal),
            "off",
            penalty="abs",
            parts=("off_surface", "eikonal_off"),
        )
    on = Constraint(
        surface,
        surface_residual(gradients or pool is None),
        n,
        weights,
        "on",
        penalty="abs",
        parts=parts,
    )
    return Problem([on, off], NAMES, name="sdf")
