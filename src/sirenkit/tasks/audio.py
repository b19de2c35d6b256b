"""Fitting an audio clip: ``t -> amplitude`` per channel, the paper's Section 4.1 audio.

Time is mapped to [-1, 1] over the whole clip (first sample -1, last +1), exactly as images
map pixels; the much higher frequencies of sound are reached by the first layer's frequency
w0 (``--w0``, default 3000 as in the paper), not by rescaling the coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
import tyro
from torch import nn

from ..errors import SirenkitError, require_positive
from ..nets.registry import TaskShape
from ..render import in_chunks, model_device
from ..signals.audio import Audio, load_audio, save_audio, synthetic_audio
from ..signals.grid import grid
from ..training.config import RunOptions, TrainConfig
from ..training.sampling import (
    ErrorSampler,
    GainStop,
    SampledTask,
    TrainingQuality,
    draw_batch,
)
from ..viz.audio import plot_spectrograms, plot_waveform

AUDIO_W0 = 3000.0
"""The paper's first-layer frequency for audio on [-1, 1]."""
SYNTHETIC = "synthetic"


@dataclass
class FitAudioConfig(RunOptions):
    """Fit a SIREN to an audio clip, t -> amplitude in [-1, 1]; --w0 defaults to 3000 here."""

    FORMER_DEFAULTS: ClassVar[dict[str, Any]] = {"sampling": "uniform", "batch_share": None}
    """What a run saved before each field existed ran with (``from_dict``), so that it
    resumes as it started (whole-clip steps)."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="PATH")] = SYNTHETIC
    """WAV, FLAC or OGG file (int or float samples, mono or multichannel); 'synthetic' (the
    default) is a 2 s, 8 kHz clip of plucked notes and clicks generated in code."""
    chunk: int = 65536
    """Samples evaluated at once when rendering the whole clip (bounds memory)."""
    sampling: Literal["error", "uniform"] = "error"
    """How the samples of a partial batch are drawn: error (more often where the last seen
    error is large, each loss weighted so the batch loss stays an unbiased estimate of the
    clip's MSE; the image sampler) or uniform (not measured against it on audio)."""
    error_mix: float = 0.5
    """Share of an error-driven draw that follows the error (the rest is uniform)."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000,
            lr=1e-3,
            first_lr_w0=30.0,
            batch_growth_every=500,
            batch_doublings=2,
            eval_every=250,
            checkpoint_every=250,
        )
    )
    """Measured (docs/speed.md, "Audio"): Adam at 1e-3 with a cosine decay from the start, on
    error-driven batches of a quarter of the clip (batch_share) doubled at step 500, the whole
    clip from step 1000; the first layer at 1e-3 x 30 / w0 (first_lr_w0). Adam turns the first
    layer's phases by about w0 x its rate per step: at w0 3000 a rate of 1e-3 is 3 radians
    and the fit sat at 0 dB (16.5 dB at the end on the synthetic clip, where the paper's
    full-clip Adam 1e-4 has 42.5); scaled to the phase steps of a crop or an image (w0 ~30),
    the recipe beats the paper's on whole clips and a tuned fit on short crops."""
    batch_share: float | None = 0.25
    """First batch as a share of the clip's samples when --batch-size is not given (it doubles
    every --batch-growth-every steps, --batch-doublings times, then the whole clip); None:
    --batch-size as given (None there: the whole clip every step)."""

    def setup(self) -> AudioTask:
        share = self.batch_share
        if share is not None and not 0.0 < share <= 1.0:  # also rejects NaN
            raise SirenkitError(f"--batch-share must be in (0, 1], got {share}")
        if self.source == SYNTHETIC and not Path(self.source).exists():
            audio, label = synthetic_audio(), SYNTHETIC
        else:
            audio, label = load_audio(self.source), Path(self.source).stem
        if share is not None and self.train.batch_size is None:
            # the run's config.json records the count, so a resumed run draws the same batches
            self.train.batch_size = max(1, round(share * audio.samples.shape[0]))
        return AudioTask(audio, label, self.chunk, sampling=self.sampling, error_mix=self.error_mix)


def snr_db(pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray) -> float:
    """Signal-to-noise ratio in dB: signal power over residual power."""
    p = torch.as_tensor(pred, dtype=torch.float64)
    t = torch.as_tensor(target, dtype=torch.float64)
    noise = float(torch.mean((p - t) ** 2))
    signal = float(torch.mean(t**2))
    if noise == 0:
        return math.inf
    return 10 * math.log10(max(signal, 1e-300) / noise)


class AudioTask(SampledTask):
    """Regress samples on their [-1, 1] times with a mean squared error.

    Partial batches are drawn by the images' :class:`ErrorSampler` (or uniformly), with the
    importance-weighted loss that keeps the batch MSE an unbiased estimate of the clip's.
    """

    name = "audio"
    views = ("audio",)
    renderer = "sirenkit.cli.render:render_audio_run"
    headline = "snr"
    reported = ("mse", "snr")

    def __init__(
        self,
        audio: Audio,
        label: str = "audio",
        chunk: int = 65536,
        *,
        sampling: Literal["error", "uniform"] = FitAudioConfig.sampling,
        error_mix: float = FitAudioConfig.error_mix,
    ) -> None:
        if audio.samples.ndim != 2 or audio.samples.shape[0] < 1:
            raise ValueError(f"audio samples must be (N, C), got {audio.samples.shape}")
        if sampling not in ("error", "uniform"):
            raise SirenkitError(f"--sampling must be error or uniform, got {sampling!r}")
        require_positive("--chunk", chunk)
        n = audio.samples.shape[0]
        self.sampler = ErrorSampler(n, error_mix) if sampling == "error" else None
        self.quality = TrainingQuality(GainStop())  # counts the work; no stopping rule
        self.audio = audio
        self._label = label
        self.chunk = chunk
        self.coords = grid(audio.samples.shape[:1])
        self.values = torch.from_numpy(np.ascontiguousarray(audio.samples, dtype=np.float32))
        self._power = float(self.values.double().pow(2).mean())
        if self._power == 0:
            print(f"note: {label} is silent: SNR is undefined for a zero signal, MSE is reported")

    @property
    def shape(self) -> TaskShape:
        n, c = self.audio.samples.shape
        return TaskShape(1, c, (n,), w0=AUDIO_W0)

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> AudioTask:
        self.coords = self.coords.to(device)
        self.values = self.values.to(device)
        if self.sampler is not None:
            self.sampler.to(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """``(times, values, weights, indices)``; weights and indices are None for the whole
        clip, weights None for a uniform draw."""
        n = self.coords.shape[0]
        if batch_size is None or batch_size >= n:
            return self.coords, self.values, None, None
        idx, weights = draw_batch(self.sampler, n, batch_size, generator)
        idx = idx.to(self.coords.device)
        return self.coords[idx], self.values[idx], weights, idx

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean squared error (importance-weighted for an error-driven draw); records the
        batch's errors in the sampler (the loop calls this once per training step)."""
        mse, _ = self.sampled_mse(model, batch, self.coords.shape[0])
        d = mse.detach()
        if self._power == 0:  # SNR undefined: only the loss (the MSE) is logged
            return mse, {}
        return mse, {"snr": 10 * torch.log10(self._power / d.clamp_min(1e-30))}

    def predict(self, model: nn.Module) -> np.ndarray:
        """The model's clip at the training samples, ``(N, C)``."""
        with torch.no_grad():
            out = in_chunks(model, self.coords.to(model_device(model)), self.chunk)
        return out.float().cpu().numpy()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred = self.predict(model)
        mse = float(np.mean((pred.astype(np.float64) - self.audio.samples) ** 2))
        if self._power == 0:
            return {"mse": mse}
        return {"mse": mse, "snr": snr_db(pred, self.audio.samples)}

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        a = self.audio
        pred = self.predict(model)
        save_audio(run_dir / "fit.wav", pred, a.rate, scale=a.scale, subtype=a.subtype)
        save_audio(run_dir / "ground_truth.wav", a.samples, a.rate, scale=a.scale)
        plot_waveform(run_dir / "waveform.png", a.samples, pred, a.rate)
        plot_spectrograms(run_dir / "spectrogram.png", a.samples, pred, a.rate)

    def meta(self) -> dict[str, Any]:
        a = self.audio
        return {
            "rate": a.rate,
            "samples": int(a.samples.shape[0]),
            "channels": a.channels,
            "scale": a.scale,
            "subtype": a.subtype,
            "label": self._label,
        }


def render_audio(model: nn.Module, meta: dict[str, Any], rate: int, chunk: int = 65536):
    """Evaluate an audio model over its clip's time span at another sample rate.

    The first and last samples keep their times (-1 and 1), so the clip lasts as long as the
    original: ``(N - 1) / rate_0`` seconds between them.

    Arguments:
        model: a network trained by :class:`AudioTask`.
        meta: the checkpoint's ``task_meta`` (rate and sample count).
        rate: the new sample rate in Hz.
        chunk: samples evaluated at once.

    Returns:
        ``(N', C)`` float32 array in the fit's [-1, 1] units.
    """
    require_positive("--rate", rate)
    n0, rate0 = int(meta["samples"]), int(meta["rate"])
    n = max(1, round((n0 - 1) * rate / rate0) + 1)
    if n > 100_000_000:
        raise SirenkitError(f"--rate {rate} would render {n} samples; pick a lower rate")
    with torch.no_grad():
        out = in_chunks(model, grid((n,), device=model_device(model)), chunk)
    return out.float().cpu().numpy()


def fit_audio(cfg: FitAudioConfig):
    """CLI entry: ``sirenkit fit audio``."""
    from ..training.run import run

    return run(cfg)
