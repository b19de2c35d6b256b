"""Finite-difference reference for the PML Helmholtz problem (scipy sparse direct solver).

The divergence form of :mod:`.helmholtz` is discretised with the standard 5-point scheme on an
``n x n`` grid over [-1, 1]^2 (``h = 2 / (n - 1)``): the coefficients ``A``, ``B`` are taken at
the half-way points between nodes, and the field is 0 on the outer edge (the layer has damped it
by then). Second-order accurate; about 10 nodes per wavelength or more are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from ..errors import SirenkitError
from .media import VelocityMap
from .pml import PML
from .source import GaussianSource


@dataclass
class HelmholtzProblem:
    """One medium, one frequency, any number of sources.

    Arguments:
        k: wavenumber (the paper: 20).
        medium: the velocity map (squared slowness ``1 / c^2``).
        sources: one field is solved per source.
        pml: the absorbing layer.
    """

    k: float = 20.0
    medium: VelocityMap = field(default_factory=VelocityMap)
    sources: Sequence[GaussianSource] = (GaussianSource(),)
    pml: PML = field(default_factory=PML)


def _axis(n: int) -> np.ndarray:
    return np.linspace(-1.0, 1.0, n)


def _stretch(pml: PML, s: np.ndarray) -> np.ndarray:
    e, _ = pml.stretch(torch.from_numpy(np.asarray(s, dtype=np.float64)))
    return e.numpy()


def helmholtz_matrix(problem: HelmholtzProblem, n: int) -> tuple[sp.csc_matrix, np.ndarray]:
    """The sparse operator on the ``(n - 2)^2`` interior nodes, and ``C`` there.

    Returns:
        ``(M, C)``: ``M u = -C f`` is the discrete equation; ``C = e0 e1`` on the interior nodes
        (flattened in 'ij' order), to scale the right-hand side.
    """
    if n < 5:
        raise SirenkitError(f"finite-difference grid needs at least 5 nodes per side, got {n}")
    h = 2.0 / (n - 1)
    x = _axis(n)
    xi = x[1:-1]
    half_lo, half_hi = xi - h / 2, xi + h / 2
    e_node = _stretch(problem.pml, xi)
    e_lo, e_hi = _stretch(problem.pml, half_lo), _stretch(problem.pml, half_hi)
    ni = n - 2
    # axis 0 varies along rows (i), axis 1 along columns (j)
    a_lo = e_node[None, :] / e_lo[:, None]  # A = e1 / e0 at (i - 1/2, j)
    a_hi = e_node[None, :] / e_hi[:, None]
    b_lo = e_node[:, None] / e_lo[None, :]  # B = e0 / e1 at (i, j - 1/2)
    b_hi = e_node[:, None] / e_hi[None, :]
    c = e_node[:, None] * e_node[None, :]
    pts = torch.from_numpy(np.stack(np.meshgrid(xi, xi, indexing="ij"), -1).reshape(-1, 2))
    m = problem.medium.squared_slowness(pts).numpy().reshape(ni, ni)
    diag = -(a_lo + a_hi + b_lo + b_hi) / h**2 + c * problem.k**2 * m
    idx = np.arange(ni * ni).reshape(ni, ni)
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [diag.ravel()]
    for coef, di, dj in ((a_lo, -1, 0), (a_hi, 1, 0), (b_lo, 0, -1), (b_hi, 0, 1)):
        i0, i1 = max(0, -di), ni - max(0, di)
        j0, j1 = max(0, -dj), ni - max(0, dj)
        rows.append(idx[i0:i1, j0:j1].ravel())
        cols.append(idx[i0 + di : i1 + di, j0 + dj : j1 + dj].ravel())
        vals.append(coef[i0:i1, j0:j1].ravel() / h**2)
    mat = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(ni * ni, ni * ni),
    ).tocsc()
    return mat, c.ravel()


def solve_helmholtz(problem: HelmholtzProblem, n: int) -> np.ndarray:
    """Finite-difference fields of every source on the ``n x n`` grid over [-1, 1]^2.

    Arguments:
        problem: medium, wavenumber, sources and layer.
        n: nodes per side (edges included, where the field is 0).

    Returns:
        ``(S, n, n)`` complex128 array in 'ij' order (row = coordinate 0), like :func:`grid`.
    """
    mat, c = helmholtz_matrix(problem, n)
    x = _axis(n)[1:-1]
    pts = torch.from_numpy(np.stack(np.meshgrid(x, x, indexing="ij"), -1).reshape(-1, 2))
    rhs = np.stack([-c * src(pts).numpy() for src in problem.sources], axis=1)
    # the natural (banded) order is fastest up to a few hundred nodes per side; COLAMD keeps
    # the fill-in (memory) bounded beyond
    lu = spla.splu(mat, permc_spec="NATURAL" if n <= 256 else "COLAMD")
    sol = lu.solve(rhs)
    out = np.zeros((len(problem.sources), n, n), dtype=np.complex128)
    out[:, 1:-1, 1:-1] = sol.T.reshape(-1, n - 2, n - 2)
    return out


def sample_grid(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of grid fields ``(S, n, n)`` over [-1, 1]^2 at ``points`` ``(P, 2)``.

    Returns ``(P, S)``: e.g. receiver data from a finite-difference solution.
    """
    from scipy.interpolate import RegularGridInterpolator

    n = field.shape[-1]
    axis = _axis(n)
    out = []
    for f in field:
        interp = RegularGridInterpolator((axis, axis), f, method="linear")
        out.append(interp(np.clip(points, -1, 1)))
    return np.stack(out, axis=1)
