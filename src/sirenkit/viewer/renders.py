"""What the viewer computes from a run: networks re-rendered on request, PDE fields, meshes.

Every request is bounded: at most :data:`MAX_PIXELS` points per render, one render at a time
(a lock, so parallel requests queue instead of multiplying memory), at most :data:`MAX_QUEUED`
waiting (more get 429), and at most
:data:`MODEL_CACHE` networks kept loaded (least recently used dropped). Checkpoints are read
with ``weights_only=True`` (:func:`sirenkit.training.checkpoint.read_checkpoint`).
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError
from ..render import in_chunks

MAX_SIDE = 2048
"""Largest side of a rendered picture, in pixels."""
MAX_PIXELS = 1 << 20
"""Largest number of points evaluated for one request (1024 x 1024)."""
MODEL_CACHE = 4
"""Networks kept loaded at once."""
MESH_FACES = 200_000
"""Meshes with more faces are decimated for display by vertex clustering."""
CHUNK = 65536


class BadRequest(ValueError):
    """A request the viewer refuses (answered with 400 and this message)."""


def png_bytes(arr: np.ndarray) -> bytes:
    """``(H, W)`` or ``(H, W, 3|4)`` uint8 as PNG bytes (fast compression)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def colorize(field: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """A 2-D field through a matplotlib colormap; NaN (outside the domain) is light grey."""
    from ..viz.animation import colorize as base

    rgb = base(field, cmap, vmin, vmax)
    rgb[~np.isfinite(field)] = 230
    return rgb


class ModelCache:
    """Loaded networks by checkpoint path and modification time, least recently used out."""

    def __init__(self, size: int = MODEL_CACHE) -> None:
        self.size = size
        self._models: OrderedDict[tuple[Path, float], tuple[nn.Module, dict[str, Any]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, checkpoint: Path) -> tuple[nn.Module, dict[str, Any]]:
        """The network of ``checkpoint`` in eval mode and the checkpoint's task facts (its
        task, metadata and renderer, see :func:`sirenkit.cli.render.renderer_of`)."""
        from ..cli.render import renderer_of
        from ..training.checkpoint import model_from_checkpoint, read_checkpoint

        key = (checkpoint, checkpoint.stat().st_mtime)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        ckpt = read_checkpoint(checkpoint)  # weights_only=True
        model = model_from_checkpoint(ckpt, checkpoint).eval()
        facts = {
            "task": ckpt.get("task"),
            "meta": ckpt.get("task_meta") or {},
            "renderer": renderer_of(ckpt),
        }
        with self._lock:
            self.loads += 1
            self._models[key] = (model, facts)
            self._models.move_to_end(key)
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model, facts


RENDER_LOCK = threading.Lock()
"""One network evaluation at a time across all request threads."""
MAX_QUEUED = 8
"""Renders running or waiting at once; more are refused (429) instead of piling up."""
RENDER_SLOTS = threading.BoundedSemaphore(MAX_QUEUED)


class Busy(RuntimeError):
    """Too many renders are waiting (answered with 429: try again)."""


def _evaluate(model: nn.Module, coords: torch.Tensor) -> torch.Tensor:
    if not RENDER_SLOTS.acquire(blocking=False):
        raise Busy(f"{MAX_QUEUED} renders already queued")
    try:
        with RENDER_LOCK, torch.inference_mode():
            return in_chunks(model, coords, CHUNK)
    finally:
        RENDER_SLOTS.release()


def window_grid(window: tuple[float, float, float, float], shape: tuple[int, int]) -> torch.Tensor:
    """Points of an ``shape`` grid over ``[y0, y1] x [x0, x1]``, row first ('ij', as ``grid``)."""
    y0, y1, x0, x1 = window
    ys = torch.linspace(y0, y1, shape[0]) if shape[0] > 1 else torch.tensor([(y0 + y1) / 2])
    xs = torch.linspace(x0, x1, shape[1]) if shape[1] > 1 else torch.tensor([(x0 + x1) / 2])
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([yy, xx], dim=-1).reshape(-1, 2)


def check_shape(h: int, w: int) -> tuple[int, int]:
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE) or h * w > MAX_PIXELS:
        raise BadRequest(f"size {h}x{w} outside 1..{MAX_SIDE} per side, {MAX_PIXELS} pixels")
    return h, w


def check_window(window: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    y0, y1, x0, x1 = window
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in window) or y0 >= y1 or x0 >= x1:
        raise BadRequest("window must satisfy -1 <= y0 < y1 <= 1 and -1 <= x0 < x1 <= 1")
    return window


def render_window(
    model: nn.Module, window: tuple[float, float, float, float], shape: tuple[int, int]
) -> np.ndarray:
    """An image network on ``shape`` pixels over ``window``: uint8 ``(H, W)`` or ``(H, W, C)``.

    Values map from [-1, 1] to 0..255 as ``save_image`` does, so the full window at the
    training size reproduces ``reconstruction.png``.
    """
    from ..signals.image import to_uint8

    out = _evaluate(model, window_grid(check_window(window), check_shape(*shape)))
    return to_uint8(out.reshape(*shape, -1).numpy())


def sdf_slice(model: nn.Module, axis: int, position: float, n: int) -> np.ndarray:
    """The SDF on the plane ``coord[axis] = position`` of the [-1, 1] cube, ``n x n`` pixels:
    blue inside, red outside, the zero level in black (RGB uint8)."""
    if axis not in (0, 1, 2):
        raise BadRequest("axis must be 0, 1 or 2")
    if not (math.isfinite(position) and -1.0 <= position <= 1.0):
        raise BadRequest("position must be in [-1, 1]")
    check_shape(n, n)
    plane = window_grid((-1.0, 1.0, -1.0, 1.0), (n, n))
    coords = torch.empty(n * n, 3)
    others = [a for a in range(3) if a != axis]
    coords[:, axis] = position
    coords[:, others[0]] = plane[:, 0]
    coords[:, others[1]] = plane[:, 1]
    sdf = _evaluate(model, coords)[:, 0].reshape(n, n).numpy()
    rgb = colorize(sdf, "RdBu_r", -0.5, 0.5)
    spacing = 2.0 / max(n - 1, 1)
    rgb[np.abs(sdf) < spacing] = 0
    return rgb


FIELD_PARTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "real": np.real,
    "imag": np.imag,
    "abs": np.abs,
}


