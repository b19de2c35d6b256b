"""Fitting an image: ``(y, x) -> colour``, the paper's first experiment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import tyro
from torch import nn

from ..derivatives import value_and_derivatives
from ..metrics import psnr, ssim
from ..nets.registry import TaskShape
from ..render import in_chunks, model_device
from ..signals.discrete import grid_gradient, grid_laplacian
from ..signals.grid import grid
from ..signals.image import load_image, save_image
from ..training.config import RunOptions, TrainConfig
from ..training.task import Task
from ..viz.figures import Panel, note_panel, save_panels

IMAGE_START_BATCH = 8192
"""First random-pixel batch of the default growing-batch policy (1/8 of a 256x256 image)."""


@dataclass
class FitImageConfig(RunOptions):
    """Fit a SIREN to an image and write a run folder (reconstruction, figures, checkpoint)."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH|NAME")] = "camera"
    """Image file (PNG, JPEG, TIFF...) or a scikit-image built-in name (camera, astronaut...)."""
    size: int | None = 256
    """Resize so the longer side has this many pixels (None: keep the file's size)."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            batch_size=IMAGE_START_BATCH,
            batch_growth_every=40,
            batch_doublings=3,
        )
    )
    """Optimiser defaults chosen by measurement (docs/speed.md): Adam at 1e-3 with a cosine
    decay; random batches of 8192 pixels that double every 40 steps, full batch from step 120."""

    def setup(self) -> ImageTask:
        img = load_image(self.source, self.size)
        return ImageTask(img, Path(self.source).stem)


class ImageTask(Task):
    """Regress pixel values on their [-1, 1] coordinates with a mean squared error."""

    name = "image"
    headline = "psnr"
    reported = ("psnr", "ssim")

    def __init__(self, image: np.ndarray, label: str = "image") -> None:
        if image.ndim != 3 or image.shape[0] < 1 or image.shape[1] < 1:
            raise ValueError(f"image must be (H, W, C), got {image.shape}")
        self.image = np.asarray(image, dtype=np.float32)
        self._label = label
        self.coords = grid(self.image.shape[:2])
        self.pixels = torch.from_numpy(self.image.reshape(-1, self.image.shape[-1]).copy())

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.image.shape[-1], tuple(self.image.shape[:2]), w0=30.0)

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> ImageTask:
        self.coords = self.coords.to(device)
        self.pixels = self.pixels.to(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        n = self.coords.shape[0]
        if batch_size is None or batch_size >= n:
            return self.coords, self.pixels
        idx = torch.randint(n, (batch_size,), generator=generator).to(self.coords.device)
        return self.coords[idx], self.pixels[idx]

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        coords, target = batch
        mse = torch.mean((model(coords) - target) ** 2)
        d = mse.detach()
        return mse, {"psnr": 10 * torch.log10(4.0 / d.clamp_min(1e-30))}

    def predict(self, model: nn.Module, chunk: int = 65536) -> np.ndarray:
        """The model's image on the training grid, ``(H, W, C)``."""
        with torch.no_grad():
            out = in_chunks(model, self.coords.to(model_device(model)), chunk)
        return out.reshape(self.image.shape).float().cpu().numpy()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred = self.predict(model)
        out = {"psnr": psnr(pred, self.image), "ssim": ssim(pred, self.image)}
        return {k: v for k, v in out.items() if not math.isnan(v)}  # SSIM needs 3x3 pixels

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        pred = self.predict(model)
        save_image(run_dir / "reconstruction.png", pred)
        save_image(run_dir / "ground_truth.png", self.image)
        write_derivative_figure(run_dir / "derivatives.png", model, self.image, pred)

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.image.shape[:2]),
            "channels": int(self.image.shape[-1]),
            "label": self._label,
        }


def field_derivatives(
    model: nn.Module, shape: tuple[int, ...], chunk: int = 16384
) -> tuple[np.ndarray, np.ndarray]:
    """|gradient| and Laplacian of a model's mean channel on ``grid(shape)``, in chunks."""
    coords = grid(shape, device=model_device(model))

    def fn(x: torch.Tensor):
        with torch.no_grad():
            d = value_and_derivatives(model, x, gradient=True, laplacian=True)
        return d.gradient.mean(1).norm(dim=-1), d.laplacian.mean(1)

    g, lap = in_chunks(fn, coords, chunk)
    return g.reshape(shape).cpu().numpy(), lap.reshape(shape).cpu().numpy()


def image_derivatives(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|gradient| and Laplacian of an image's mean channel by finite differences, in the units
    of :func:`field_derivatives` (``(H, W)`` each)."""
    gray = image.mean(-1, keepdims=True)
    return np.linalg.norm(grid_gradient(gray)[..., 0, :], axis=-1), grid_laplacian(gray)[..., 0]


def displayable(img: np.ndarray) -> np.ndarray:
    """A [-1, 1] ``(H, W, C)`` image as a [0, 1] picture for a figure panel."""
    a = np.clip((img + 1) / 2, 0, 1)
    return a[..., 0] if a.shape[-1] == 1 else a


def write_derivative_figure(
    path: Path, model: nn.Module, image: np.ndarray, pred: np.ndarray
) -> None:
    """The paper's Figure 1 layout: image, |gradient|, Laplacian; ground truth over the fit.

    Ground-truth derivatives are finite differences (:mod:`sirenkit.signals.discrete`) of the
    mean channel; the fit's are exact derivatives of the network, in the same units.
    """
    shape = image.shape[:2]
    truth = Panel("ground truth", displayable(image), "gray", 0, 1)
    fit = Panel(f"fit, PSNR {psnr(pred, image):.2f} dB", displayable(pred), "gray", 0, 1)
    if min(shape) < 2:  # no finite difference across a 1-pixel side: draw what exists
        why = f"no derivatives: the image is {shape[0]}x{shape[1]} pixels"
        notes = [note_panel(t, why) for t in ("|gradient|", "Laplacian")]
        save_panels(path, [truth, *notes, fit, *notes], cols=3)
        return
    gt_grad, gt_lap = image_derivatives(image)
    fit_grad, fit_lap = field_derivatives(model, shape)
    gmax = float(np.percentile(gt_grad, 99.5)) or 1.0
    lmax = float(np.percentile(np.abs(gt_lap), 99.5)) or 1.0

    save_panels(
        path,
        [
            truth,
            Panel("|gradient| (finite diff.)", gt_grad, "viridis", 0, gmax, True),
            Panel("Laplacian (finite diff.)", gt_lap, "RdBu_r", -lmax, lmax, True),
            fit,
            Panel("|gradient| of fit", fit_grad, "viridis", 0, gmax, True),
            Panel("Laplacian of fit", fit_lap, "RdBu_r", -lmax, lmax, True),
        ],
        cols=3,
    )


def fit_image(cfg: FitImageConfig):
    """CLI entry: ``sirenkit fit image``."""
    from ..training.run import run

    return run(cfg)
