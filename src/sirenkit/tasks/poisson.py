"""Images from their derivatives alone: the paper's Poisson experiments (Section 4.1).

The network never sees a pixel value: its input gradient (or Laplacian), computed exactly by
the derivative engine, is fitted to the image's, computed by a finite-difference operator in
the same coordinate units (:mod:`sirenkit.signals.discrete`, spacing ``2 / (n - 1)`` on the
[-1, 1] grid). The problem is one constraint (:func:`sirenkit.physics.poisson.poisson_problem`)
whose loss is the relative squared error ``sum |fit - target|^2 / sum |target|^2``.

A gradient fixes an image only up to a constant and a Laplacian only up to a harmonic
function, so evaluation reports the raw PSNR and the PSNR after removing exactly that part of
the error (see :func:`recovered_psnrs`), plus how well the derivative itself was fitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
import tyro
from torch import nn

from ..errors import SirenkitError
from ..metrics import field_metrics, psnr
from ..nets.config import ModelConfig
from ..nets.registry import TaskShape
from ..physics.poisson import network_fields, poisson_problem
from ..problems import ProblemTask
from ..problems.problem import Batch
from ..signals.discrete import grid_gradient, grid_laplacian, interior, sobel_gradient
from ..signals.grid import grid
from ..signals.image import gray_image, load_image, save_image
from ..signals.poisson import MaskedPoisson, harmonic_extension
from ..training.config import RunOptions, TrainConfig
from ..viz.figures import Panel, displayable, save_panels

Supervision = Literal["gradient", "laplacian"]
GradientOperator = Literal["central", "sobel"]


@dataclass
class FitPoissonConfig(RunOptions):
    """Reconstruct an image from its gradient or its Laplacian alone (no pixel values)."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH|NAME")] = "camera"
    """Image file or a scikit-image built-in name (camera, astronaut, coffee...)."""
    supervise: Supervision = "gradient"
    """Which derivative supervises the network: gradient or laplacian."""
    operator: GradientOperator = "central"
    """Discrete gradient of the target: central differences, or sobel (the paper's filter),
    both in the coordinate units of the [-1, 1] grid. The Laplacian is always the 5-point one."""
    size: int | None = 64
    """Resize so the longer side has this many pixels (None: keep the file's size)."""
    gray: bool = False
    """Convert a colour image to gray (the mean of its channels) first, as the paper does."""
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=128))
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=300, lr=1e-4, schedule="constant")
    )

    def setup(self) -> PoissonTask:
        img = load_image(self.source, self.size)
        if self.gray:
            img = gray_image(img)
        return PoissonTask(
            img, self.supervise, operator=self.operator, label=Path(self.source).stem
        )


def target_derivative(
    image: np.ndarray,
    supervise: Supervision,
    operator: GradientOperator = FitPoissonConfig.operator,
) -> tuple[np.ndarray, np.ndarray]:
    """The derivative a network is fitted to, and the pixels where it is valid.

    Arguments:
        image: ``(H, W, C)`` values in [-1, 1].
        supervise: 'gradient' (``(H, W, C, 2)``, d/dy then d/dx) or 'laplacian' (``(H, W, C)``).
        operator: gradient operator, 'central' or 'sobel' (see :mod:`sirenkit.signals.discrete`).

    Returns:
        The field in grid units, and a ``(H, W)`` boolean mask of supervised pixels: all of
        them for the gradient; all but the border ring for the 5-point Laplacian, whose
        stencil needs the four neighbours.
    """
    shape = image.shape[:2]
    if supervise == "gradient":
        op = {"central": grid_gradient, "sobel": sobel_gradient}.get(operator)
        if op is None:
            raise SirenkitError(f"--operator must be central or sobel, got {operator!r}")
        return op(image, 2).astype(np.float32), np.ones(shape, dtype=bool)
    if supervise == "laplacian":
        if min(shape) < 3:
            raise SirenkitError(f"Laplacian supervision needs at least 3x3 pixels, got {shape}")
        return grid_laplacian(image, 2).astype(np.float32), interior(shape)
    raise SirenkitError(f"--supervise must be gradient or laplacian, got {supervise!r}")