def field_frames(npz: Path, part: str) -> dict[str, Any]:
    """A PDE run's saved fields (``fields.npz``): network, reference and |error| per frame
    with fixed colour limits (the reference's largest magnitude), as the run's GIF draws them."""
    if part not in FIELD_PARTS:
        raise BadRequest(f"part must be one of {', '.join(FIELD_PARTS)}")
    with np.load(npz, allow_pickle=False) as z:
        net, ref = z["network"], z["reference"]
        times = z.get("times", None)
        mask = z.get("mask", None)
    if net.ndim == 2:
        net, ref = net[None], ref[None]
    fn = FIELD_PARTS[part]
    pred, truth = fn(net).astype(np.float64), fn(ref).astype(np.float64)
    if mask is not None:
        pred, truth = np.where(mask, pred, np.nan), np.where(mask, truth, np.nan)
    err = np.abs(pred - truth)
    vmax = float(np.nanmax(np.abs(truth))) if np.isfinite(truth).any() else 1.0
    vmax = vmax or 1.0
    return {"network": pred, "reference": truth, "error": err, "vmax": vmax, "times": times}


def field_png(npz: Path, which: str, frame: int, part: str) -> bytes:
    data = field_frames(npz, part)
    if which not in ("network", "reference", "error"):
        raise BadRequest("which must be network, reference or error")
    frames = data[which]
    if not 0 <= frame < len(frames):
        raise BadRequest(f"frame must be in 0..{len(frames) - 1}")
    vmax = data["vmax"]
    if which == "error":
        rgb = colorize(frames[frame], "viridis", 0.0, vmax)
    else:
        rgb = colorize(frames[frame], "RdBu_r", -vmax, vmax)
    return png_bytes(rgb)


def field_info(npz: Path) -> dict[str, Any]:
    """Frame count, times and per-frame relative L2 error of a ``fields.npz``."""
    data = field_frames(npz, "real")
    with np.load(npz, allow_pickle=False) as z:
        net, ref = z["network"], z["reference"]
        mask = z.get("mask", None)
    if net.ndim == 2:
        net, ref = net[None], ref[None]
    if mask is not None:
        net, ref = net[:, mask], ref[:, mask]
    rel = [
        float(np.linalg.norm(n - r) / max(np.linalg.norm(r), 1e-30))
        for n, r in zip(net, ref, strict=True)
    ]
    times = data["times"]
    return {
        "frames": len(rel),
        "times": None if times is None else [float(t) for t in times],
        "rel_l2": rel,
        "vmax": data["vmax"],
        "complex": bool(np.iscomplexobj(ref)),
        "shape": list(net.shape[1:]) if mask is None else list(data["network"].shape[1:]),
    }


