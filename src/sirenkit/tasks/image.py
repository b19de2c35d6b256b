"""Fitting an image: ``(y, x) -> colour``, the paper's first experiment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
import tyro
from torch import nn

from ..derivatives import value_and_derivatives
from ..errors import SirenkitError, require_positive
from ..metrics import psnr, ssim
from ..nets.registry import TaskShape
from ..render import in_chunks, model_device
from ..signals.discrete import grid_gradient, grid_laplacian
from ..signals.grid import grid
from ..signals.image import load_image, save_image
from ..training.config import RunOptions, TrainConfig
from ..training.distributed import is_main
from ..training.sampling import (
    ErrorSampler,
    GainStop,
    PlateauDecay,
    SampledTask,
    TrainingQuality,
    draw_batch,
)
from ..training.schedule import batch_size_at, judging_from, work_until
from ..viz.figures import Panel, note_panel, save_panels

IMAGE_BATCH = 16384
"""Batch of the default policy (1/4 of a 256x256 image) at step 134, after a ramp from 1/16
(--batch-ramp), and before its doublings; drawn by the error sampler."""
SCHEDULE_PIXELS = 256 * 256
"""The image size the default step counts were measured for (docs/speed.md)."""
MIN_SCALED_BATCH = 2048
"""The fewest pixels --scale-batch shrinks a batch to (a smaller --batch-size stays as given):
below about 700 pixels the optimiser step (Muon's, about 0.03 CPU s on one thread) costs more
than the network's forward and backward pass (0.7 s for 16384 pixels; docs/speed.md's
optimiser-step table)."""


@dataclass
class FitImageConfig(RunOptions):
    """Fit a SIREN to an image and write a run folder (reconstruction, figures, checkpoint)."""

    FORMER_DEFAULTS: ClassVar[dict[str, Any]] = {
        "sampling": "uniform",
        "min_gain": None,
        "plateau_gain": None,
        "schedule_pixels": None,
        "steps_power": 1.0,
        "min_gain_stretch": False,
        "scale_batch": False,
    }
    """What a run saved before each field existed ran with (``from_dict``), so that it
    resumes as it started (e.g. from before --steps-power: steps linear in the pixels)."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH|NAME")] = "camera"
    """Image file (PNG, JPEG, TIFF...) or a scikit-image built-in name (camera, astronaut...)."""
    size: int | None = 256
    """Resize so the longer side has this many pixels (None: keep the file's size)."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=300,
            batch_size=IMAGE_BATCH,
            batch_growth_every=200,
            batch_doublings=2,
            batch_ramp=2,
            bfloat16_steps=150,
            precision="bfloat16-backward",
            optimizer="muon",
            average=0.9,
        )
    )
    """Defaults chosen by measurement (docs/speed.md): Muon on the hidden layers' matrices and
    Adam on the rest at 1e-3, with a cosine decay from the start (Muon's steps do not shrink
    with the gradient: its noise floor follows the learning rate, so small early batches cost
    few steps); error-driven batches of 4096, 8192 and 16384 pixels from steps 0, 67 and 134,
    32768 from step 200 (the full image from step 400 in longer runs); the first 150 steps in
    bfloat16, the rest with a float32 forward pass and bfloat16 backward products (--precision
    bfloat16-backward); the fitted network is the running average of the weights over about the
    last 10 steps (--average 0.9: 40 dB one evaluation sooner on four photographs, the same
    final; 0.95 and 0.99 lag the full-batch phase). About a minute for 256x256 on two CPU cores;
    --steps 1000 for a longer budget."""
    sampling: Literal["error", "uniform"] = "error"
    """How the pixels of a partial batch are drawn: error (more often where the last seen error
    is large, each loss weighted so the batch loss stays an unbiased estimate of the full
    one) or uniform."""
    error_mix: float = 0.5
    """Share of an error-driven draw that follows the error (the rest is uniform, which bounds
    every pixel's weight by 1 / (1 - error_mix))."""
    target_psnr: float | None = None
    """Stop once the fitted network (the average of the weights) reaches this many dB on the
    whole image. It is checked from when the training PSNR (over the last full image's worth
    of pixels, which lags it) comes within 3 dB, at the cost of one inference a check."""
    min_gain: float | None = 0.02
    """Stop once the curve has flattened: the slope of the training PSNR over the last 20 full
    images' worth of pixels falls below this many dB per full image (None: run every step),
    judged from the last quarter of the steps on (before it the learning rate is high, and
    Muon's fit can sit on the floor that rate sets and climb again; JUDGE_FROM). Given for
    images of --schedule-pixels pixels: see min_gain_stretch."""
    min_gain_stretch: bool = True
    """On an image whose steps --schedule-pixels stretched (8x at 512x512), divide min_gain
    by the same factor: the run is that many times longer, so its curve rises that many times
    more slowly per full image. Undivided, the threshold stopped the 512x512 grass and gravel
    at step 1820 of 2400 while still rising, at 33.8 and 39.2 dB; the gravel reaches 40 dB 74
    steps later (docs/speed.md). False: min_gain as given, whatever the image."""
    plateau_gain: float | None = 0.0
    """Halve the learning rate (on top of the schedule) whenever the training PSNR gained less
    than this many dB per full image of work over the last plateau_window full images (0:
    stopped rising), in the bfloat16 phase (--bfloat16-steps); after it the last rate set
    holds until the schedule's falls below it. Muon's fit sits on a floor its learning rate
    sets, and the cut lowers it at once: the text and the clock reach 40 dB after much less
    work (docs/speed.md). None: the schedule alone."""
    plateau_window: float = 6.0
    """Full images' worth of pixels over which plateau_gain is judged (and waited after a
    cut). 2 reaches 40 dB after the same work or less (1.2-2x less on the photographs that
    sit on a floor early: the text, the cell, the clock, the retina), but a cut that early
    holds a lower rate through the middle of the run, and 300 steps end 0.15-3.3 dB lower
    there: a choice for runs to a --target-psnr (docs/speed.md)."""
    schedule_pixels: int | None = SCHEDULE_PIXELS
    """The image size, in pixels, that the step counts (--steps, --bfloat16-steps,
    --batch-growth-every, --warmup) are given for: on an image with k > 1 times as many pixels
    the phases (--bfloat16-steps, --batch-growth-every, --warmup) run k times over, so every
    pixel gets the same work at the same batch sizes, and --steps runs k ** --steps-power
    times over. Smaller images keep the counts (and scale the batch: --scale-batch). None:
    the counts as given, whatever the image."""
    scale_batch: bool = True
    """On an image with k < 1 times --schedule-pixels pixels, take batches k times as large
    (--batch-size), so that a batch is the same share of the image as the counts were measured
    with, down to MIN_SCALED_BATCH pixels (a shorter --batch-ramp keeps its first batch there
    too). With a 16384-pixel batch given, unscaled, a 127x256 page trained on half-image batches
    and took 1.5x the work to 40 dB, a 98x256 text 1.55x (docs/speed.md). False: --batch-size as
    given, whatever the image."""
    steps_power: float = 1.5
    """How a larger image's run lengthens (--schedule-pixels): k to this power times the
    steps, the added ones after the growing batches, on the full image, under a longer decay.
    With 1 (the steps as the pixels) a 512x512 fit of the cameraman or the astronaut ends
    below 40 dB; with 1.5 it reaches 40 dB, and at 384x384, where both do, 40 dB comes
    1.06-1.7x later and the fit ends 3-10 dB higher (docs/speed.md)."""

    def schedule(self, task: ImageTask) -> TrainConfig:
        return self._schedule_for(task.coords.shape[0])

    def _schedule_for(self, pixels: int) -> TrainConfig:
        """:attr:`train` with its step counts scaled for an image of ``pixels`` pixels."""
        require_positive("--schedule-pixels", self.schedule_pixels, allow_none=True)
        if not math.isfinite(self.steps_power) or self.steps_power < 1:
            raise SirenkitError(
                f"--steps-power must be a finite number >= 1 (got {self.steps_power}): a larger "
                "image never gets fewer steps per pixel"
            )
        k = 1.0 if self.schedule_pixels is None else pixels / self.schedule_pixels
        t = self.train
        if k < 1 and self.scale_batch and t.batch_size is not None:
            floor = min(t.batch_size, MIN_SCALED_BATCH)
            size = max(floor, round(t.batch_size * k))
            # the ramp's first batch, too, stays above the floor (or the first batch given)
            ramp, first = t.batch_ramp, min(t.batch_size >> t.batch_ramp, MIN_SCALED_BATCH)
            while ramp > 0 and size >> ramp < first:
                ramp -= 1
            if (size, ramp) == (t.batch_size, t.batch_ramp):
                return t  # nothing to scale (a batch at the floor already)
            return replace(t, batch_size=size, batch_ramp=ramp)
        if k <= 1:
            return t
        phases = ("bfloat16_steps", "batch_growth_every", "warmup")
        return replace(
            t,
            steps=round(t.steps * k**self.steps_power),
            **{c: round(getattr(t, c) * k) for c in phases},
        )

    def _min_gain_for(self, train: TrainConfig) -> float | None:
        """:attr:`min_gain` for a run of ``train`` (:meth:`_schedule_for`'s): divided by the
        factor its steps were stretched by, with :attr:`min_gain_stretch`."""
        if self.min_gain is None or not self.min_gain_stretch or train is self.train:
            return self.min_gain
        return self.min_gain * self.train.steps / train.steps

    def setup(self) -> ImageTask:
        require_positive("--plateau-window", self.plateau_window)
        img = load_image(self.source, self.size)
        pixels = img.shape[0] * img.shape[1]
        train = self._schedule_for(pixels)
        min_gain = self._min_gain_for(train)
        scaled = train.batch_size != self.train.batch_size
        if scaled and train.batch_size is not None and train.batch_size < pixels and is_main():
            first = batch_size_at(train, 0)
            print(
                f"{img.shape[1]}x{img.shape[0]} pixels: batches of "
                + (f"{first} to " if first is not None and first < train.batch_size else "")
                + f"{train.batch_size} pixels, "
                f"--batch-size {self.train.batch_size} given for {self.schedule_pixels} pixels "
                "scaled as the pixels (--no-scale-batch keeps it)"
            )
        elif not scaled and train is not self.train and is_main():
            print(
                f"{img.shape[1]}x{img.shape[0]} pixels: {train.steps} steps, the counts given "
                f"for {self.schedule_pixels} pixels scaled {pixels / self.schedule_pixels:.2f}x "
                f"and the steps {train.steps / self.train.steps:.2f}x (--steps-power "
                f"{self.steps_power:g}; --schedule-pixels None keeps them)"
                + (
                    f", --min-gain {self.min_gain:g} divided as the steps"
                    if min_gain != self.min_gain
                    else ""
                )
            )
        return ImageTask(
            img,
            Path(self.source).stem,
            sampling=self.sampling,
            error_mix=self.error_mix,
            target_psnr=self.target_psnr,
            min_gain=min_gain,
            judge_after=judging_from(train, pixels),
            plateau_gain=self.plateau_gain,
            plateau_window=self.plateau_window,
            plateau_until=work_until(train, train.bfloat16_steps, pixels),
        )


class ImageTask(SampledTask):
    """Regress pixel values on their [-1, 1] coordinates with a mean squared error.

    Partial batches are drawn by an :class:`ErrorSampler` (or uniformly). The stopping rule
    (``target_psnr``, ``min_gain``) is fed, after every full image's worth of pixels, the PSNR
    of the mean batch loss over that work (exact for a full batch, an unbiased MSE estimate
    otherwise, and a conservative one while the fit improves), at no extra cost; the flat-curve
    rule judges the curve from ``judge_after`` full images of work on (the config's: three
    quarters of its steps).
    """

    name = "image"
    views = ("image",)
    renderer = "sirenkit.cli.render:render_image_run"
    headline = "psnr"
    reported = ("psnr", "ssim")

    def __init__(
        self,
        image: np.ndarray,
        label: str = "image",
        *,
        sampling: Literal["error", "uniform"] = FitImageConfig.sampling,
        error_mix: float = FitImageConfig.error_mix,
        target_psnr: float | None = FitImageConfig.target_psnr,
        min_gain: float | None = FitImageConfig.min_gain,
        judge_after: float = 0.0,
        plateau_gain: float | None = FitImageConfig.plateau_gain,
        plateau_window: float = FitImageConfig.plateau_window,
        plateau_until: float = math.inf,
    ) -> None:
        if image.ndim != 3 or image.shape[0] < 1 or image.shape[1] < 1:
            raise ValueError(f"image must be (H, W, C), got {image.shape}")
        if sampling not in ("error", "uniform"):
            raise ValueError(f"unknown sampling {sampling!r}")
        self.image = np.asarray(image, dtype=np.float32)
        self._label = label
        self.coords = grid(self.image.shape[:2])
        self.pixels = torch.from_numpy(self.image.reshape(-1, self.image.shape[-1]).copy())
        n = self.coords.shape[0]
        self.sampler = ErrorSampler(n, error_mix) if sampling == "error" else None
        plateau = (
            None
            if plateau_gain is None
            else PlateauDecay(plateau_gain, plateau_window, until=plateau_until)
        )
        self.quality = TrainingQuality(GainStop(target_psnr, min_gain, start=judge_after), plateau)
        """The training PSNR per full image's worth of pixels, the stopping rule and the
        plateau cut it drives."""

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.image.shape[-1], tuple(self.image.shape[:2]), w0=30.0)

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> ImageTask:
        self.coords = self.coords.to(device)
        self.pixels = self.pixels.to(device)
        if self.sampler is not None:
            self.sampler.to(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """``(coords, pixels, weights, indices)``; weights and indices are None for the full
        batch, weights None for a uniform draw."""
        n = self.coords.shape[0]
        if batch_size is None or batch_size >= n:
            return self.coords, self.pixels, None, None
        idx, weights = draw_batch(self.sampler, n, batch_size, generator)
        idx = idx.to(self.coords.device)
        return self.coords[idx], self.pixels[idx], weights, idx

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean squared error (importance-weighted for an error-driven draw). Also records
        the batch's errors in the sampler and its estimate in the stopping rule: the loop
        calls this once per training step."""
        mse, _ = self.sampled_mse(model, batch, self.coords.shape[0])
        return mse, {"psnr": 10 * torch.log10(4.0 / mse.detach().clamp_min(1e-30))}

    def should_stop(self, model: nn.Module) -> str | None:
        """The target is judged on the whole image by the network the run would end with
        (``model``: the average of the weights, if it keeps one), in float32, as the final
        evaluation measures it, when the training estimate (a batch mean of the trained
        weights, possibly in bfloat16, that lags it) says it may be reached
        (:class:`~sirenkit.training.sampling.TargetCheck`)."""

        def exact() -> float:
            with torch.autocast(self.coords.device.type, enabled=False):
                return psnr(self.predict(model), self.image)

        self.quality.confirm_target(exact)
        return self.quality.stop.reason or None

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
