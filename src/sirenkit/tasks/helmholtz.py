"""Solving the Helmholtz equation with a network supervised only by the PDE residual.

The problem is a constraint set (:func:`sirenkit.physics.helmholtz.helmholtz_problem`): the
network maps ``(x0, x1)`` to the real and imaginary parts of the field; the loss is the mean
squared modulus of the PML Helmholtz residual (in its stretched form) at random points of
[-1, 1]^2, a share of them inside the physical domain. This file adds the outputs: the answer
is scored against the finite-difference solution of the same problem inside the physical
domain; for a uniform medium the reference itself is checked against the Hankel solution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError, require_fraction, require_positive
from ..metrics import relative_l2
from ..nets.config import ModelConfig
from ..nets.registry import TaskShape
from ..physics.analytic import hankel_solution
from ..physics.helmholtz import FIRST_W0, ResidualForm, complex_fields, helmholtz_problem
from ..physics.helmholtz_fd import HelmholtzProblem, solve_helmholtz
from ..physics.media import MediumOptions, VelocityMap
from ..physics.pml import PMLOptions
from ..physics.source import GaussianSource
from ..problems import ProblemTask, Reference
from ..problems.problem import Batch
from ..render import in_chunks, model_device
from ..training.config import RunOptions, TrainConfig
from ..training.task import points_per_step
from ..viz.figures import Panel, save_panels


@dataclass
class SolveHelmholtzConfig(RunOptions):
    """Solve the 2-D Helmholtz equation with a PML from its residual alone; score it against a
    finite-difference reference."""

    FORMER_DEFAULTS: ClassVar[dict[str, Any]] = {
        "physical_fraction": 0.0,  # before 00d7279: every point uniform over the square
        "residual_form": "divergence",  # before 00d7279: the loss took the divergence form
    }
    """What a run saved before each field existed ran with (``from_dict``), so that it
    resumes as it started."""

    k: float = 20.0
    """Wavenumber (paper: 20); wavelength 2 pi / k."""
    source: tuple[float, float] = (0.0, 0.0)
    """Position of the point source."""
    source_width: float = 0.03
    """Standard deviation of the Gaussian source (narrower is closer to a point, harder to fit)."""
    source_points: int = 0
    """Extra points drawn around the source in every batch, on top of --batch-size points. The
    uniform points already hit a source of width 0.03 a few dozen times per batch; extra ones
    over-weight it (docs/waves.md: rel. L2 0.057 with 256, 0.035 with none, 2000 steps)."""
    physical_fraction: float = 0.25
    """Fraction of the --batch-size points drawn inside the physical domain (the rest cover the
    whole square, layer included)."""
    residual_form: ResidualForm = "stretched"
    """Loss residual: stretched (divided by the stretch factors e0 e1; trains) or divergence
    (the finite-difference form, dominated by the outer layer; stalls at rel. L2 ~0.7)."""
    reference_grid: int = 201
    """Nodes per side of the finite-difference reference on [-1, 1]^2."""
    media: MediumOptions = field(default_factory=MediumOptions)
    layer: PMLOptions = field(default_factory=PMLOptions)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=64, layers=4))
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=3000, lr=1e-3, batch_size=2048, eval_every=500, checkpoint_every=500
        )
    )

    def setup(self) -> HelmholtzTask:
        points_per_step(HelmholtzTask.name, self.train.batch_size, self.train.batch_growth_every)
        require_positive("--source-width", self.source_width)
        problem = HelmholtzProblem(
            k=self.k,
            medium=self.media.build(),
            sources=[GaussianSource(center=self.source, width=self.source_width)],
            pml=self.layer.build(),
        )
        return HelmholtzTask(
            problem,
            points=self.train.batch_size,
            reference_grid=self.reference_grid,
            source_points=self.source_points,
            physical_fraction=self.physical_fraction,
            residual_form=self.residual_form,
            label=self.media.medium,
        )


class HelmholtzTask(ProblemTask):
    """One source, a known medium; the field from the residual alone."""

    name = "helmholtz"

    def __init__(
        self,
        physics: HelmholtzProblem,
        *,
        points: int,
        reference_grid: int = SolveHelmholtzConfig.reference_grid,
        source_points: int = SolveHelmholtzConfig.source_points,
        physical_fraction: float = SolveHelmholtzConfig.physical_fraction,
        residual_form: ResidualForm = SolveHelmholtzConfig.residual_form,
        label: str | None = None,
    ) -> None:
        """Arguments:
        physics: wavenumber, medium, the one source and the layer.
        points: points of the square per step.
        reference_grid: nodes per side of the finite-difference reference.
        source_points, physical_fraction, residual_form: see :class:`SolveHelmholtzConfig`.
        label: name for run folders (default: the medium's kind).
        """
        if len(physics.sources) != 1:
            raise SirenkitError(f"helmholtz: one source expected, got {len(physics.sources)}")
        require_positive("--batch-size", points)
        require_positive("--reference-grid", reference_grid)
        if reference_grid < 11:
            raise SirenkitError(f"--reference-grid must be at least 11, got {reference_grid}")
        if physics.k <= 0 or physics.sources[0].width <= 0:
            raise SirenkitError("--k and --source-width must be positive")
        require_fraction("--physical-fraction", physical_fraction)
        problem = helmholtz_problem(
            physics,
            points=points,
            physical_fraction=physical_fraction,
            source_points=max(0, source_points),
            form=residual_form,
        )
        super().__init__(problem, w0=FIRST_W0, label=label or physics.medium.kind)
        self.headline = "residual"
        self.physics = physics
        self.n = reference_grid
        self.reference_field = solve_helmholtz(physics, reference_grid)[0]
        axis = torch.linspace(-1, 1, reference_grid, dtype=torch.float64)
        pts = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
        self.mask = physics.pml.physical(pts).numpy().reshape(reference_grid, reference_grid)
        self.grid_points = pts.float()

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, 2, (self.n, self.n), w0=FIRST_W0)

    @property
    def medium(self) -> VelocityMap:
        return self.physics.medium

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Batch:
        """The problem's points (``--batch-size`` set their number when it was built)."""
        return self.problem.sample(generator).to(self.device)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss, _ = self.problem.loss(model, batch)
        return loss, {"residual": loss.detach().sqrt()}

    def as_reference(self) -> Reference:
        """The finite-difference field inside the physical domain (real and imaginary parts),
        for :func:`sirenkit.solve` and problem files."""
        keep = self.mask.ravel()
        ref = self.reference_field.ravel()[keep]
        return Reference(
            self.grid_points[torch.from_numpy(keep)], np.stack([ref.real, ref.imag], 1)
        )

    def predict(self, model: nn.Module, chunk: int = 32768) -> np.ndarray:
        """The network's complex field on the reference grid, ``(n, n)``."""
        with torch.no_grad():
            out = in_chunks(model, self.grid_points.to(model_device(model)), chunk)
        return complex_fields(out.double().cpu(), 1)[:, 0].numpy().reshape(self.n, self.n)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred = self.predict(model)
        diff = (pred - self.reference_field)[self.mask]
        return {
            "rel_l2": relative_l2(pred[self.mask], self.reference_field[self.mask]),
            "mse": float(np.mean(np.abs(diff) ** 2) / 2),
        }

    def reference_check(self) -> dict[str, float] | None:
        """Relative L2 of the finite-difference reference against the Hankel solution.

        Only for a uniform medium; points within 5 source widths of the source are left out
        (the closed form holds outside the source).
        """
        if self.physics.medium.kind != "uniform":
            return None
        src = self.physics.sources[0]
        pts = self.grid_points.double().numpy()
        far = np.linalg.norm(pts - np.asarray(src.center), axis=-1) > 5 * src.width
        keep = self.mask.ravel() & far
        exact = hankel_solution(pts[keep], self.physics.k, src)
        return {
            "reference_vs_hankel_rel_l2": relative_l2(self.reference_field.ravel()[keep], exact)
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        pred = self.predict(model)
        ref = self.reference_field
        err = np.where(self.mask, np.abs(pred - ref), np.nan)
        vmax = float(np.abs(ref[self.mask]).max()) or 1.0
        metrics = self.evaluate(model)
        save_panels(
            run_dir / "field.png",
            [
                Panel("network: real part", pred.real, "RdBu_r", -vmax, vmax, True),
                Panel("network: imaginary part", pred.imag, "RdBu_r", -vmax, vmax, True),
                Panel("network: magnitude", np.abs(pred), "magma", 0, vmax, True),
                Panel("reference (FD): real part", ref.real, "RdBu_r", -vmax, vmax, True),
                Panel(
                    f"|error|, physical domain (rel. L2 {metrics['rel_l2']:.3f})",
                    err,
                    "viridis",
                    0,
                    None,
                    True,
                ),
                Panel("wave speed", self.medium.on_grid(self.n), "cividis", None, None, True),
            ],
            cols=3,
        )
        np.savez_compressed(run_dir / "fields.npz", network=pred, reference=ref, mask=self.mask)
        check = self.reference_check()
        if check:
            (run_dir / "reference_check.json").write_text(json.dumps(check, indent=2) + "\n")

    def meta(self) -> dict[str, Any]:
        return {"k": self.physics.k, "medium": self.physics.medium.kind, "grid": self.n}


def solve_helmholtz_command(cfg: SolveHelmholtzConfig):
    """CLI entry: ``sirenkit solve helmholtz``."""
    from ..training.run import run

    return run(cfg)
