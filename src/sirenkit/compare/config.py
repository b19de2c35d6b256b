"""Configurations of the ``compare`` commands: a task's ``fit`` options plus what to compare."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

from ..tasks.audio import FitAudioConfig
from ..tasks.image import FitImageConfig
from ..training.config import TrainConfig

ALL_MODELS = "siren,relu,tanh,relu_pe,rbf,fourier,wire,finer,gauss"


@dataclass
class CompareOptions:
    """What every comparison adds to the task's own options."""

    models: str = ALL_MODELS
    """Comma-separated networks to train (see `sirenkit models`), in table order."""
    at_steps: tuple[int, ...] = (100, 200, 500)
    """Steps at which the table reports each model's metric."""
    at_seconds: tuple[float, ...] = (10.0, 30.0, 60.0)
    """Training seconds at which the table reports each model's metric (evaluation excluded;
    the last evaluation at or before that time)."""
    curve_every: int = 10
    """Steps between the full evaluations that draw the convergence curves."""
    figure: bool = True
    """Draw every model's fit, |gradient| and Laplacian in one figure (fits.png); this costs a
    Laplacian of every network over the whole signal."""


@dataclass
class CompareImageConfig(CompareOptions, FitImageConfig):
    """Fit several networks to one image with the same budget; write a table (PSNR at set steps
    and seconds, time per step, parameters), convergence plots and the fits with their
    |gradient| and Laplacian next to the ground truth."""

    task: ClassVar[str] = "image"
    train: TrainConfig = field(
        default_factory=lambda: replace(
            FitImageConfig().train, optimizer="adam", hold=0.7, average=None
        )
    )
    """The fit's defaults with Adam on every layer, held at its peak for 70%, and the trained
    weights themselves (the update every network was compared with; `fit image`'s Muon and
    average of the weights were measured on SIRENs only)."""
    min_gain: float | None = None
    """No early stop: every network trains all its steps, so the table compares them alike."""
    plateau_gain: float | None = None
    """No learning-rate cuts: every network follows the same schedule (the cut was measured
    with Muon only)."""
    schedule_pixels: int | None = None
    """The step counts as given at any image size: the table's steps are the ones run."""


@dataclass
class CompareAudioConfig(CompareOptions, FitAudioConfig):
    """Fit several networks to one audio clip with the same budget; write a table (SNR at set
    steps and seconds, time per step, parameters) and convergence plots."""

    task: ClassVar[str] = "audio"
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000, lr=1e-4, eval_every=250, checkpoint_every=250
        )
    )
    """The paper's full-clip Adam at 1e-4 with a cosine decay, one rate for every layer, which
    every network was compared with (`fit audio`'s recipe was measured on SIRENs only)."""
    batch_share: float | None = None
    """The whole clip every step."""
    sampling: Literal["error", "uniform"] = "uniform"
    """Uniform draws for a --batch-size below the clip's length."""
