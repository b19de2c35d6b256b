"""Oriented point clouds: reading, validating and normalising them into the [-1, 1] cube.

An SDF fit needs surface points with outward unit normals. They come from ``.xyz`` files
(``x y z nx ny nz`` per line, the paper's format), ``.ply`` point clouds with ``nx ny nz``
vertex properties, ``.npy`` arrays ``(N, 6)`` or ``.npz`` archives (``points`` and ``normals``),
or from meshes (``.obj``, ``.off``, ``.ply`` with faces, ``.stl``) sampled with face normals.
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


def sample_mesh(mesh: Any, count: int, seed: int = 0) -> OrientedPoints:
    """``count`` points uniformly on a trimesh mesh's area, with their face normals."""
    trimesh = optional_import("trimesh", "sdf", "mesh sampling")
    if count < MIN_POINTS:
        raise SirenkitError(f"--samples must be at least {MIN_POINTS}, got {count}")
    if len(mesh.faces) == 0 or mesh.area <= 0:
        raise SirenkitError("mesh has no faces with area to sample")
    pts, face = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return validate_oriented(pts, mesh.face_normals[face], "mesh samples")


def load_oriented_points(
    path: str | Path, *, samples: int = 200_000, seed: int = 0
) -> tuple[OrientedPoints, Any]:
    """Read an oriented point cloud, or sample one from a mesh.

    Arguments:
        path: ``.xyz``, ``.npy``, ``.npz``, ``.ply`` (points with normals, or a mesh), or a mesh
            file trimesh reads (``.obj``, ``.off``, ``.stl``...).
        samples: points drawn from a mesh's surface (ignored for point clouds).
        seed: seed of that draw.

    Returns:
        The points in the file's own coordinates, and the ``trimesh.Trimesh`` they were sampled
        from (None for a point cloud), useful as a reference for metrics.

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


def _from_array(data: np.ndarray, source: str) -> OrientedPoints:
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] not in (3, 6):
        raise SirenkitError(f"{source}: expected (N, 6) rows 'x y z nx ny nz', got {data.shape}")
    if data.shape[1] == 3:
        raise SirenkitError(
            f"{source}: has positions but no normals (3 columns); SDF fitting needs "
            "'x y z nx ny nz' per point"
        )
    return validate_oriented(data[:, :3], data[:, 3:], source)


def _read_npz(path: Path) -> OrientedPoints:
    with np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        if {"points", "normals"} <= keys:
            return validate_oriented(z["points"], z["normals"], str(path))
        if len(keys) == 1:
            return _from_array(z[next(iter(keys))], str(path))
    raise SirenkitError(
        f"{path}: expected arrays 'points' and 'normals' (or one (N, 6) array), found "
        f"{sorted(keys)}"
    )


def _read_ply_points(path: Path) -> OrientedPoints | None:
    """Points and normals of a PLY without faces; None when it has faces (a mesh)."""
    from trimesh.exchange.ply import load_ply

    with open(path, "rb") as f:
        data = load_ply(f)
    faces = data.get("faces")
    if faces is not None and len(faces) > 0:
        return None
    normals = data.get("vertex_normals")
    if normals is None:
        raise SirenkitError(
            f"{path}: PLY points without normals; SDF fitting needs nx, ny, nz vertex properties"
        )
    return validate_oriented(data["vertices"], normals, str(path))
