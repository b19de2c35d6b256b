"""Point clouds: reading, validating and normalising them into the [-1, 1] cube.

An SDF fit works on surface points with outward unit normals. They come from ``.xyz`` files
(``x y z nx ny nz`` per line, the paper's format), ``.ply`` point clouds with ``nx ny nz``
vertex properties, ``.npy`` arrays ``(N, 6)`` or ``.npz`` archives (``points`` and ``normals``),
or from meshes (``.obj``, ``.off``, ``.ply`` with faces, ``.stl``) sampled with face normals.
Files with positions only (``x y z`` rows, ``(N, 3)`` arrays, PLY without normals) are read
as unoriented points; :func:`sirenkit.geometry.pointset.estimate_normals` orients them.
The network works in the [-1, 1] cube; :class:`Normalisation` keeps the map back to the
input's own coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SirenkitError, optional_import, require_file

MIN_POINTS = 16
"""Fewer oriented points than this cannot describe a surface."""
POINT_SUFFIXES = (".xyz", ".npy", ".npz")
MESH_SUFFIXES = (".obj", ".off", ".stl", ".ply", ".glb", ".gltf")


@dataclass(frozen=True)
class Normalisation:
    """``cube = (input - center) / scale``: the input's bounding box into the [-1, 1] cube.

    Attributes:
        center: ``(3,)`` centre of the input's bounding box, in input units.
        scale: input units per cube unit (one number, so shapes keep their proportions).
    """

    center: tuple[float, float, float]
    scale: float

    def to_cube(self, points: np.ndarray) -> np.ndarray:
        """Input coordinates -> cube coordinates."""
        return (np.asarray(points, dtype=np.float64) - np.asarray(self.center)) / self.scale

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """Cube coordinates -> input coordinates."""
        return np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.center)

    def as_dict(self) -> dict[str, Any]:
        return {"center": list(self.center), "scale": self.scale}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalisation:
        return cls(tuple(float(c) for c in d["center"]), float(d["scale"]))

    @classmethod
    def fit(cls, points: np.ndarray, padding: float = 0.1) -> Normalisation:
        """The map putting ``points``' bounding box, centred, inside [-(1-padding), 1-padding].

        The longest side spans ``2 (1 - padding)``: a margin keeps the surface off the cube's
        faces, where marching cubes would cut it open.
        """
        if not 0 <= padding < 1:
            raise SirenkitError(f"padding must be in [0, 1), got {padding}")
        lo, hi = points.min(0), points.max(0)
        half = float((hi - lo).max()) / 2
        if half <= 0:
            raise SirenkitError("all points coincide: the point cloud has no extent")
        return cls(tuple(float(c) for c in (lo + hi) / 2), half / (1 - padding))


@dataclass
class OrientedPoints:
    """Surface points with outward unit normals, ``(N, 3)`` each, float32."""

    points: np.ndarray
    normals: np.ndarray

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def transformed(self, norm: Normalisation) -> OrientedPoints:
        """The same points in cube coordinates (a uniform scale keeps the normals)."""
        return OrientedPoints(norm.to_cube(self.points).astype(np.float32), self.normals)


def validate_oriented(
    points: np.ndarray, normals: np.ndarray, source: str = "point cloud"
) -> OrientedPoints:
    """Check shapes and values and return unit normals.

    Arguments:
        points: ``(N, 3)`` positions.
        normals: ``(N, 3)`` outward normals, any positive length.
        source: what to name in error messages (the file).

    Returns:
        :class:`OrientedPoints` with float32 positions and unit normals.

    Raises:
        SirenkitError: wrong shapes, NaN or infinite values, zero normals, too few points.
    """
    p = np.asarray(points, dtype=np.float64)
    n = np.asarray(normals, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise SirenkitError(f"{source}: points must be (N, 3), got {p.shape}")
    if n.shape != p.shape:
        raise SirenkitError(f"{source}: normals must be (N, 3) like the points, got {n.shape}")
    if len(p) < MIN_POINTS:
        raise SirenkitError(f"{source}: {len(p)} points; at least {MIN_POINTS} are needed")
    bad = ~np.isfinite(p).all(1) | ~np.isfinite(n).all(1)
    if bad.any():
        raise SirenkitError(
            f"{source}: {int(bad.sum())} points have NaN or infinite values "
            f"(first at row {int(np.argmax(bad))})"
        )
    length = np.linalg.norm(n, axis=1)
    zero = length < 1e-12
    if zero.any():
        raise SirenkitError(
            f"{source}: {int(zero.sum())} normals are zero (first at row {int(np.argmax(zero))}); "
            "every point needs an outward normal"
        )
    return OrientedPoints(p.astype(np.float32), (n / length[:, None]).astype(np.float32))


def validate_points(points: np.ndarray, source: str = "point cloud") -> np.ndarray:
    """Check an unoriented ``(N, 3)`` point array; float32 positions.

    Raises:
        SirenkitError: wrong shape, NaN or infinite values, too few points.
    """
    p = np.asarray(points, dtype=np.float64)
    return validate_oriented(p, np.ones_like(p) if p.ndim == 2 else p, source).points


def sample_mesh(mesh: Any, count: int, seed: int = 0) -> OrientedPoints:
    """``count`` points uniformly on a trimesh mesh's area, with their face normals."""
    trimesh = optional_import("trimesh", "sdf", "mesh sampling")
    if count < MIN_POINTS:
        raise SirenkitError(f"--samples must be at least {MIN_POINTS}, got {count}")
    if len(mesh.faces) == 0 or mesh.area <= 0:
        raise SirenkitError("mesh has no faces with area to sample")
    pts, face = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return validate_oriented(pts, mesh.face_normals[face], "mesh samples")