def affine_correction(residual: np.ndarray) -> np.ndarray:
    """Least-squares best ``a + b y + c x`` per channel of ``residual`` ``(H, W, C)``."""
    h, w, c = residual.shape
    ys, xs = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    basis = np.stack([np.ones(h * w), ys.ravel(), xs.ravel()], axis=1)
    coef, *_ = np.linalg.lstsq(basis, residual.reshape(-1, c), rcond=None)
    return (basis @ coef).reshape(h, w, c)


def recovered_psnrs(
    pred: np.ndarray,
    image: np.ndarray,
    supervise: Supervision,
    solver: MaskedPoisson | None = None,
) -> dict[str, float]:
    """Raw PSNR and PSNR after removing what the supervision cannot see.

    - ``psnr``: the prediction as it is (clipped to [-1, 1], the paper's convention).
    - ``psnr_offset`` (gradient and Laplacian): the mean difference per channel subtracted.
    - ``psnr_affine`` (Laplacian): the least-squares best affine function ``a + b y + c x`` of
      the difference subtracted (affine functions are harmonic; a lower bound of the next).
    - ``psnr_harmonic`` (Laplacian): the discrete harmonic function (5-point) equal to the
      difference on the border ring subtracted, i.e. Laplace's equation solved with the
      residual's boundary values; the corrected error is zero on the ring.
    """
    residual = pred.astype(np.float64) - image
    out = {"psnr": psnr(pred, image)}
    out["psnr_offset"] = psnr(pred - residual.mean(axis=(0, 1)), image)
    if supervise == "laplacian":
        out["psnr_affine"] = psnr(pred - affine_correction(residual), image)
        out["psnr_harmonic"] = psnr(pred - harmonic_extension(residual, solver), image)
    return out


def corrected(
    pred: np.ndarray, image: np.ndarray, supervise: Supervision, solver: MaskedPoisson | None
) -> np.ndarray:
    """The prediction with the unseen part of its error removed (offset, or harmonic)."""
    residual = pred.astype(np.float64) - image
    if supervise == "gradient":
        return pred - residual.mean(axis=(0, 1))
    return pred - harmonic_extension(residual, solver)


