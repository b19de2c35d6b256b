"""Marching cubes on a signed distance function, block by block, in bounded memory.

The grid is :func:`sirenkit.signals.grid` of ``(R, R, R)`` over the cube ``[-b, b]^3`` ('ij'
order: array axis ``i`` is coordinate ``i``; spacing ``2b / (R - 1)``). It is cut into blocks
of ``block`` cells that share their boundary planes; each block is evaluated and meshed on its
own, so no ``R^3`` volume ever exists: memory is a batch of blocks plus the mesh. Vertices on
shared planes come out bit-identical from both blocks and are merged exactly.

A block is skipped without evaluating its points when the function's value at the block
centre shows it is too far from the surface to cross it: ``|f(centre)| > lipschitz * r`` with
``r`` the block's half diagonal. For an exact SDF ``lipschitz = 1`` is exact; trained networks
only approximate ``|grad f| = 1``, so the default asks for a margin of 2. ``lipschitz=None``
evaluates every point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError, optional_import
from ..render import in_chunks, model_device

SdfFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class MeshStats:
    """What an extraction did: blocks in all, blocks evaluated, points evaluated."""

    blocks: int
    evaluated_blocks: int
    evaluated_points: int


@dataclass
class Mesh:
    """Triangles from marching cubes, in the coordinates of the evaluated function.

    Attributes:
        vertices: ``(V, 3)`` float64.
        faces: ``(F, 3)`` int64, counter-clockwise seen from outside (normals point outward).
        stats: extraction statistics.
    """

    vertices: np.ndarray
    faces: np.ndarray
    stats: MeshStats

    def to_trimesh(self):
        """A ``trimesh.Trimesh`` (no reprocessing: vertices are already merged)."""
        trimesh = optional_import("trimesh", "sdf", "meshes")
        return trimesh.Trimesh(self.vertices, self.faces, process=False)


def sdf_function(model: nn.Module, chunk: int = 65536) -> SdfFn:
    """``(N, 3) -> (N,)`` values of a network (or shape) without gradients, in chunks."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            out = in_chunks(model, x, chunk)
        return out.reshape(out.shape[0], -1)[:, 0]

    return fn


def extract_mesh(
    model: nn.Module | SdfFn,
    resolution: int,
    *,
    bound: float = 1.0,
    level: float = 0.0,
    block: int = 8,
    lipschitz: float | None = 2.0,
    chunk: int = 65536,
    batch_points: int = 1 << 19,
    device: torch.device | str | None = None,
) -> Mesh:
    """Mesh the ``level`` set of an SDF (negative inside) sampled on ``resolution^3`` points.

    Arguments:
        model: a network or shape ``(N, 3) -> (N, 1)``, or a function ``(N, 3) -> (N,)``.
        resolution: grid points per axis (at least 2).
        bound: the grid spans ``[-bound, bound]`` on every axis.
        level: the iso-value to mesh.
        block: cells per block side (memory per block is ``(block + 1)^3`` values).
        lipschitz: skip blocks whose centre value is above this times the block's half
            diagonal; None evaluates everything (see the module notes).
        chunk: points per network call.
        batch_points: points evaluated together before meshing their blocks.
        device: where to evaluate (default: the model's device, else the CPU).

    Returns:
        A :class:`Mesh` in the function's coordinates; empty if the level set is not crossed.
    """
    if resolution < 2:
        raise SirenkitError(f"resolution must be at least 2, got {resolution}")
    if block < 1:
        raise SirenkitError(f"block must be positive, got {block}")
    if isinstance(model, nn.Module):
        device = device or model_device(model)
        fn = sdf_function(model, chunk)
    else:
        fn = model
    device = torch.device(device or "cpu")
    h = 2.0 * bound / (resolution - 1)
    starts = np.arange(0, resolution - 1, block)
    sizes = np.minimum(starts + block, resolution - 1) - starts  # cells per block per axis
    blocks = _active_blocks(fn, starts, sizes, h, bound, level, lipschitz, device)
    stats = MeshStats(len(starts) ** 3, len(blocks), 0)
    verts: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    offset = 0
    batch: list[tuple[int, int, int]] = []
    batch_size = 0
    for b in [*blocks, None]:
        n = 0 if b is None else int(np.prod([sizes[a] + 1 for a in b]))
        if batch and (b is None or batch_size + n > batch_points):
            for v, f in _mesh_batch(fn, batch, starts, sizes, h, bound, level, device):
                verts.append(v)
                faces.append(f + offset)
                offset += len(v)
            stats.evaluated_points += batch_size
            batch, batch_size = [], 0
        if b is not None:
            batch.append(b)
            batch_size += n
    if not verts:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), stats)
    return Mesh(*_merge(np.concatenate(verts), np.concatenate(faces)), stats)


def _block_axes(b, starts, sizes, h, bound, device) -> list[torch.Tensor]:
    return [
        -bound + h * torch.arange(starts[i], starts[i] + sizes[i] + 1, device=device).double()
        for i in b
    ]


def _active_blocks(fn, starts, sizes, h, bound, level, lipschitz, device) -> list[tuple]:
    """Block indices ``(i, j, k)`` whose centre value does not rule out a crossing of ``level``.

    Screened one slab of blocks at a time, so memory stays at one slab's centres.
    """
    nb = len(starts)
    jk = np.stack(np.meshgrid(np.arange(nb), np.arange(nb), indexing="ij"), -1).reshape(-1, 2)
    active: list[tuple] = []
    for i in range(nb):
        idx = np.column_stack([np.full(len(jk), i), jk])
        if lipschitz is None:
            active.extend(map(tuple, idx.tolist()))
            continue
        centres = -bound + h * (starts[idx] + sizes[idx] / 2)
        radii = 0.5 * h * np.sqrt((sizes[idx].astype(np.float64) ** 2).sum(1))
        values = fn(torch.from_numpy(centres).float().to(device)).double().cpu().numpy()
        keep = np.abs(values - level) <= lipschitz * radii
        active.extend(map(tuple, idx[keep].tolist()))
    return active


def _mesh_batch(fn, batch, starts, sizes, h, bound, level, device):
    """Evaluate a batch of blocks in one go, then run marching cubes on each."""
    from skimage.measure import marching_cubes

    shapes, coords = [], []
    for b in batch:
        axes = _block_axes(b, starts, sizes, h, bound, device)
        shapes.append(tuple(len(a) for a in axes))
        coords.append(torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3))
    values = fn(torch.cat(coords).float()).float().cpu().numpy()
    at = 0
    for b, shape in zip(batch, shapes, strict=True):
        vol = values[at : at + math.prod(shape)].reshape(shape)
        at += math.prod(shape)
        if not (vol.min() < level < vol.max()):
            continue
        # scikit-image's 'descent' winding is outward for values growing outward.
        v, f, _, _ = marching_cubes(vol, level=level, gradient_direction="descent")
        origin = np.array([starts[a] for a in b], dtype=np.float64)
        yield -bound + h * (v.astype(np.float64) + origin), f.astype(np.int64)


def _merge(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge bit-identical vertices (block seams) and drop faces that collapse."""
    uniq, inverse = np.unique(vertices, axis=0, return_inverse=True)
    faces = inverse.reshape(-1)[faces]
    ok = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    return uniq, faces[ok]
