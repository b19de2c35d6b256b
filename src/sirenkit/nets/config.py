"""The network part of every task's configuration (its fields become CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import tyro


@dataclass
class ModelConfig:
    """Which network to fit and its size."""

    name: Annotated[str, tyro.conf.arg(name="model")] = "siren"
    """Network by name (see `sirenkit models`)."""
    hidden: int = 256
    """Width of every hidden layer."""
    layers: int = 5
    """Linear layers in all, input and output layers included (the paper's '5-layer' SIREN)."""
    w0: float | None = None
    """First-layer frequency omega_0 of sine networks; None takes the task's default (30 for
    images, 3000 for audio)."""
    hidden_w0: float = 30.0
    """Frequency omega_0 of the later sine layers."""
    bias_init: str = "torch"
    """Bias init of sine networks: torch (PyTorch's default, as the authors' code), zero, siren."""