def cluster_vertices(
    vertices: np.ndarray, faces: np.ndarray, cells: int
) -> tuple[np.ndarray, np.ndarray]:
    """Vertex clustering: merge the vertices in each cell of a ``cells``^3 grid over the bounding
    box into their mean, drop the faces that collapse and the duplicates."""
    lo, hi = vertices.min(0), vertices.max(0)
    size = np.maximum(hi - lo, 1e-12)
    q = np.minimum(((vertices - lo) / size * cells).astype(np.int64), cells - 1)
    key = (q[:, 0] * cells + q[:, 1]) * cells + q[:, 2]
    uniq, inverse = np.unique(key, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(uniq)).astype(np.float64)
    merged = np.stack(
        [np.bincount(inverse, vertices[:, k], minlength=len(uniq)) / counts for k in range(3)], 1
    )
    f = inverse[faces]
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    n = np.int64(len(uniq))
    s = np.sort(f, axis=1)
    _, first = np.unique((s[:, 0] * n + s[:, 1]) * n + s[:, 2], return_index=True)
    return merged.astype(np.float32), f[np.sort(first)].astype(np.uint32)


def decimate(
    vertices: np.ndarray, faces: np.ndarray, max_faces: int = MESH_FACES
) -> tuple[np.ndarray, np.ndarray, int]:
    """The mesh as given if it has at most ``max_faces`` faces, else vertex-clustered on an
    ``n``^3 grid over its bounding box. A surface clustered on ``n`` cells per side keeps about
    ``c n^2`` faces, so ``n`` starts at ``sqrt(max_faces / c)`` with ``c`` measured on a
    256-cell grid, and shrinks by 10% until the result fits. Returns vertices, faces and ``n``
    (0: not decimated)."""
    if len(faces) <= max_faces:
        return vertices.astype(np.float32), faces.astype(np.uint32), 0
    probe = 256
    v, f = cluster_vertices(vertices, faces, probe)
    per_cell = max(len(f), 1) / probe**2
    cells = max(4, min(2048, int(0.97 * math.sqrt(max_faces / per_cell))))
    while cells >= 4:
        if cells != probe:
            v, f = cluster_vertices(vertices, faces, cells)
        if len(f) <= max_faces:
            return v, f, cells
        cells = int(cells * 0.9)
    raise SirenkitError("mesh could not be decimated")


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (unit length; zero for isolated vertices)."""
    tri = vertices[faces.astype(np.int64)]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    idx = faces.astype(np.int64).ravel()
    n = np.stack(
        [np.bincount(idx, np.repeat(fn[:, k], 3), minlength=len(vertices)) for k in range(3)], 1
    )
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return (n / np.maximum(length, 1e-30)).astype(np.float32)


def load_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and faces of a mesh file trimesh reads (the ``sdf`` extra)."""
    from ..errors import optional_import

    trimesh = optional_import("trimesh", "sdf", "the 3-D view")
    try:
        mesh = trimesh.load(path, force="mesh", process=False)
    except Exception as e:  # any parser error of a broken file
        raise BadRequest(f"{path.name} is not a readable mesh ({type(e).__name__})") from None
    faces = np.asarray(getattr(mesh, "faces", np.zeros((0, 3))), dtype=np.int64)
    verts = np.asarray(getattr(mesh, "vertices", np.zeros((0, 3))), dtype=np.float64)
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise BadRequest(f"{path.name} has no triangle faces")
    return verts, faces


def mesh_payload(path: Path, max_faces: int = MESH_FACES) -> tuple[bytes, dict[str, Any]]:
    """A mesh for WebGL: little-endian ``uint32 nv, uint32 nf``, float32 positions, float32
    normals, uint32 indices; and what was done to it."""
    verts, faces = load_mesh(path)
    original = len(faces)
    v, f, cells = decimate(verts, faces, max_faces) if original else (verts, faces, 0)
    v = v.astype(np.float32)
    f = f.astype(np.uint32)
    n = vertex_normals(v, f) if len(f) else np.zeros_like(v)
    head = np.array([len(v), len(f)], dtype="<u4").tobytes()
    body = v.astype("<f4").tobytes() + n.astype("<f4").tobytes() + f.astype("<u4").tobytes()
    info = {"faces_original": original, "faces_shown": len(f), "cells": cells}
    return head + body, info
