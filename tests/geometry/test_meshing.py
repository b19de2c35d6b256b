"""Exact SDFs meshed without training land where they should: axis order, scale, offset, sign."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sirenkit.errors import SirenkitError
from sirenkit.geometry.meshing import extract_mesh, sdf_function
from sirenkit.geometry.shapes import Box, Sphere, Torus

pytest.importorskip("trimesh")

RES = 40
H = 2.0 / (RES - 1)


def test_sphere_off_centre_lands_on_its_surface_with_outward_faces():
    sphere = Sphere((0.2, -0.3, 0.1), 0.45)
    mesh = extract_mesh(sphere, RES, block=8)
    tri = mesh.to_trimesh()
    assert tri.is_watertight
    np.testing.assert_allclose(tri.bounds[0], [-0.25, -0.75, -0.35], atol=H / 2)
    np.testing.assert_allclose(tri.bounds[1], [0.65, 0.15, 0.55], atol=H / 2)
    err = sdf_function(sphere)(torch.from_numpy(mesh.vertices).float()).abs().max()
    assert float(err) < H / 8
    # positive volume: faces wind outward; close to the exact volume
    assert tri.volume == pytest.approx(4 / 3 * np.pi * 0.45**3, rel=0.03)


def test_box_axis_order_and_extent():
    box = Box((0.1, 0.0, -0.2), (0.5, 0.3, 0.15))
    tri = extract_mesh(box, RES, block=16).to_trimesh()
    np.testing.assert_allclose(tri.bounds[0], [-0.4, -0.3, -0.35], atol=H)
    np.testing.assert_allclose(tri.bounds[1], [0.6, 0.3, -0.05], atol=H)
    assert tri.volume == pytest.approx(1.0 * 0.6 * 0.3, rel=0.06)


def test_torus_about_first_axis_has_a_hole():
    torus = Torus((0.0, 0.1, 0.0), major=0.5, minor=0.15, axis=0)
    tri = extract_mesh(torus, RES, block=8).to_trimesh()
    np.testing.assert_allclose(tri.bounds[0], [-0.15, -0.55, -0.65], atol=H)
    np.testing.assert_allclose(tri.bounds[1], [0.15, 0.75, 0.65], atol=H)
    assert tri.euler_number == 0  # genus one
    assert tri.volume == pytest.approx(2 * np.pi**2 * 0.5 * 0.15**2, rel=0.08)


def test_bound_scales_the_grid():
    tri = extract_mesh(Sphere((0.5, 0, 0), 1.0), RES, bound=2.0).to_trimesh()
    np.testing.assert_allclose(tri.bounds, [[-0.5, -1, -1], [1.5, 1, 1]], atol=2 * H)


def test_screening_and_block_size_change_nothing():
    torus = Torus(major=0.5, minor=0.2)
    dense = extract_mesh(torus, 33, block=32, lipschitz=None)
    screened = extract_mesh(torus, 33, block=4, lipschitz=1.0)
    assert screened.stats.evaluated_points < dense.stats.evaluated_points
    assert len(screened.faces) == len(dense.faces)
    # same vertices up to float32 rounding of block-local coordinates
    a = dense.vertices[np.lexsort(np.round(dense.vertices, 5).T)]
    b = screened.vertices[np.lexsort(np.round(screened.vertices, 5).T)]
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert screened.to_trimesh().is_watertight


def test_no_crossing_gives_an_empty_mesh_and_bad_resolution_errors():
    empty = extract_mesh(Sphere((5, 5, 5), 0.1), 16)
    assert empty.faces.shape == (0, 3)
    with pytest.raises(SirenkitError, match="resolution"):
        extract_mesh(Sphere(), 1)


def test_resolution_512_stays_in_bounded_memory():
    import tracemalloc

    sphere = Sphere((0.3, 0.0, 0.0), 0.1)
    tracemalloc.start()
    try:
        mesh = extract_mesh(sphere, 512, lipschitz=1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # a dense float32 512^3 volume alone is 512 MiB
    assert mesh.stats.evaluated_points < 0.01 * 512**3
    h = 2 / 511
    np.testing.assert_allclose(mesh.vertices.min(0), [0.2, -0.1, -0.1], atol=h)
    np.testing.assert_allclose(mesh.vertices.max(0), [0.4, 0.1, 0.1], atol=h)
