"""Shapes as signed distance functions: analytic shapes, meshing and metrics."""

from .meshing import Mesh, extract_mesh
from .metrics import mesh_inside, sdf_inside, surface_metrics, volume_iou
from .shapes import BUILTIN, Box, Cylinder, Sphere, Torus, builtin_shape

__all__ = [
    "BUILTIN",
    "Box",
    "Cylinder",
    "Mesh",
    "Sphere",
    "Torus",
    "builtin_shape",
    "extract_mesh",
    "mesh_inside",
    "sdf_inside",
    "surface_metrics",
    "volume_iou",
]
