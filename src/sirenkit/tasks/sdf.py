"""Fitting a signed distance function to a point cloud (the paper's Section 4.2), fast.

The network ``f`` learns, from surface points (with normals, given or estimated), a function
that is zero on the surface, negative inside and positive outside; its zero level set is then
meshed. Two recipes (:class:`SdfLoss`):

- ``distance`` (the default): the network starts as a sphere's SDF
  (:func:`~sirenkit.geometry.sphere_init.sphere_init`) and regresses ``|f|`` to zero on the
  points and ``f`` onto the point cloud's approximate signed distance
  (:class:`~sirenkit.geometry.pointset.PointSetDistance`) at points near the surface and
  uniform in the cube. Every region of space is supervised, so no zero crossing survives far
  from the points (no "ghost" surfaces), and no input gradient is needed: a step costs a
  forward and a backward pass, not a double backward.
- ``paper``: the authors' loss (surface, off-surface ``exp(-alpha |f|)``, normals, Eikonal) on
  surface and uniform points, from SIREN's random initialisation.

Sign convention: negative inside, positive outside (the paper's). trimesh's own
``signed_distance`` is positive inside; nothing here calls it, and inside tests go through
:mod:`sirenkit.geometry.metrics` (winding numbers, or ``f < 0``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
import tyro
from torch import nn

from ..errors import SirenkitError, require_positive
from ..geometry.io import NormalsMode, Reference, export_mesh, load_source, subsample
from ..geometry.meshing import Mesh, extract_mesh, sdf_function
from ..geometry.metrics import connected_components, sdf_inside, surface_metrics, volume_iou
from ..geometry.pointset import ORIENTATION, PointSetDistance
from ..geometry.sphere_init import sphere_init
from ..physics.sdf import sdf_problem
from ..problems import ProblemTask
from ..problems.problem import Batch
from ..render import model_device
from ..signals.pointcloud import Normalisation, OrientedPoints, sample_mesh
from ..training.config import RunOptions, TrainConfig


@dataclass
class SdfLoss:
    """Which loss, and its weights.

    ``distance`` (the default) regresses ``f`` onto the point cloud's approximate signed
    distance (:class:`~sirenkit.geometry.pointset.PointSetDistance`) at points near the surface
    and in the whole cube, with ``f = 0`` on the points and optional gradient terms; ``paper`` is
    the authors' loss (surface, off-surface ``exp(-alpha |f|)``, normals, Eikonal).
    """

    FORMER_DEFAULTS: ClassVar[dict[str, Any]] = {
        "recipe": "paper",  # before 9a84f66: the authors' loss was the only one
    }
    """What a run saved before each field existed ran with (``from_dict``), so that it
    resumes as it started (``weight_distance`` and ``gradients``, added with the distance
    recipe, only act in it)."""

    recipe: Literal["distance", "paper"] = "distance"
    """distance (fast, ghost-free) or paper (the authors' loss and weights)."""
    weight_surface: float = 3e3
    """|f| on surface points."""
    weight_off_surface: float = 1e2
    """paper: exp(-alpha |f|) on off-surface points (keeps f away from zero off the surface)."""
    weight_distance: float = 1e3
    """distance: |f - d| at near-surface and uniform points, d the point cloud's distance."""
    weight_normal: float = 1e2
    """1 - cos(grad f, n) on surface points (distance: only with --gradients)."""
    weight_eikonal: float = 5e1
    """| |grad f| - 1 | on all points (paper) or the surface points (distance: only with
    --gradients)."""
    gradients: bool = True
    """distance: also the normal term on the surface points and the Eikonal term everywhere
    (input gradients and a double backward pass: about 2.3x the time per point, for smoother
    surfaces and no ghosts; False: values only)."""
    alpha: float = 100.0
    """paper: sharpness of the off-surface term."""


@dataclass
class FitSdfConfig(RunOptions):
    """Fit a SIREN signed distance function to a point cloud (with or without normals) or a
    mesh; mesh its zero level set."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH|NAME")] = "chair"
    """Point cloud (.xyz, .ply, .npy, .npz; normals optional), mesh (.obj, .off, .ply, .stl)
    or a built-in shape (chair, sphere, box, torus)."""
    normals: NormalsMode = "auto"
    """auto: the file's normals, estimated only when it has none; estimate: always estimate
    them (PCA of the neighbours, oriented along a spanning tree)."""
    samples: int = 200_000
    """Oriented points drawn from a mesh or built-in shape (point clouds are used as given)."""
    padding: float = 0.1
    """Margin between the shape's bounding box and the faces of the [-1, 1] cube."""
    loss: SdfLoss = field(default_factory=SdfLoss)
    start: Literal["sphere", "siren"] = "siren"
    """What the network starts as: siren (SIREN's random initialisation; the distance targets
    keep it ghost-free) or sphere (a sphere's SDF, see geometry/sphere_init.py: near-linear
    layers that fit detail slowly, IoU 0.946 against 0.986 on the armadillo at 60 CPU s)."""
    pool: int = 400_000
    """distance recipe: near-surface and uniform points whose target distances are computed
    once before training (batches are drawn from them)."""
    resolution: int = 256
    """Grid points per axis of the final mesh (sirenkit mesh RUN --resolution N for more)."""
    eval_resolution: int = 128
    """Grid points per axis of the meshes measured during training."""
    eval_points: int = 100_000
    """Surface samples per side for Chamfer, Hausdorff and normal consistency."""
    iou_points: int = 200_000
    """Uniform points for the volumetric IoU."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1200,
            lr=5e-4,
            batch_size=1024,
            eval_every=0,
            checkpoint_every=400,
        )
    )

    def setup(self) -> SdfTask:
        require_positive("--samples", self.samples)
        for name in ("resolution", "eval_resolution"):
            if getattr(self, name) < 8:
                raise SirenkitError(f"--{name.replace('_', '-')} must be at least 8")
        src = load_source(
            self.source,
            samples=self.samples,
            padding=self.padding,
            eval_points=self.eval_points,
            normals=self.normals,
            seed=self.train.seed,
        )
        return SdfTask(
            src.cloud,
            label=src.label,
            norm=src.norm,
            reference=src.reference,
            loss=self.loss,
            normals_from=src.normals,
            start=self.start,
            pool=self.pool,
            eval_resolution=self.eval_resolution,
            eval_points=self.eval_points,
            iou_points=self.iou_points,
            final_resolution=self.resolution,
            seed=self.train.seed,
        )


class SdfTask(ProblemTask):
    """SDF fitting on an oriented point cloud normalised into the [-1, 1] cube: the constraint
    set of :func:`~sirenkit.physics.sdf.sdf_problem`, and the meshes and metrics it ends with."""

    name = "sdf"
    views = ("sdf",)
    headline = "chamfer"
    reported = ("chamfer", "iou", "hausdorff", "normal_consistency", "components")

    def __init__(
        self,
        cloud: OrientedPoints,
        *,
        label: str = "shape",
        norm: Normalisation | None = None,
        reference: Reference | None = None,
        loss: SdfLoss | None = None,
        normals_from: str = "given",
        start: Literal["sphere", "siren"] = FitSdfConfig.start,
        near_sigma: tuple[float, ...] = (0.01, 0.05),
        pool: int = FitSdfConfig.pool,
        eval_resolution: int = 128,
        eval_points: int = 100_000,
        iou_points: int = 200_000,
        final_resolution: int = 256,
        seed: int = 0,
    ) -> None:
        """Arguments:
        cloud: oriented surface points in the input's coordinates.
        label: name for run folders.
        norm: input -> cube map (default: fitted to ``cloud``).
        reference: what to measure against (default: the cloud itself, no IoU).
        loss: loss recipe and weights.
        normals_from: where the normals came from (given, mesh, estimated), for the run folder.
        start: ``sphere`` (:func:`~sirenkit.geometry.sphere_init.sphere_init`) or ``siren``
            (the network's own random initialisation).
        near_sigma: standard deviations (cube units) of the offsets of near-surface points.
        pool: distance recipe: points whose target distances are computed once, up front.
        eval_resolution, eval_points, iou_points: evaluation settings.
        final_resolution: resolution of the mesh written at the end.
        seed: seed of the pool.
        """
        self.norm = norm or Normalisation.fit(cloud.points)
        self.cloud = cloud.transformed(self.norm)
        self.loss_cfg = w = loss or SdfLoss()
        self.start = start
        self.normals_from = normals_from
        self.eval_resolution = eval_resolution
        self.eval_points = eval_points
        self.iou_points = iou_points
        self.final_resolution = final_resolution
        distance = w.recipe == "distance"
        problem = sdf_problem(
            self.cloud.points,
            self.cloud.normals,
            weight_surface=w.weight_surface,
            weight_normal=w.weight_normal,
            weight_eikonal=w.weight_eikonal,
            gradients=w.gradients,
            pool=_distance_pool(self.cloud, pool, near_sigma, seed) if distance else None,
            weight_distance=w.weight_distance,
            weight_off_surface=w.weight_off_surface,
            alpha=w.alpha,
        )
        super().__init__(problem, w0=30.0, label=label)
        self.reference = reference or Reference(subsample(self.cloud, eval_points), None)
        self.headline = type(self).headline  # ProblemTask's is the residual or the L2 error
        self.unit = _unit_factor(self.reference.points.points)

    def init_model(self, model: nn.Module) -> None:
        """Sphere initialisation (radius 0.5, inside the shape's [-0.9, 0.9] box)."""
        if self.start == "sphere":
            sphere_init(model, 0.5)

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Batch:
        """``batch_size`` surface points with their normals and as many off the surface: from
        the pool of near-surface and uniform points with their target distances (distance),
        or uniform in the cube (paper). None: as many as there are surface points."""
        m = len(self.cloud) if batch_size is None else batch_size
        for c in self.problem.constraints:
            c.points = m
        return self.problem.sample(generator).to(self.device)

    def mesh(self, model: nn.Module, resolution: int) -> Mesh:
        """The zero level set of ``model`` in cube coordinates."""
        return extract_mesh(model, resolution)

    def measure(self, mesh: Mesh, model: nn.Module, seed: int = 0) -> dict[str, float]:
        """Metrics of a mesh (and the network's inside test) against the reference.

        Distances are in the unit frame: the reference's longest bounding-box side is 1.
        """
        out: dict[str, float] = {
            "faces": float(len(mesh.faces)),
            "components": float(connected_components(mesh.faces, len(mesh.vertices))),
        }
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
        facts = {**metrics, "normals": self.normals_from, "recipe": self.loss_cfg.recipe}
        if self.normals_from == "estimated":
            facts["orientation"] = ORIENTATION
        (run_dir / "mesh_metrics.json").write_text(json.dumps(facts, indent=2) + "\n")
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
        return {
            "normalisation": self.norm.as_dict(),
            "label": self._label,
            "normals": self.normals_from,
            "recipe": self.loss_cfg.recipe,
            "start": self.start,
        }


def _distance_pool(
    cloud: OrientedPoints, count: int, sigmas: tuple[float, ...], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points with their target signed distances: three quarters near the surface
    (a surface point plus an isotropic Gaussian offset, one of ``sigmas`` each), a quarter
    uniform in the cube."""
    require_positive("pool", count)
    rng = np.random.default_rng(seed)
    near = (3 * count) // 4
    base = cloud.points[rng.integers(len(cloud), size=near)].astype(np.float64)
    sigma = np.asarray(sigmas, dtype=np.float64)[rng.integers(len(sigmas), size=near)]
    x = np.concatenate(
        [base + rng.normal(size=(near, 3)) * sigma[:, None], rng.uniform(-1, 1, (count - near, 3))]
    )
    x = np.clip(x, -1, 1)
    return x.astype(np.float32), PointSetDistance(cloud)(x)


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
