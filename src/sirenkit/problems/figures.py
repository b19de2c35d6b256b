"""Pictures of a solved problem: the solution, its residual and its error, in the run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError
from ..viz.figures import pyplot
from .problem import Problem, Reference

GRID = 160
"""Samples per axis of the pictures."""


def _mask(problem: Problem, x: torch.Tensor) -> np.ndarray:
    """Which grid points lie in the first constraint's domain (all, if it cannot tell)."""
    try:
        return problem.constraints[0].domain.contains(x, problem.names).numpy()
    except SirenkitError:
        return np.ones(len(x), dtype=bool)


def _image(ax, fig, values: np.ndarray, extent, title: str, names, cmap="viridis") -> None:
    im = ax.imshow(values.T, origin="lower", extent=extent, aspect="auto", cmap=cmap)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


def write_solution_figures(
    problem: Problem,
    model: nn.Module,
    run_dir: Path,
    reference: Reference | None,
    rms: dict[str, float] | None = None,
) -> None:
    """``solution.png`` (field, residual, error), ``solution.npz`` and ``residual.json`` (the
    RMS residuals ``rms`` when the final evaluation has them, else computed here)."""
    from .problem import model_dtype
    from .task import residual_rms

    device, dtype = next(model.parameters()).device, model_dtype(model)
    rms = residual_rms(problem, model) if rms is None else rms
    (run_dir / "residual.json").write_text(json.dumps({"rms": rms}, indent=2) + "\n")
    lo, hi = problem.constraints[0].domain.bounds
    d, names = problem.dim, problem.names
    if d > 3:
        return
    axes = [torch.linspace(float(lo[k]), float(hi[k]), GRID, dtype=torch.float64) for k in range(d)]
    across = names.index("t") if "t" in names else d - 1  # 3-D: four slices in time
    if d == 3:
        axes[across] = torch.linspace(float(lo[across]), float(hi[across]), 4, dtype=torch.float64)
    x = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    inside = _mask(problem, x)
    u = problem.values(model, x.to(device, dtype)).cpu().numpy()
    u[~inside] = np.nan
    c0 = problem.constraints[0]
    r = _residual_on(problem, model, x.to(device, dtype))
    if r is not None:
        r[~inside] = np.nan
    np.savez_compressed(
        run_dir / "solution.npz",
        **{name: a.numpy() for name, a in zip(names, axes, strict=True)},
        u=u.reshape(*[len(a) for a in axes], -1),
    )
    plt = pyplot()
    shape = [len(a) for a in axes]
    if d == 1:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
        for i in range(u.shape[1]):
            ax[0].plot(axes[0], u[:, i], label=f"u[{i}]")
        if reference is not None:
            ax[0].plot(reference.points[:, 0], reference.values[:, 0], "k.", ms=2, label="ref")
        ax[0].legend()
        ax[0].set_xlabel(names[0])
        if r is not None:
            ax[1].semilogy(axes[0], np.abs(r) + 1e-30)
            ax[1].set_title(f"|residual {c0.name}|", fontsize=9)
    elif d == 2:
        panels = u.shape[1] + (r is not None) + (2 if reference is not None else 0)
        fig, axs = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), squeeze=False)
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        i = 0
        for c in range(u.shape[1]):
            _image(axs[0, i], fig, u[:, c].reshape(shape), extent, f"u[{c}]", names)
            i += 1
        if r is not None:
            img = np.log10(np.abs(r).reshape(shape) + 1e-12)
            _image(axs[0, i], fig, img, extent, f"log10 |residual {c0.name}|", names, "magma")
            i += 1
        if reference is not None:
            _reference_panels(axs[0, i : i + 2], fig, problem, model, reference, names)
    else:
        fig, axs = plt.subplots(u.shape[1], 4, figsize=(16, 3.6 * u.shape[1]), squeeze=False)
        a, b = (k for k in range(3) if k != across)
        extent = (float(lo[a]), float(hi[a]), float(lo[b]), float(hi[b]))
        cube = np.moveaxis(u.reshape(*shape, -1), across, 2)
        for c in range(u.shape[1]):
            for j in range(4):
                title = f"u[{c}] at {names[across]} = {float(axes[across][j]):.3g}"
                _image(axs[c, j], fig, cube[:, :, j, c], extent, title, (names[a], names[b]))
    fig.tight_layout()
    fig.savefig(run_dir / "solution.png", dpi=100)
    plt.close(fig)


def _residual_on(problem: Problem, model: nn.Module, x: torch.Tensor) -> np.ndarray | None:
    """|residual| of the first constraint on the picture's grid (None for a data constraint)."""
    c0 = problem.constraints[0]
    from .domains import PointSet

    if isinstance(c0.domain, PointSet):
        return None
    parts = []
    for i in range(0, len(x), 8192):
        with torch.no_grad():
            r = problem.residual(c0, model, x[i : i + 8192])
        parts.append(r.abs().pow(2).sum(-1).sqrt().cpu())
    return torch.cat(parts).numpy()


def _reference_panels(axs, fig, problem, model, reference: Reference, names) -> None:
    device = next(model.parameters()).device
    u = problem.values(model, reference.points.to(device)).cpu().numpy()[:, 0]
    p, v = reference.points.numpy(), reference.values.numpy()[:, 0]
    for ax, values, title, cmap in (
        (axs[0], v, "reference", "viridis"),
        (axs[1], np.abs(u - v), "|u - reference|", "magma"),
    ):
        sc = ax.scatter(p[:, 0], p[:, 1], c=values, s=2, cmap=cmap, marker="s")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.04)
