"""Pictures of shapes without OpenGL: shaded mesh views and SDF slices.

Views are rasterised with numpy: the surface is sampled densely (several samples per pixel),
projected orthographically, and a z-buffer keeps the nearest sample per pixel, shaded by its
face normal. A few seconds for a million triangles, no display or GPU needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from .figures import Panel, pyplot, save_panels

VIEWS: dict[str, tuple[float, float]] = {
    "front": (0.0, 0.0),
    "side": (90.0, 0.0),
    "top": (0.0, 90.0),
    "oblique": (35.0, 25.0),
}
"""Named views: (azimuth about the third axis, elevation), in degrees."""


def view_rotation(azimuth: float, elevation: float) -> np.ndarray:
    """Rows: screen right, screen up, towards the viewer; the third axis is up at 0, 0.

    At (0, 0) the viewer looks along +y (coordinate 1) with coordinate 2 up.
    """
    a, e = np.radians(azimuth), np.radians(elevation)
    toward = np.array([-np.sin(a) * np.cos(e), -np.cos(a) * np.cos(e), np.sin(e)])
    right = np.array([np.cos(a), -np.sin(a), 0.0])
    up = np.cross(toward, right)
    return np.stack([right, up, toward])


def render_mesh(
    vertices: np.ndarray,
    faces: np.ndarray,
    rotation: np.ndarray,
    *,
    size: int = 256,
    color: Sequence[float] = (0.55, 0.7, 0.9),
    density: float = 3.0,
    max_samples: int = 4_000_000,
    seed: int = 0,
) -> np.ndarray:
    """A shaded ``(size, size, 3)`` picture of a mesh seen along ``rotation``'s third row.

    Arguments:
        vertices, faces: the mesh.
        rotation: ``(3, 3)`` from :func:`view_rotation`.
        size: picture side in pixels.
        color: base RGB in [0, 1].
        density: surface samples per pixel-sized area.
        max_samples: cap on samples (bounds time and memory for huge meshes).
        seed: seed of the sampling.

    Returns:
        RGB float array in [0, 1] on a white background.
    """
    img = np.ones((size, size, 3))
    if len(faces) == 0:
        return img
    v = np.asarray(vertices, dtype=np.float64) @ rotation.T
    tri = v[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area2 = np.linalg.norm(cross, axis=1)
    lo, hi = v.min(0), v.max(0)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1])) * 1.05 or 1.0
    pix = extent / size
    count = int(min(max_samples, max(10_000, density * area2.sum() / 2 / pix**2)))
    rng = np.random.default_rng(seed)
    face = rng.choice(len(faces), size=count, p=area2 / area2.sum())
    r1, r2 = rng.random(count), rng.random(count)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    t = tri[face]
    pts = t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])
    normal = cross[face] / np.maximum(area2[face], 1e-30)[:, None]
    centre = (lo + hi) / 2
    col = np.clip(((pts[:, 0] - centre[0]) / extent + 0.5) * size, 0, size - 1).astype(np.int64)
    row = np.clip((0.5 - (pts[:, 1] - centre[1]) / extent) * size, 0, size - 1).astype(np.int64)
    pixel = row * size + col
    order = np.lexsort((-pts[:, 2], pixel))  # per pixel, nearest (largest depth toward us) first
    first = order[np.unique(pixel[order], return_index=True)[1]]
    light = np.array([0.35, 0.45, 0.82])
    shade = 0.25 + 0.75 * np.abs(normal[first] @ (light / np.linalg.norm(light)))
    img.reshape(-1, 3)[pixel[first]] = shade[:, None] * np.asarray(color)[None]
    return img


def save_mesh_views(
    path: Path,
    meshes: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    size: int = 256,
) -> Path:
    """One row of :data:`VIEWS` per ``(title, vertices, faces)``, saved as a PNG."""
    panels = []
    for title, v, f in meshes:
        for name, (az, el) in VIEWS.items():
            rot = view_rotation(az, el)
            panels.append(Panel(f"{title}: {name}", render_mesh(v, f, rot, size=size)))
    return save_panels(path, panels, cols=len(VIEWS))


def save_sdf_slices(
    path: Path,
    fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    size: int = 256,
    bound: float = 1.0,
    reference: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str = "cpu",
) -> Path:
    """Mid-plane slices of an SDF along each axis, coloured, with the zero level set drawn.

    Arguments:
        path: PNG to write.
        fn: ``(N, 3) -> (N,)`` SDF values in the cube ``[-bound, bound]^3``.
        size: samples per slice side.
        bound: half side of the cube shown.
        reference: an optional second SDF whose zero level is drawn dashed for comparison.
        device: where to evaluate.
    """
    plt = pyplot()
    axis_names = ("x0", "x1", "x2")
    ticks = torch.linspace(-bound, bound, size, device=device)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for normal_axis, ax in enumerate(axes):
        a, b = (i for i in range(3) if i != normal_axis)
        u, w = torch.meshgrid(ticks, ticks, indexing="ij")
        pts = torch.zeros(size * size, 3, device=device)
        pts[:, a], pts[:, b] = u.reshape(-1), w.reshape(-1)
        vals = fn(pts).reshape(size, size).cpu().numpy()
        lim = float(np.percentile(np.abs(vals), 99)) or 1.0
        extent = (-bound, bound, -bound, bound)
        # rows of the picture run along b (up), columns along a (right)
        im = ax.imshow(vals.T, origin="lower", extent=extent, cmap="RdBu", vmin=-lim, vmax=lim)
        if vals.min() < 0 < vals.max():
            ax.contour(vals.T, levels=[0.0], colors="k", linewidths=1.2, extent=extent)
        ax.contour(
            vals.T,
            levels=np.linspace(-lim, lim, 11),
            colors="k",
            linewidths=0.3,
            alpha=0.4,
            extent=extent,
        )
        if reference is not None:
            ref = reference(pts).reshape(size, size).cpu().numpy()
        if reference is not None and ref.min() < 0 < ref.max():
            ax.contour(ref.T, levels=[0.0], colors="orange", linestyles="--", extent=extent)
        ax.set_xlabel(axis_names[a])
        ax.set_ylabel(axis_names[b])
        ax.set_title(f"{axis_names[normal_axis]} = 0 (black: zero level)", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
