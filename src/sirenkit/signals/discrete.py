"""Finite-difference derivatives of sampled signals, in the coordinate units of :func:`grid`.

A network fitted on ``grid(shape)`` sees axis ``i`` with spacing ``h_i = 2 / (shape[i] - 1)``;
dividing the discrete differences by these spacings makes the finite-difference derivatives and
the network's autograd derivatives the same quantity.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .grid import spacing


def grid_gradient(values: np.ndarray, ndim: int | None = None) -> np.ndarray:
    """Central differences (one-sided at the border) of ``values`` ``(*shape, C)``.

    Returns ``(*shape, C, d)``: the derivative of each channel along each grid axis.
    """
    d = values.ndim - 1 if ndim is None else ndim
    shape = values.shape[:d]
    h = spacing(shape)
    parts = np.gradient(values, *h, axis=tuple(range(d)))
    if d == 1:
        parts = [parts]
    return np.stack(parts, axis=-1)


def sobel_gradient(values: np.ndarray, ndim: int | None = None) -> np.ndarray:
    """The Sobel gradient in grid units: :func:`grid_gradient` smoothed across each axis.

    Along its own axis each component is the central difference ``(f[i+1] - f[i-1]) / 2h``;
    across the other axes it is averaged with weights ``[1, 2, 1] / 4``. In the interior this
    is ``scipy.ndimage.sobel(values, axis) / (2 h 4^(d-1))``, the filter of the paper's code
    divided by the factor that makes it a derivative in the coordinate units of :func:`grid`.
    Border samples use one-sided differences and reflected neighbours for the smoothing.
    Returns ``(*shape, C, d)``.
    """
    d = values.ndim - 1 if ndim is None else ndim
    g = grid_gradient(values.astype(np.float64), d)
    smooth = np.array([1.0, 2.0, 1.0]) / 4.0
    for comp in range(d):
        for axis in range(d):
            if axis != comp:
                g[..., comp] = ndimage.correlate1d(g[..., comp], smooth, axis=axis, mode="reflect")
    return g


def grid_laplacian(values: np.ndarray, ndim: int | None = None) -> np.ndarray:
    """Sum over axes of the 3-point second difference ``(f[i-1] - 2 f[i] + f[i+1]) / h^2``.

    Border samples use reflected neighbours (zero normal derivative), which is not the
    Laplacian of the signal there: fits use ``interior(shape)`` to leave the border ring out.
    Returns ``(*shape, C)``.
    """
    d = values.ndim - 1 if ndim is None else ndim
    h = spacing(values.shape[:d])
    out = np.zeros_like(values, dtype=np.float64)
    for axis in range(d):
        w = np.array([1.0, -2.0, 1.0]) / h[axis] ** 2
        out += ndimage.correlate1d(values.astype(np.float64), w, axis=axis, mode="reflect")
    return out


def interior(shape: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of the samples whose every axis neighbour exists (all but the border ring)."""
    inside = np.zeros(shape, dtype=bool)
    inside[tuple(slice(1, -1) for _ in shape)] = True
    return inside
