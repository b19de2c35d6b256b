"""Point clouds: readers round trip, positions alone load as unoriented points, meshes sample
outward normals, errors are clear."""

from __future__ import annotations

import numpy as np
import pytest

from sirenkit.errors import SirenkitError
from sirenkit.signals.pointcloud import (
    Normalisation,
    OrientedPoints,
    load_oriented_points,
    load_points,
    save_oriented_points,
    validate_oriented,
)


@pytest.fixture
def cloud() -> OrientedPoints:
    rng = np.random.default_rng(0)
    n = rng.normal(size=(64, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    return OrientedPoints((3 + 2 * n).astype(np.float32), n.astype(np.float32))


@pytest.mark.parametrize("suffix", [".xyz", ".npy", ".npz", ".ply"])
def test_round_trip(tmp_path, cloud, suffix):
    path = save_oriented_points(tmp_path / f"c{suffix}", cloud)
    back, mesh = load_oriented_points(path)
    assert mesh is None
    np.testing.assert_allclose(back.points, cloud.points, atol=1e-5)
    np.testing.assert_allclose(back.normals, cloud.normals, atol=1e-5)


def test_normals_are_made_unit(tmp_path, cloud):
    np.savetxt(tmp_path / "c.xyz", np.hstack([cloud.points, 5 * cloud.normals]))
    back, _ = load_oriented_points(tmp_path / "c.xyz")
    np.testing.assert_allclose(np.linalg.norm(back.normals, axis=1), 1, atol=1e-6)


@pytest.mark.parametrize("suffix", [".obj", ".off", ".stl", ".ply"])
def test_mesh_is_sampled_with_outward_normals(tmp_path, suffix):
    trimesh = pytest.importorskip("trimesh")
    box = trimesh.creation.box(extents=(2, 1, 0.5))
    box.apply_translation((1, 2, 3))
    box.export(tmp_path / f"box{suffix}")
    pts, mesh = load_oriented_points(tmp_path / f"box{suffix}", samples=500)
    assert len(pts) == 500 and mesh is not None
    lo, hi = pts.points.min(0), pts.points.max(0)
    np.testing.assert_allclose(lo, [0, 1.5, 2.75], atol=1e-5)
    np.testing.assert_allclose(hi, [2, 2.5, 3.25], atol=1e-5)
    outward = np.sum((pts.points - [1, 2, 3]) * pts.normals, axis=1)
    assert (outward > 0).all()


def test_normalisation_fits_the_cube_and_inverts(cloud):
    norm = Normalisation.fit(cloud.points, padding=0.1)
    cube = norm.to_cube(cloud.points)
    assert np.abs(cube).max() == pytest.approx(0.9, abs=1e-6)
    np.testing.assert_allclose(norm.to_input(cube), cloud.points, atol=1e-5)
    assert Normalisation.from_dict(norm.as_dict()) == norm


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "rows,match",
    [
        ("0 0 0 0 0 0\n" * 20, "zero"),
        ("0 0 0 1 0 0\n" * 19 + "nan 0 0 1 0 0\n", "NaN"),
        ("0 0 0 1 0 0\n" * 3, "at least"),
        ("0 0 0\n" * 20, "no normals"),
        ("hello world\n", "not an .xyz"),
    ],
)
def test_bad_xyz(tmp_path, rows, match):
    with pytest.raises(SirenkitError, match=match):
        load_oriented_points(_write(tmp_path, "bad.xyz", rows))


def test_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(SirenkitError, match="not found"):
        load_oriented_points(tmp_path / "missing.xyz")
    with pytest.raises(SirenkitError, match="suffix"):
        load_oriented_points(_write(tmp_path, "c.txt", "1 2 3"))
    with pytest.raises(SirenkitError):
        load_oriented_points(_write(tmp_path, "broken.off", "OFF\n3 1 0\n1 2\n"))
    with pytest.raises(SirenkitError, match="normals"):
        validate_oriented(np.zeros((20, 3)), np.zeros((20, 2)))


def test_positions_without_normals_load_as_unoriented_points(tmp_path, cloud):
    """x y z rows, (N, 3) arrays, npz 'points' alone and PLY without nx ny nz."""
    np.savetxt(tmp_path / "p.xyz", cloud.points)
    np.save(tmp_path / "p.npy", cloud.points)
    np.savez(tmp_path / "p.npz", points=cloud.points)
    header = f"ply\nformat ascii 1.0\nelement vertex {len(cloud)}\n"
    header += "property float x\nproperty float y\nproperty float z\nend_header"
    np.savetxt(tmp_path / "p.ply", cloud.points, header=header, comments="")
    for name in ("p.xyz", "p.npy", "p.npz", "p.ply"):
        found, mesh = load_points(tmp_path / name)
        assert mesh is None
        assert isinstance(found, np.ndarray) and found.shape == (len(cloud), 3), name
        np.testing.assert_allclose(found, cloud.points, atol=1e-5)
        with pytest.raises(SirenkitError, match="no normals"):
            load_oriented_points(tmp_path / name)
    np.savetxt(tmp_path / "nan.xyz", np.vstack([cloud.points, [[np.nan, 0, 0]]]))
    with pytest.raises(SirenkitError, match="NaN"):
        load_points(tmp_path / "nan.xyz")
