"""Discrete Poisson solvers on image grids (the classical references for the network fits).

:class:`MaskedPoisson` solves the 5-point discrete Poisson equation for the pixels inside a
mask, with Dirichlet values from the pixels outside it, by one sparse LU factorisation that is
reused for every channel and every right-hand side. It gives

- :func:`harmonic_extension`: the discrete harmonic function with given border values, i.e.
  what a Laplacian cannot see, removed before an honest PSNR of a Laplacian-supervised fit;
- :func:`seamless_clone`: Pérez, Gangnet and Blake's Poisson image editing (2003), importing
  or mixing gradients, the reference the network's blend is compared with.

The equations are scale-free (``h^2`` multiplies both sides), so no grid units appear here.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from ..errors import SirenkitError
from .discrete import interior

# The four axis neighbours of a pixel as (row, column) offsets.
_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _shifted(a: np.ndarray, dy: int, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """``a`` at the neighbour ``(y + dy, x + dx)`` of every pixel, and where that neighbour exists.

    Values where the neighbour is missing are copies of ``a`` (harmless: they are masked out).
    """
    h, w = a.shape[:2]
    out = a.copy()
    valid = np.zeros((h, w), dtype=bool)
    ys = slice(max(0, -dy), h - max(0, dy))
    xs = slice(max(0, -dx), w - max(0, dx))
    ys_n = slice(max(0, dy), h - max(0, -dy))
    xs_n = slice(max(0, dx), w - max(0, -dx))
    out[ys, xs] = a[ys_n, xs_n]
    valid[ys, xs] = True
    return out, valid


class MaskedPoisson:
    """Sparse LU of the 5-point Laplacian restricted to the pixels of ``mask`` ``(H, W)``.

    For a pixel ``p`` in the mask with image neighbours ``N_p`` (2 to 4 of them):
    ``|N_p| f_p - sum_{q in N_p, q in mask} f_q = sum_{q in N_p, q not in mask} f_q + b_p``.
    Neighbours missing at the image border drop out (zero normal derivative there).
    """

    def __init__(self, mask: np.ndarray) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.ndim != 2:
            raise SirenkitError(f"Poisson mask must be (H, W), got shape {m.shape}")
        if not m.any():
            raise SirenkitError("Poisson mask is empty: no pixel to solve for")
        if m.all():
            raise SirenkitError("Poisson mask covers the whole image: no boundary values")
        self.mask = m
        self.index = np.full(m.shape, -1, dtype=np.int64)
        self.index[m] = np.arange(int(m.sum()))
        n = int(m.sum())
        rows, cols, vals = [], [], []
        diag = np.zeros(m.shape)
        for dy, dx in _NEIGHBOURS:
            q_index, valid = _shifted(self.index, dy, dx)
            diag += valid
            inner = m & valid & (q_index >= 0)
            rows.append(self.index[inner])
            cols.append(q_index[inner])
            vals.append(-np.ones(int(inner.sum())))
        rows.append(self.index[m])
        cols.append(self.index[m])
        vals.append(diag[m])
        a = sparse.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )
        self._lu = splu(a)

    def solve(self, outside: np.ndarray, guidance: np.ndarray | None = None) -> np.ndarray:
        """Fill the mask of ``outside`` ``(H, W, C)`` with the solution; outside pixels are kept.

        Arguments:
            outside: image whose pixels outside the mask are the Dirichlet values.
            guidance: ``(H, W, C)`` right-hand side ``b_p`` (the summed guidance differences
                ``sum_q v_pq``), or None for Laplace's equation.

        Returns:
            A new ``(H, W, C)`` float64 array.
        """
        vals = np.asarray(outside, dtype=np.float64)
        rhs = np.zeros(vals.shape)
        for dy, dx in _NEIGHBOURS:
            q_vals, valid = _shifted(vals, dy, dx)
            q_out, _ = _shifted(~self.mask, dy, dx)
            rhs += np.where((valid & q_out)[..., None], q_vals, 0.0)
        if guidance is not None:
            rhs += guidance
        out = vals.copy()
        out[self.mask] = self._lu.solve(np.ascontiguousarray(rhs[self.mask]))
        return out


def harmonic_extension(values: np.ndarray, solver: MaskedPoisson | None = None) -> np.ndarray:
    """The discrete harmonic function equal to ``values`` ``(H, W, C)`` on the border ring.

    Arguments:
        values: image whose outermost rows and columns give the boundary values.
        solver: a :class:`MaskedPoisson` of ``interior(shape)``, to reuse its factorisation.

    Returns:
        ``(H, W, C)``: ``values`` on the ring, the 5-point harmonic interpolant inside.
    """
    shape = values.shape[:2]
    if min(shape) < 3:
        return np.asarray(values, dtype=np.float64).copy()
    solver = solver or MaskedPoisson(interior(shape))
    return solver.solve(values)


def guidance_sums(source: np.ndarray, target: np.ndarray, mixed: bool) -> np.ndarray:
    """Pérez et al.'s ``sum_q v_pq`` for every pixel, ``(H, W, C)``.

    ``v_pq = s_p - s_q`` (importing the source's gradients) or, with ``mixed``, whichever of
    ``s_p - s_q`` and ``t_p - t_q`` is larger in magnitude, per neighbour pair and channel.
    """
    s = np.asarray(source, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    total = np.zeros(s.shape)
    for dy, dx in _NEIGHBOURS:
        s_q, valid = _shifted(s, dy, dx)
        v = s - s_q
        if mixed:
            t_q, _ = _shifted(t, dy, dx)
            vt = t - t_q
            v = np.where(np.abs(v) >= np.abs(vt), v, vt)
        total += np.where(valid[..., None], v, 0.0)
    return total


def seamless_clone(
    target: np.ndarray, source: np.ndarray, mask: np.ndarray, *, mixed: bool = False
) -> np.ndarray:
    """Classical Poisson image editing: ``source`` blended into ``target`` inside ``mask``.

    Arguments:
        target: ``(H, W, C)`` image kept outside the mask.
        source: ``(H, W, C)`` image, aligned with ``target``, whose gradients fill the mask.
        mask: ``(H, W)`` booleans, True where the source goes.
        mixed: mix gradients (keep the target's where they are stronger) instead of importing.

    Returns:
        ``(H, W, C)`` float64 blend.
    """
    solver = MaskedPoisson(mask)
    return solver.solve(target, guidance_sums(source, target, mixed))