class PoissonTask(ProblemTask):
    """Fit a network's gradient or Laplacian to an image's; the values are never seen."""

    name = "poisson"
    views = ("image",)
    renderer = "sirenkit.cli.render:render_image_run"

    def __init__(
        self,
        image: np.ndarray,
        supervise: Supervision = FitPoissonConfig.supervise,
        *,
        derivative: np.ndarray | None = None,
        operator: GradientOperator = FitPoissonConfig.operator,
        label: str = "image",
    ) -> None:
        """Arguments:
        image: ``(H, W, C)`` in [-1, 1]; only used for evaluation and figures.
        supervise: 'gradient' or 'laplacian'.
        derivative: the field to fit (e.g. an exact analytic gradient), in grid units,
            shaped as :func:`target_derivative`'s; None computes it from ``image``.
        operator: the discrete gradient used when ``derivative`` is None.
        label: name for run folders.
        """
        if image.ndim != 3 or min(image.shape[:2]) < 2:
            raise SirenkitError(f"image must be (H, W, C) with H, W >= 2, got {image.shape}")
        self.image = np.asarray(image, dtype=np.float32)
        self.supervise = supervise
        shape = self.image.shape[:2]
        if derivative is None:
            target, supervised = target_derivative(self.image, supervise, operator)
        else:
            target = np.asarray(derivative, dtype=np.float32)
            supervised = np.ones(shape, dtype=bool)
            want = (*self.image.shape, 2) if supervise == "gradient" else self.image.shape
            if target.shape != want:
                raise SirenkitError(
                    f"{supervise} field has shape {target.shape}, expected {want} for this image"
                )
        self.target = target
        self.supervised = supervised
        self._solver = MaskedPoisson(interior(shape)) if supervise == "laplacian" else None
        flat = supervised.reshape(-1)
        problem = poisson_problem(
            grid(shape)[torch.from_numpy(flat)],
            torch.from_numpy(target.reshape(flat.size, *target.shape[2:])[flat].copy()),
            laplacian=supervise == "laplacian",
            points=None,
        )
        super().__init__(problem, w0=30.0, label=label)
        self.headline = "rel_err"

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.image.shape[-1], tuple(self.image.shape[:2]), w0=30.0)

    @property
    def label(self) -> str:
        return f"{self._label}-{self.supervise}"

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Batch:
        """``batch_size`` random pixels (None: all of them)."""
        self.problem.constraints[0].points = batch_size
        return self.problem.sample(generator).to(self.device)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss, _ = self.problem.loss(model, batch)
        return loss, {"rel_err": loss.detach().sqrt()}

    def predict(self, model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
        """The network's image and its supervised derivative on the image grid."""
        return network_fields(model, self.image.shape[:2], self.supervise == "laplacian")

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred, deriv = self.predict(model)
        metrics = recovered_psnrs(pred, self.image, self.supervise, self._solver)
        fm = field_metrics(deriv[self.supervised], self.target[self.supervised], "field")
        metrics["rel_err"] = fm.pop("field_rel_err")
        metrics.update(fm)
        return metrics

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.image.shape[:2]),
            "channels": int(self.image.shape[-1]),
            "label": self._label,
            "supervise": self.supervise,
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        pred, deriv = self.predict(model)
        fixed = corrected(pred, self.image, self.supervise, self._solver)
        save_image(run_dir / "ground_truth.png", self.image)
        save_image(run_dir / "reconstruction.png", pred)
        save_image(run_dir / "reconstruction_corrected.png", fixed)
        np.savez_compressed(
            run_dir / "fields.npz",
            target=self.target,
            fitted=deriv,
            supervised=self.supervised,
            reconstruction=pred,
        )
        self._figure(run_dir / "poisson.png", pred, fixed, deriv)

    def _figure(self, path: Path, pred: np.ndarray, fixed: np.ndarray, deriv: np.ndarray) -> None:
        """Target, reconstructions and the target's and fitted derivatives side by side."""
        m = recovered_psnrs(pred, self.image, self.supervise, self._solver)
        which = "offset" if self.supervise == "gradient" else "harmonic"
        mask = self.supervised
        if self.supervise == "gradient":
            names = ("d/dy", "d/dx")
            pairs = [(self.target[..., k].mean(-1), deriv[..., k].mean(-1)) for k in range(2)]
        else:
            names = ("Laplacian",)
            pairs = [(self.target.mean(-1), deriv.mean(-1))]
        top = [Panel("ground truth", displayable(self.image), "gray", 0, 1)]
        bottom = [
            Panel(f"{which} removed, {m['psnr_' + which]:.2f} dB", displayable(fixed), "gray", 0, 1)
        ]
        for name, (t, f) in zip(names, pairs, strict=True):
            lim = float(np.percentile(np.abs(t[mask]), 99.5)) or 1.0
            top.append(Panel(f"target {name}", t, "RdBu_r", -lim, lim, True))
            bottom.append(Panel(f"fitted {name}", np.where(mask, f, 0), "RdBu_r", -lim, lim, True))
        err = (fixed - self.image).mean(-1)
        elim = float(np.abs(err).max()) or 1.0
        top.append(Panel(f"raw fit, PSNR {m['psnr']:.2f} dB", displayable(pred), "gray", 0, 1))
        bottom.append(Panel("error after removal", err, "RdBu_r", -elim, elim, True))
        save_panels(path, top + bottom, cols=len(top))


def fit_poisson(cfg: FitPoissonConfig):
    """CLI entry: ``sirenkit fit poisson``."""
    from ..training.run import run

    return run(cfg)
