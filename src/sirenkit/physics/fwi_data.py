"""Receiver data for full-waveform inversion: the paper's .mat files and generated data.

A data set is the complex field of ``S`` sources recorded at ``R`` receivers. sirenkit's
convention (see :mod:`.helmholtz`) is ``exp(-i omega t)`` and ``Laplacian u + k^2 m u = -f`` with
a unit source. The authors' files (``data_cylinder_5.mat``: keys ``rec_val`` (R, S) complex,
``receivers`` (R, 2), ``source`` (S, 2)) use ``exp(+i omega t)`` and
``Laplacian v + k^2 m v = (1 + i) f``, so ``u = -conj(v) / (1 - i)``; :func:`load_fwi_data`
converts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.io

from ..errors import SirenkitError, require_file
from .helmholtz_fd import HelmholtzProblem, sample_grid, solve_helmholtz
from .media import VelocityMap
from .pml import PML
from .source import GaussianSource

Convention = Literal["paper", "sirenkit"]
PAPER_AMPLITUDE = 1 + 1j


@dataclass
class FWIData:
    """Sources, receivers and the recorded fields, in sirenkit's convention.

    Attributes:
        sources: ``(S, 2)`` source positions.
        receivers: ``(R, 2)`` receiver positions.
        values: ``(R, S)`` complex field of source ``s`` at receiver ``r``.
        fields: ``(S, n, n)`` full finite-difference fields when the data were generated.
    """

    sources: np.ndarray
    receivers: np.ndarray
    values: np.ndarray
    fields: np.ndarray | None = None


def paper_geometry() -> tuple[np.ndarray, np.ndarray]:
    """The acquisition of the paper's cylinder data: 5 sources below, 30 receivers around.

    Sources on the line ``x1 = -0.347``; 10 receivers on ``x1 = 0.402`` and 10 on each side
    ``x0 = -+0.402`` (positions as in ``data_cylinder_5.mat``).
    """
    a, b = 0.34705882, 0.40196078
    sources = np.stack([np.linspace(-a, a, 5), np.full(5, -a)], axis=1)
    top = np.stack([np.linspace(-a, a, 10), np.full(10, b)], axis=1)
    side = np.linspace(-0.25294118, b, 10)
    left = np.stack([np.full(10, -b), side], axis=1)
    right = np.stack([np.full(10, b), side], axis=1)
    return sources, np.concatenate([top, left, right])


def _to_sirenkit(values: np.ndarray, convention: Convention) -> np.ndarray:
    if convention == "paper":
        return -np.conj(values) / np.conj(PAPER_AMPLITUDE)
    return values


def _from_sirenkit(values: np.ndarray, convention: Convention) -> np.ndarray:
    if convention == "paper":
        return -np.conj(values * np.conj(PAPER_AMPLITUDE))
    return values


def load_fwi_data(path: str | Path, convention: Convention = "paper") -> FWIData:
    """Read a receiver-data .mat file (keys ``rec_val``, ``receivers``, ``source``).

    Arguments:
        path: the file.
        convention: ``paper`` for the authors' files (converted, see the module doc) or
            ``sirenkit`` for values already in this library's convention.

    Returns:
        An :class:`FWIData` in sirenkit's convention.
    """
    p = require_file(path, "FWI data file")
    try:
        mat = scipy.io.loadmat(p)
    except Exception as e:  # scipy raises several types for a bad file
        raise SirenkitError(f"{p}: not a readable .mat file ({e})") from None
    missing = [key for key in ("rec_val", "receivers", "source") if key not in mat]
    if missing:
        raise SirenkitError(f"{p}: missing keys {missing}; expected rec_val, receivers, source")
    values = np.asarray(mat["rec_val"], dtype=np.complex128)
    receivers = np.asarray(mat["receivers"], dtype=np.float64)
    sources = np.asarray(mat["source"], dtype=np.float64).reshape(-1, 2)
    if receivers.ndim != 2 or receivers.shape[1] != 2:
        raise SirenkitError(f"{p}: receivers must be (R, 2), got {receivers.shape}")
    if values.shape != (receivers.shape[0], sources.shape[0]):
        raise SirenkitError(
            f"{p}: rec_val must be (receivers, sources) = "
            f"{(receivers.shape[0], sources.shape[0])}, got {values.shape}"
        )
    if np.abs(receivers).max() > 1 or np.abs(sources).max() > 1:
        raise SirenkitError(f"{p}: coordinates must lie in [-1, 1]")
    return FWIData(sources, receivers, _to_sirenkit(values, convention))


def save_fwi_data(path: str | Path, data: FWIData, convention: Convention = "paper") -> Path:
    """Write ``data`` in the .mat layout :func:`load_fwi_data` reads."""
    path = Path(path)
    scipy.io.savemat(
        path,
        {
            "rec_val": _from_sirenkit(data.values, convention),
            "receivers": data.receivers,
            "source": data.sources,
        },
    )
    return path


def generate_fwi_data(
    medium: VelocityMap,
    *,
    k: float,
    sources: np.ndarray,
    receivers: np.ndarray,
    source_width: float,
    pml: PML,
    n: int = 201,
) -> FWIData:
    """Receiver data of ``medium`` from the finite-difference solver (one solve per source).

    Arguments:
        medium: the true velocity map.
        k: wavenumber.
        sources: ``(S, 2)`` positions (unit Gaussian sources of width ``source_width``).
        receivers: ``(R, 2)`` positions; fields are interpolated bilinearly there.
        source_width: standard deviation of the Gaussian sources.
        pml: the absorbing layer.
        n: finite-difference nodes per side.

    Returns:
        The data with the full fields attached.
    """
    problem = HelmholtzProblem(
        k=k,
        medium=medium,
        sources=[
            GaussianSource(center=(float(x), float(y)), width=source_width) for x, y in sources
        ],
        pml=pml,
    )
    fields = solve_helmholtz(problem, n)
    return FWIData(sources, receivers, sample_grid(fields, receivers), fields)