def load_points(
    path: str | Path, *, samples: int = 200_000, seed: int = 0
) -> tuple[OrientedPoints | np.ndarray, Any]:
    """Read a point cloud, oriented or not, or sample an oriented one from a mesh.

    Arguments:
        path: ``.xyz``, ``.npy``, ``.npz``, ``.ply`` (points with normals, or a mesh), or a mesh
            file trimesh reads (``.obj``, ``.off``, ``.stl``...).
        samples: points drawn from a mesh's surface (ignored for point clouds).
        seed: seed of that draw.

    Returns:
        The points in the file's own coordinates (:class:`OrientedPoints`, or an ``(N, 3)``
        float32 array when the file has positions only: ``x y z`` rows, a PLY without
        normals), and the ``trimesh.Trimesh`` they were sampled from (None for a point cloud),
        useful as a reference for metrics.

    Raises:
        SirenkitError: missing or unreadable file, unknown suffix, bad values.
    """
    p = require_file(path, "point cloud or mesh")
    suffix = p.suffix.lower()
    name = str(p)
    try:
        if suffix == ".xyz":
            return _from_array(_read_xyz(p), name), None
        if suffix == ".npy":
            return _from_array(np.load(p, allow_pickle=False), name), None
        if suffix == ".npz":
            return _read_npz(p), None
        if suffix == ".ply":
            found = _read_ply_points(p)
            if found is not None:
                return found, None
        if suffix in MESH_SUFFIXES:
            mesh = load_mesh(p)
            return sample_mesh(mesh, samples, seed), mesh
    except SirenkitError:
        raise
    except (OSError, ValueError, KeyError, IndexError, EOFError) as e:
        raise SirenkitError(f"cannot read {name}: {type(e).__name__}: {e}") from None
    raise SirenkitError(
        f"{name}: unknown suffix {suffix!r}; expected one of "
        f"{', '.join(POINT_SUFFIXES + MESH_SUFFIXES)}"
    )


