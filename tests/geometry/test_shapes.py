"""Analytic shapes: exact values, the sign convention (negative inside), unit gradients."""

from __future__ import annotations

import pytest
import torch

from sirenkit.derivatives import value_and_derivatives
from sirenkit.errors import SirenkitError
from sirenkit.geometry.shapes import BUILTIN, Box, Cylinder, Sphere, Torus, builtin_shape


def _f(shape, *pts):
    return shape(torch.tensor(pts, dtype=torch.float32))[:, 0].tolist()


def test_values_at_known_points():
    assert _f(Sphere((1, 0, 0), 0.5), (1, 0, 0), (2, 0, 0)) == pytest.approx([-0.5, 0.5])
    box = Box((0, 0, 0), (0.5, 0.2, 0.1))
    assert _f(box, (0, 0, 0), (0.8, 0, 0), (0.8, 0.6, 0)) == pytest.approx([-0.1, 0.3, 0.5])
    torus = Torus(major=0.5, minor=0.1, axis=2)
    assert _f(torus, (0.5, 0, 0), (0, 0, 0), (0, 0.5, 0.3)) == pytest.approx([-0.1, 0.4, 0.2])
    cyl = Cylinder(radius=0.2, half_height=0.5, axis=1)
    assert _f(cyl, (0, 0, 0), (0, 0.7, 0), (0.5, 0, 0)) == pytest.approx([-0.2, 0.2, 0.3])


INSIDE = {"chair": (0.0, 0.0, 0.0), "sphere": (0.0, 0.0, 0.0), "box": (0.5, 0.3, 0.2)}
INSIDE["torus"] = (0.55, 0.0, 0.0)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_shapes_are_eikonal_and_negative_inside(name):
    shape = builtin_shape(name)
    x = torch.rand(2000, 3) * 2 - 1
    d = value_and_derivatives(shape, x, gradient=True)
    norms = d.gradient[:, 0].norm(dim=-1)
    assert (norms - 1).abs().median() < 1e-4
    assert _f(shape, INSIDE[name])[0] < 0
    assert _f(shape, (0.99, 0.99, 0.99))[0] > 0


def test_unknown_shape_and_axis():
    with pytest.raises(SirenkitError, match="chair"):
        builtin_shape("teapot")
    with pytest.raises(SirenkitError, match="axis"):
        Torus(axis=3)
