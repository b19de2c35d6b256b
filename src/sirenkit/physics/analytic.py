"""Closed-form solutions in a uniform, unbounded medium: second checks of the references."""

from __future__ import annotations

import numpy as np
from scipy.special import hankel1, j0

from .source import GaussianSource


def hankel_solution(points: np.ndarray, k: float, source: GaussianSource) -> np.ndarray:
    """Outgoing field of a Gaussian source in free space at ``points`` ``(P, 2)``; ``(P,)`` complex.

    ``(i/4) H0^(1)(k r)`` is the Green's function of ``Laplacian + k^2`` (time factor
    ``exp(-i omega t)``); convolved with the unit-mass Gaussian of width ``s`` it is, away from
    the source (r > ~4 s), ``(i/4) H0^(1)(k r) exp(-k^2 s^2 / 2)`` times the amplitude (the
    Gaussian's Fourier transform at the wavenumber). Inside the source it is not valid.
    """
    r = np.linalg.norm(np.asarray(points, dtype=np.float64) - np.asarray(source.center), axis=-1)
    r = np.maximum(r, 1e-12)
    damp = np.exp(-(k**2) * source.width**2 / 2)
    return 0.25j * hankel1(0, k * r) * damp * complex(source.amplitude)


def pulse_solution(
    r: np.ndarray, t: float, width: float, speed: float = 1.0, n_quad: int = 4000
) -> np.ndarray:
    """Free-space wave from ``u(0) = exp(-r^2 / (2 width^2))``, ``u_t(0) = 0``, at radii ``r``.

    By the Hankel transform, ``u(r, t) = s^2 int_0^inf exp(-q^2 s^2/2) cos(c q t) J0(q r) q dq``;
    the integrand is negligible beyond ``q = 12 / s``, and the trapezoidal rule on ``n_quad``
    nodes is exact to many digits for the smooth integrand.
    """
    q = np.linspace(0.0, 12.0 / width, n_quad)
    weight = width**2 * np.exp(-(q**2) * width**2 / 2) * np.cos(speed * q * t) * q
    rr = np.asarray(r, dtype=np.float64)
    vals = j0(np.multiply.outer(rr, q)) * weight
    return np.trapezoid(vals, q, axis=-1)
