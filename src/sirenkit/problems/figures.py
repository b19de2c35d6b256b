"""Pictures of a solved problem: the solution, its residual and its error, in the run folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError
from ..viz.figures import pyplot
from .problem import Problem, Reference, model_dtype

GRID = 160
"""Samples per axis of the pictures."""


@dataclass
class Grid:
    """A 2-D picture's grid: the field there ``(G, m)``, the exact solution where the
    reference is a function (else None), the grid's shape and its extent."""

    u: np.ndarray
    reference: np.ndarray | None
    shape: list[int]
    extent: tuple[float, float, float, float]
    at_reference: np.ndarray | None = None
    """The field at the reference's own points (a reference of points, not a function)."""


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
        outputs=np.array(problem.labels),
    )
    plt = pyplot()
    shape = [len(a) for a in axes]
    labels = problem.labels
    if d == 1:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
        for i in range(u.shape[1]):
            line = ax[0].plot(axes[0], u[:, i], label=labels[i])[0]
            if reference is not None:
                ax[0].plot(
                    reference.points[:, 0],
                    reference.values[:, i],
                    ".",
                    color=line.get_color(),
                    ms=2,
                    label=f"{labels[i]} reference",
                )
        ax[0].legend()
        ax[0].set_xlabel(names[0])
        if r is not None:
            ax[1].semilogy(axes[0], np.abs(r) + 1e-30)
            ax[1].set_title(f"|residual {c0.name}|", fontsize=9)
    elif d == 2:
        # one row per output: the field, then its reference and error; the residual beside
        # the first output
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        rows, cols = u.shape[1], 1 + 2 * (reference is not None) + (r is not None)
        fig, axs = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
        grid = Grid(u, _reference_on(reference, x, inside, problem.outputs), shape, extent)
        if reference is not None and grid.reference is None:  # once, for every output's row
            points = reference.points.to(device, dtype)
            grid.at_reference = problem.values(model, points).cpu().numpy()
        for c in range(rows):
            _image(axs[c, 0], fig, u[:, c].reshape(shape), extent, labels[c], names)
            if reference is not None:
                _reference_panels(axs[c, 1:3], fig, problem, model, reference, c, grid)
            if r is not None and c == 0:
                img = np.log10(np.abs(r).reshape(shape) + 1e-12)
                _image(axs[0, -1], fig, img, extent, f"log10 |residual {c0.name}|", names, "magma")
            elif r is not None:
                axs[c, -1].axis("off")
    else:
        fig, axs = plt.subplots(u.shape[1], 4, figsize=(16, 3.6 * u.shape[1]), squeeze=False)
        a, b = (k for k in range(3) if k != across)
        extent = (float(lo[a]), float(hi[a]), float(lo[b]), float(hi[b]))
        cube = np.moveaxis(u.reshape(*shape, -1), across, 2)
        for c in range(u.shape[1]):
            for j in range(4):
                title = f"{labels[c]} at {names[across]} = {float(axes[across][j]):.3g}"
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


def _reference_on(
    reference: Reference | None, x: torch.Tensor, inside: np.ndarray, outputs: int
) -> np.ndarray | None:
    """The exact solution on the picture's grid, where the reference is a function of x."""
    if reference is None or reference.fn is None:
        return None
    with torch.no_grad():
        v = torch.as_tensor(reference.fn(x.float())).double().reshape(len(x), -1).numpy()
    if v.shape[1] != outputs:
        return None
    v[~inside] = np.nan
    return v


def _reference_panels(
    axs, fig, problem: Problem, model, reference: Reference, c: int, grid: Grid
) -> None:
    """Output ``c``'s reference and ``|u - reference|``: on the picture's grid where the
    reference is a function of x, else at the reference's own points."""
    names, label = problem.names, problem.labels[c]
    titles = (f"{label} reference", f"|{label} - reference|")
    if grid.reference is not None:
        v = grid.reference[:, c].reshape(grid.shape)
        err = np.abs(grid.u[:, c].reshape(grid.shape) - v)
        _image(axs[0], fig, v, grid.extent, titles[0], names)
        _image(axs[1], fig, err, grid.extent, titles[1], names, "magma")
        return
    u = grid.at_reference[:, c]
    p, v = reference.points.numpy(), reference.values.numpy()[:, c]
    for ax, values, title, cmap in (
        (axs[0], v, titles[0], "viridis"),
        (axs[1], np.abs(u - v), titles[1], "magma"),
    ):
        sc = ax.scatter(p[:, 0], p[:, 1], c=values, s=2, cmap=cmap, marker="s")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.04)
