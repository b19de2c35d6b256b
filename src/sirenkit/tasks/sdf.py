"""Fitting a signed distance function to an oriented point cloud (the paper's Section 4.2).

The network ``f`` learns, from surface points and normals alone, a function that is zero on
the surface, has the normals as gradient there, is away from zero elsewhere and has unit
gradient everywhere (the Eikonal equation). Its zero level set is then meshed.

Sign convention: negative inside, positive outside (the paper's). trimesh's own
``signed_distance`` is positive inside; nothing here calls it, and inside tests go through
:mod:`sirenkit.geometry.metrics` (winding numbers, or ``f < 0``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import tyro
from torch import nn

from ..derivatives import value_and_derivatives
from ..errors import SirenkitError, optional_import, require_positive
from ..geometry.meshing import Mesh, extract_mesh, sdf_function
from ..geometry.metrics import (
    InsideFn,
    have_mesh_inside,
    mesh_inside,
    sdf_inside,
    surface_metrics,
    volume_iou,
)
from ..geometry.shapes import BUILTIN, builtin_shape
from ..nets.registry import TaskShape
from ..render import model_device
from ..signals.pointcloud import (
    Normalisation,
    OrientedPoints,
    load_oriented_points,
    sample_mesh,
)
from ..training.config import RunOptions, TrainConfig
from ..training.task import Task


@dataclass
class SdfLoss:
    """Weights of the paper's SDF loss terms (defaults: the paper's)."""

    weight_surface: float = 3e3
    """|f| on surface points."""
    weight_off_surface: float = 1e2
    """exp(-alpha |f|) on off-surface points (keeps f away from zero off the surface)."""
    weight_normal: float = 1e2
    """1 - cos(grad f, n) on surface points."""
    weight_eikonal: float = 5e1
    """| |grad f| - 1 | on all points."""
    alpha: float = 100.0
    """Sharpness of the off-surface term."""


@dataclass
class FitSdfConfig(RunOptions):
    """Fit a SIREN signed distance function to an oriented point cloud or a mesh; mesh it."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH|NAME")] = "chair"
    """Point cloud (.xyz, .ply with normals, .npy, .npz), mesh (.obj, .off, .ply, .stl) or a
    built-in shape (chair, sphere, box, torus)."""
    samples: int = 200_000
    """Oriented points drawn from a mesh or built-in shape (point clouds are used as given)."""
    padding: float = 0.1
    """Margin between the shape's bounding box and the faces of the [-1, 1] cube."""
    loss: SdfLoss = field(default_factory=SdfLoss)
    resolution: int = 256
    """Grid points per axis of the final mesh (sirenkit mesh RUN --resolution N for more)."""
    eval_resolution: int = 96
    """Grid points per axis of the meshes measured during training."""
    eval_points: int = 30_000
    """Surface samples per side for Chamfer, Hausdorff and normal consistency."""
    iou_points: int = 100_000
    """Uniform points for the volumetric IoU."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000,
            lr=1e-4,
            batch_size=4096,
            eval_every=250,
            checkpoint_every=250,
        )
    )

    def setup(self) -> SdfTask:
        require_positive("--samples", self.samples)
        for name in ("resolution", "eval_resolution"):
            if getattr(self, name) < 8:
                raise SirenkitError(f"--{name.replace('_', '-')} must be at least 8")
        cloud, norm, reference, label = load_source(
            self.source, samples=self.samples, padding=self.padding, eval_points=self.eval_points
        )
        return SdfTask(
            cloud,
            label=label,
            norm=norm,
            reference=reference,
            loss=self.loss,
            eval_resolution=self.eval_resolution,
            eval_points=self.eval_points,
            iou_points=self.iou_points,
            final_resolution=self.resolution,
        )


@dataclass
class Reference:
    """What a fit is measured against, in cube coordinates."""

    points: OrientedPoints
    inside: InsideFn | None
    """Inside test of the reference solid; None when it has none (an open or point surface)."""
    mesh: tuple[np.ndarray, np.ndarray] | None = None
    """Reference vertices (input coordinates) and faces, drawn next to the fit when known."""


class SdfTask(Task):
    """Eikonal SDF fitting on an oriented point cloud normalised into the [-1, 1] cube."""

    name = "sdf"
    headline = "chamfer"
    reported = ("chamfer", "iou", "hausdorff", "normal_consistency")

    def __init__(
        self,
        cloud: OrientedPoints,
        *,
        label: str = "shape",
        norm: Normalisation | None = None,
        reference: Reference | None = None,
        loss: SdfLoss | None = None,
        eval_resolution: int = 96,
        eval_points: int = 30_000,
        iou_points: int = 100_000,
        final_resolution: int = 256,
    ) -> None:
        """Arguments:
        cloud: oriented surface points in the input's coordinates.
        label: name for run folders.
        norm: input -> cube map (default: fitted to ``cloud``).
        reference: what to measure against (default: the cloud itself, no IoU).
        loss: loss weights.
        eval_resolution, eval_points, iou_points: evaluation settings.
        final_resolution: resolution of the mesh written at the end.
        """
        self.norm = norm or Normalisation.fit(cloud.points)
        self.cloud = cloud.transformed(self.norm)
        self.points = torch.from_numpy(self.cloud.points)
        self.normals = torch.from_numpy(self.cloud.normals)
        self.reference = reference or Reference(_subsample(self.cloud, eval_points), None)
        self.loss_cfg = loss or SdfLoss()
        self._label = label
        self.eval_resolution = eval_resolution
        self.eval_points = eval_points
        self.iou_points = iou_points
        self.final_resolution = final_resolution
        self.unit = _unit_factor(self.reference.points.points)

    @property
    def shape(self) -> TaskShape:
        return TaskShape(3, 1, None, w0=30.0)

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> SdfTask:
        self.points = self.points.to(device)
        self.normals = self.normals.to(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """Surface points with normals, and as many uniform points in the cube."""
        n = self.points.shape[0]
        if batch_size is None or batch_size >= n:
            surf, normals = self.points, self.normals
        else:
            idx = torch.randint(n, (batch_size,), generator=generator).to(self.points.device)
            surf, normals = self.points[idx], self.normals[idx]
        off = torch.rand(surf.shape[0], 3, generator=generator).to(surf.device) * 2 - 1
        return surf, normals, off

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The paper's loss; masked terms are averaged over the whole batch, as the authors'
        code does, so the default weights mean what they mean there."""
        surf, normals, off = batch
        w = self.loss_cfg
        x = torch.cat([surf, off])
        d = value_and_derivatives(model, x, gradient=True)
        f, g = d.value[:, 0], d.gradient[:, 0, :]
        ns, total = surf.shape[0], x.shape[0]
        on = f[:ns].abs().sum() / total
        off_term = torch.exp(-w.alpha * f[ns:].abs()).sum() / total
        normal = (1 - torch.nn.functional.cosine_similarity(g[:ns], normals, dim=-1)).sum() / total
        eikonal = (g.norm(dim=-1) - 1).abs().mean()
        loss = (
            w.weight_surface * on
            + w.weight_off_surface * off_term
            + w.weight_normal * normal
            + w.weight_eikonal * eikonal
        )
        scalars = {
            "surface": on.detach(),
            "off_surface": off_term.detach(),
            "normal": normal.detach(),
            "eikonal": eikonal.detach(),
        }
        return loss, scalars

    def mesh(self, model: nn.Module, resolution: int) -> Mesh:
        """The zero level set of ``model`` in cube coordinates."""
        return extract_mesh(model, resolution)

    def measure(self, mesh: Mesh, model: nn.Module, seed: int = 0) -> dict[str, float]:
        """Metrics of a mesh (and the network's inside test) against the reference.

        Distances are in the unit frame: the reference's longest bounding-box side is 1.
        """
        out: dict[str, float] = {"faces": float(len(mesh.faces))}
        if len(mesh.faces) == 0:
            return out
        pred = sample_mesh(mesh.to_trimesh(), self.eval_points, seed=seed)
        ref = self.reference.points
        scaled = surface_metrics(_scaled(pred, self.unit), _scaled(ref, self.unit))
        out.update(scaled)
        if self.reference.inside is not None:
            out["iou"] = volume_iou(
                sdf_inside(model),
                self.reference.inside,
                -np.ones(3),
                np.ones(3),
                samples=self.iou_points,
                seed=seed,
            )
        return out

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return self.measure(self.mesh(model, self.eval_resolution), model)

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        from ..viz.shapes import save_mesh_views, save_sdf_slices

        mesh = self.mesh(model, self.final_resolution)
        metrics = self.measure(mesh, model)
        metrics["resolution"] = self.final_resolution
        (run_dir / "mesh_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        verts = self.norm.to_input(mesh.vertices)
        if len(mesh.faces):
            export_mesh(run_dir / "mesh.ply", verts, mesh.faces)
        rows = [("fit", verts, mesh.faces)]
        if self.reference.mesh is not None:
            rows.append(("reference", *self.reference.mesh))
        save_mesh_views(run_dir / "views.png", rows)
        save_sdf_slices(
            run_dir / "slices.png",
            sdf_function(model),
            device=model_device(model),
        )

    def meta(self) -> dict[str, Any]:
        return {"normalisation": self.norm.as_dict(), "label": self._label}


def export_mesh(path: Path, vertices: np.ndarray, faces: np.ndarray) -> Path:
    """Write a mesh as PLY, OBJ, STL or OFF (by suffix) with trimesh."""
    trimesh = optional_import("trimesh", "sdf", "mesh export")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("ply", "obj", "stl", "off"):
        raise SirenkitError(f"{path}: mesh format must be .ply, .obj, .stl or .off")
    trimesh.Trimesh(vertices, faces, process=False).export(path, file_type=suffix)
    return Path(path)


def load_source(
    source: str, *, samples: int, padding: float, eval_points: int, seed: int = 0
) -> tuple[OrientedPoints, Normalisation, Reference, str]:
    """Oriented points, their normalisation and the reference for a file or built-in name.

    Returns:
        ``(cloud in input coordinates, input -> cube map, reference in cube coordinates,
        label)``. Reference: a built-in shape's exact SDF (inside test ``f < 0``), a watertight
        mesh with winding numbers (when libigl is installed), else surface samples only.
    """
    if source in BUILTIN and not Path(source).exists():
        shape = builtin_shape(source)
        tri = extract_mesh(shape, 160, lipschitz=1.0).to_trimesh()
        cloud = sample_mesh(tri, samples, seed)
        norm = Normalisation.fit(cloud.points, padding)
        ref_pts = sample_mesh(tri, eval_points, seed + 1).transformed(norm)

        def inside(q: np.ndarray) -> np.ndarray:
            return sdf_inside(shape)(norm.to_input(q))

        return cloud, norm, Reference(ref_pts, inside, (tri.vertices, tri.faces)), source
    cloud, mesh = load_oriented_points(source, samples=samples, seed=seed)
    norm = Normalisation.fit(cloud.points, padding)
    label = Path(source).stem
    if mesh is None:
        return cloud, norm, Reference(_subsample(cloud.transformed(norm), eval_points), None), label
    ref_pts = sample_mesh(mesh, eval_points, seed + 1).transformed(norm)
    inside = None
    if mesh.is_watertight and have_mesh_inside():
        inside = mesh_inside(norm.to_cube(mesh.vertices), mesh.faces)
    return cloud, norm, Reference(ref_pts, inside, (mesh.vertices, mesh.faces)), label


def _subsample(cloud: OrientedPoints, count: int, seed: int = 0) -> OrientedPoints:
    if len(cloud) <= count:
        return cloud
    idx = np.random.default_rng(seed).choice(len(cloud), count, replace=False)
    return OrientedPoints(cloud.points[idx], cloud.normals[idx])


def _unit_factor(points: np.ndarray) -> float:
    """Scale taking cube coordinates to the frame where the points' longest side is 1."""
    side = float((points.max(0) - points.min(0)).max())
    return 1.0 / side if side > 0 else 1.0


def _scaled(cloud: OrientedPoints, factor: float) -> OrientedPoints:
    return OrientedPoints(cloud.points * factor, cloud.normals)


def fit_sdf(cfg: FitSdfConfig):
    """CLI entry: ``sirenkit fit sdf``."""
    from ..training.run import run

    return run(cfg)
