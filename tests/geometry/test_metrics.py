"""Surface and volume metrics on shapes whose answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from sirenkit.errors import SirenkitError
from sirenkit.geometry.meshing import extract_mesh
from sirenkit.geometry.metrics import mesh_inside, sdf_inside, surface_metrics, volume_iou
from sirenkit.geometry.shapes import Sphere
from sirenkit.signals.pointcloud import OrientedPoints


def _sphere_points(radius: float, n: int, seed: int) -> OrientedPoints:
    d = np.random.default_rng(seed).normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return OrientedPoints((radius * d).astype(np.float32), d.astype(np.float32))


def test_identical_sets_score_perfectly():
    a = _sphere_points(0.5, 500, 0)
    m = surface_metrics(a, a)
    assert m["chamfer"] == 0 and m["hausdorff"] == 0
    assert m["normal_consistency"] == pytest.approx(1.0)


def test_concentric_spheres_distance():
    d = 0.05
    m = surface_metrics(_sphere_points(0.5, 4000, 0), _sphere_points(0.5 + d, 4000, 1))
    # every nearest distance is at least d and, with dense samples, close to it
    assert 2 * d**2 <= m["chamfer"] < 2 * (1.5 * d) ** 2
    assert d <= m["hausdorff"] < 2 * d
    assert m["normal_consistency"] > 0.95


def test_flipped_normals_do_not_change_consistency_and_empty_sets_error():
    a = _sphere_points(0.5, 300, 0)
    flipped = OrientedPoints(a.points, -a.normals)
    assert surface_metrics(a, flipped)["normal_consistency"] == pytest.approx(1.0)
    with pytest.raises(SirenkitError):
        surface_metrics(OrientedPoints(np.zeros((0, 3)), np.zeros((0, 3))), a)


def test_iou_of_nested_spheres_and_of_a_shape_with_itself():
    inner, outer = sdf_inside(Sphere(radius=0.4)), sdf_inside(Sphere(radius=0.5))
    lo, hi = -np.ones(3), np.ones(3)
    assert volume_iou(inner, outer, lo, hi, samples=40_000) == pytest.approx(0.512, abs=0.03)
    assert volume_iou(inner, inner, lo, hi, samples=1000) == 1.0


def test_mesh_winding_number_inside_test_matches_the_sdf():
    pytest.importorskip("igl")
    sphere = Sphere((0.1, 0, 0), 0.5)
    mesh = extract_mesh(sphere, 32)
    q = np.random.default_rng(0).uniform(-1, 1, (3000, 3))
    exact = sdf_inside(sphere)(q)
    agree = mesh_inside(mesh.vertices, mesh.faces)(q) == exact
    assert agree.mean() > 0.99


def test_a_mesh_with_a_pinhole_still_has_an_inside_and_one_with_a_hole_does_not():
    trimesh = pytest.importorskip("trimesh")
    from sirenkit.geometry.io import nearly_closed

    fine = trimesh.creation.icosphere(6)  # ~0.03 edges on a sphere of diameter 2
    assert nearly_closed(fine)
    pinhole = fine.copy()
    pinhole.update_faces(np.arange(1, len(fine.faces)))  # one face: boundary ~0.1 of 2
    assert not pinhole.is_watertight
    assert nearly_closed(pinhole, tolerance=0.1) and not nearly_closed(pinhole, tolerance=0.01)
    cap = fine.copy()
    cap.update_faces(np.flatnonzero(fine.triangles_center[:, 2] < 0.9))  # a hole of radius 0.44
    assert not nearly_closed(cap, tolerance=0.1)
