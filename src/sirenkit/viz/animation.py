"""Animated GIFs of fields over time (Pillow, no display or video codec needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def colorize(field: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """An ``(H, W)`` array as ``(H, W, 3)`` uint8 through a matplotlib colormap."""
    import matplotlib

    scaled = np.clip((np.nan_to_num(field) - vmin) / max(vmax - vmin, 1e-30), 0, 1)
    rgba = matplotlib.colormaps[cmap](scaled)
    return (rgba[..., :3] * 255).astype(np.uint8)


def save_gif(
    path: Path,
    rows: Sequence[Sequence[np.ndarray]],
    *,
    cmaps: Sequence[str],
    limits: Sequence[tuple[float, float]],
    scale: int = 3,
    duration_ms: int = 120,
) -> Path:
    """Write frames side by side as a looping GIF.

    Arguments:
        path: output file.
        rows: per panel, a sequence of ``(H, W)`` frames (all panels the same length).
        cmaps: colormap of each panel.
        limits: ``(vmin, vmax)`` of each panel, fixed over time so amplitudes compare.
        scale: integer upscaling of every pixel (nearest neighbour).
        duration_ms: time per frame.
    """
    from PIL import Image

    count = len(rows[0])
    images = []
    for t in range(count):
        tiles = [
            colorize(panel[t], cmap, *lim)
            for panel, cmap, lim in zip(rows, cmaps, limits, strict=True)
        ]
        gap = np.full((tiles[0].shape[0], 2, 3), 255, np.uint8)
        strip = np.concatenate([x for tile in tiles for x in (tile, gap)][:-1], axis=1)
        strip = strip.repeat(scale, 0).repeat(scale, 1)
        images.append(Image.fromarray(strip))
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0, optimize=False
    )
    return path