def load_oriented_points(
    path: str | Path, *, samples: int = 200_000, seed: int = 0
) -> tuple[OrientedPoints, Any]:
    """:func:`load_points` for callers that need normals.

    Raises:
        SirenkitError: as :func:`load_points`, and for a file with positions only.
    """
    found, mesh = load_points(path, samples=samples, seed=seed)
    if not isinstance(found, OrientedPoints):
        raise SirenkitError(f"{path}: has positions but no normals (nx ny nz) for every point")
    return found, mesh


def load_mesh(path: str | Path) -> Any:
    """A triangle mesh from any file trimesh reads, as one ``trimesh.Trimesh``.

    Raises:
        SirenkitError: unreadable file or no triangles in it.
    """
    trimesh = optional_import("trimesh", "sdf", "reading meshes")
    p = require_file(path, "mesh")
    try:
        mesh = trimesh.load(p, force="mesh", process=True)
    except Exception as e:  # trimesh raises many types for malformed files
        raise SirenkitError(f"cannot read mesh {p}: {type(e).__name__}: {e}") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise SirenkitError(f"{p}: no triangles found (expected a surface mesh)")
    return mesh


def save_oriented_points(path: str | Path, cloud: OrientedPoints) -> Path:
    """Write points and normals as ``.xyz``, ``.npy`` ``(N, 6)``, ``.npz`` or ASCII ``.ply``."""
    p = Path(path)
    data = np.hstack([cloud.points, cloud.normals]).astype(np.float32)
    suffix = p.suffix.lower()
    if suffix == ".xyz":
        np.savetxt(p, data, fmt="%.8g")
    elif suffix == ".npy":
        np.save(p, data)
    elif suffix == ".npz":
        np.savez(p, points=cloud.points, normals=cloud.normals)
    elif suffix == ".ply":
        header = "\n".join(
            [
                "ply",
                "format ascii 1.0",
                f"element vertex {len(data)}",
                *(f"property float {c}" for c in ("x", "y", "z", "nx", "ny", "nz")),
                "end_header",
            ]
        )
        np.savetxt(p, data, fmt="%.8g", header=header, comments="")
    else:
        raise SirenkitError(f"{p}: cannot write {suffix!r}; use .xyz, .npy, .npz or .ply")
    return p


def _read_xyz(path: Path) -> np.ndarray:
    try:
        data = np.loadtxt(path, dtype=np.float64, ndmin=2, comments="#")
    except ValueError as e:
        raise SirenkitError(
            f"{path}: not an .xyz point cloud ('x y z nx ny nz' per line): {e}"
        ) from None
    return data


def _from_array(data: np.ndarray, source: str) -> OrientedPoints | np.ndarray:
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] not in (3, 6):
        raise SirenkitError(
            f"{source}: expected rows 'x y z' or 'x y z nx ny nz', got shape {data.shape}"
        )
    if data.shape[1] == 3:
        return validate_points(data, source)
    return validate_oriented(data[:, :3], data[:, 3:], source)


def _read_npz(path: Path) -> OrientedPoints | np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        if {"points", "normals"} <= keys:
            return validate_oriented(z["points"], z["normals"], str(path))
        if "points" in keys:
            return validate_points(z["points"], str(path))
        if len(keys) == 1:
            return _from_array(z[next(iter(keys))], str(path))
    raise SirenkitError(
        f"{path}: expected arrays 'points' (and 'normals'), or one (N, 3) or (N, 6) array; "
        f"found {sorted(keys)}"
    )


def _read_ply_points(path: Path) -> OrientedPoints | np.ndarray | None:
    """Points (and normals, when it has them) of a PLY without faces; None when it has faces
    (a mesh)."""
    from trimesh.exchange.ply import load_ply

    with open(path, "rb") as f:
        data = load_ply(f)
    faces = data.get("faces")
    if faces is not None and len(faces) > 0:
        return None
    normals = data.get("vertex_normals")
    if normals is None:
        return validate_points(data["vertices"], str(path))
    return validate_oriented(data["vertices"], normals, str(path))
