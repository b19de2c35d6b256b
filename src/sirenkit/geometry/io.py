"""Shapes in and out: what an SDF fit is given (points, a mesh or a built-in shape) and the
meshes it writes.

:func:`load_source` turns a file or a built-in name into oriented points in the input's own
coordinates, the map into the [-1, 1] cube and the reference the fit is measured against.
Points without normals get estimated ones (:func:`~sirenkit.geometry.pointset.estimate_normals`);
:attr:`Source.normals` says which path was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import SirenkitError, optional_import
from ..signals.pointcloud import Normalisation, OrientedPoints, load_points, sample_mesh
from .meshing import extract_mesh
from .metrics import InsideFn, have_mesh_inside, mesh_inside, sdf_inside
from .pointset import estimate_normals
from .shapes import BUILTIN, builtin_shape

NormalsMode = Literal["auto", "estimate"]
"""auto: use the file's normals (a mesh's face normals) and estimate them only when the file
has none; estimate: always estimate them, ignoring any given."""


@dataclass
class Reference:
    """What a fit is measured against, in cube coordinates."""

    points: OrientedPoints
    inside: InsideFn | None
    """Inside test of the reference solid; None when it has none (an open or point surface)."""
    mesh: tuple[np.ndarray, np.ndarray] | None = None
    """Reference vertices (input coordinates) and faces, drawn next to the fit when known."""


@dataclass
class Source:
    """An SDF fit's input, ready to train on."""

    cloud: OrientedPoints
    """Oriented points in the input's coordinates."""
    norm: Normalisation
    """Input -> cube map."""
    reference: Reference
    label: str
    normals: str
    """Where the normals come from: ``given`` (the file's), ``mesh`` (face normals of the
    sampled mesh or shape) or ``estimated`` (PCA + spanning-tree orientation)."""


def export_mesh(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> Path:
    """Write a mesh as PLY, OBJ, STL or OFF (by suffix) with trimesh."""
    trimesh = optional_import("trimesh", "sdf", "mesh export")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("ply", "obj", "stl", "off"):
        raise SirenkitError(f"{path}: mesh format must be .ply, .obj, .stl or .off")
    trimesh.Trimesh(vertices, faces, process=False).export(path, file_type=suffix)
    return Path(path)


def load_source(
    source: str,
    *,
    samples: int,
    padding: float,
    eval_points: int,
    normals: NormalsMode = "auto",
    seed: int = 0,
) -> Source:
    """Oriented points, their normalisation and the reference for a file or built-in name.

    Reference: a built-in shape's exact SDF (inside test ``f < 0``), a watertight mesh with
    winding numbers (when libigl is installed), else the input points only (no IoU).
    """
    if normals not in ("auto", "estimate"):
        raise SirenkitError(f"--normals must be auto or estimate, got {normals!r}")
    if source in BUILTIN and not Path(source).exists():
        shape = builtin_shape(source)
        tri = extract_mesh(shape, 160, lipschitz=1.0).to_trimesh()
        cloud = sample_mesh(tri, samples, seed)
        norm = Normalisation.fit(cloud.points, padding)
        ref_pts = sample_mesh(tri, eval_points, seed + 1).transformed(norm)

        def inside(q: np.ndarray) -> np.ndarray:
            return sdf_inside(shape)(norm.to_input(q))

        cloud, how = _orient(cloud, normals, "mesh")
        return Source(
            cloud, norm, Reference(ref_pts, inside, (tri.vertices, tri.faces)), source, how
        )
    found, mesh = load_points(source, samples=samples, seed=seed)
    cloud, how = _orient(found, normals, "given" if mesh is None else "mesh")
    norm = Normalisation.fit(cloud.points, padding)
    label = Path(source).stem
    if mesh is None:
        ref = Reference(subsample(cloud.transformed(norm), eval_points, seed), None)
        return Source(cloud, norm, ref, label, how)
    ref_pts = sample_mesh(mesh, eval_points, seed + 1).transformed(norm)
    inside = None
    if nearly_closed(mesh) and have_mesh_inside():
        inside = mesh_inside(norm.to_cube(mesh.vertices), mesh.faces)
    return Source(cloud, norm, Reference(ref_pts, inside, (mesh.vertices, mesh.faces)), label, how)


def nearly_closed(mesh, tolerance: float = 0.01) -> bool:
    """Whether a mesh bounds a solid: watertight, or open only along boundary edges whose
    total length is under ``tolerance`` of its longest bounding-box side (a few missing
    triangles, as on the shared dragon: 6 boundary edges, 0.2% of its size). Winding numbers
    give such a mesh a clean inside test (0 or 1 away from the holes); a larger opening has
    no inside."""
    if mesh.is_watertight:
        return True
    edges = np.sort(np.asarray(mesh.edges, dtype=np.int64), axis=1)
    _, index, counts = np.unique(edges, axis=0, return_index=True, return_counts=True)
    boundary = edges[index[counts == 1]]
    v = np.asarray(mesh.vertices, dtype=np.float64)
    length = float(np.linalg.norm(v[boundary[:, 0]] - v[boundary[:, 1]], axis=1).sum())
    extent = float((v.max(0) - v.min(0)).max())
    return extent > 0 and length <= tolerance * extent


def _orient(
    found: OrientedPoints | np.ndarray, mode: NormalsMode, given: str
) -> tuple[OrientedPoints, str]:
    if isinstance(found, OrientedPoints) and mode == "auto":
        return found, given
    points = found.points if isinstance(found, OrientedPoints) else found
    return estimate_normals(points), "estimated"


def subsample(cloud: OrientedPoints, count: int, seed: int = 0) -> OrientedPoints:
    """At most ``count`` of the points, drawn without replacement."""
    if len(cloud) <= count:
        return cloud
    idx = np.random.default_rng(seed).choice(len(cloud), count, replace=False)
    return OrientedPoints(cloud.points[idx], cloud.normals[idx])
