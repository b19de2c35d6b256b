"""Figures written into run folders (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend: every figure module draws through it,
    so no display is ever needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def displayable(img: np.ndarray) -> np.ndarray:
    """A [-1, 1] image ``(H, W, C)`` as a [0, 1] picture matplotlib shows: RGB(A) as it is,
    any other channel count averaged to gray ``(H, W)``."""
    a = np.clip((img + 1) / 2, 0, 1)
    if a.shape[-1] in (3, 4):
        return a
    return a.mean(-1)


@dataclass
class Panel:
    """One picture of a figure: an ``(H, W)`` or ``(H, W, 3|4)`` array, or None with a
    ``note`` saying why there is no picture (a quantity a degenerate signal lacks)."""

    title: str
    data: np.ndarray | None
    cmap: str | None = None
    vmin: float | None = None
    vmax: float | None = None
    colorbar: bool = False
    note: str = ""


def save_panels(path: Path, panels: Sequence[Panel], cols: int | None = None) -> Path:
    """A grid of pictures with titles, saved as PNG."""
    plt = pyplot()
    cols = cols or len(panels)
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, p in zip(axes.flat, panels, strict=False):
        ax.set_title(p.title, fontsize=9)
        if p.data is None:
            ax.text(0.5, 0.5, p.note, ha="center", va="center", wrap=True, fontsize=8)
            continue
        d = np.asarray(p.data)
        if d.ndim == 3 and d.shape[-1] == 1:
            d = d[..., 0]
        im = ax.imshow(d, cmap=p.cmap, vmin=p.vmin, vmax=p.vmax, interpolation="nearest")
        if p.colorbar:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def note_panel(title: str, note: str) -> Panel:
    """A panel without a picture, saying why (e.g. no derivative across a 1-pixel axis)."""
    return Panel(title, None, note=note)


def plot_history(path: Path, records: Sequence[dict[str, Any]], headline: str) -> Path:
    """Loss (log scale) and the headline metric against step, training and evaluation."""
    plt = pyplot()
    train = [r for r in records if not r.get("eval") and r.get("loss") is not None]
    evals = [r for r in records if r.get("eval")]
    has_headline = any(r.get(headline) is not None for r in records)
    n = 2 if headline != "loss" and has_headline else 1
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 3.5), squeeze=False)
    ax = axes[0, 0]
    ax.semilogy([r["step"] for r in train], [max(r["loss"], 1e-30) for r in train])
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if n == 2:
        ax = axes[0, 1]
        pts = [(r["step"], r[headline]) for r in train if r.get(headline) is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), label="train batch")
        pts = [(r["step"], r[headline]) for r in evals if r.get(headline) is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), "o-", label="evaluation")
        ax.set_xlabel("step")
        ax.set_ylabel(headline)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
