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
    """First-layer frequency w0 of sine networks; None takes the task's default (30 for
    images, 3000 for audio)."""
    hidden_w0: float = 30.0
    """Frequency w0 of the later sine layers."""
    bias_init: str = "torch"
    """Bias init of sine networks: torch (PyTorch's default, as the authors' code), zero, siren."""
    param_match: bool = True
    """Give a baseline the hidden width whose parameter count is closest to the SIREN with the
    same --hidden and --layers (--no-param-match: every network gets --hidden as given)."""
    pe_freqs: int | None = None
    """relu_pe: frequencies of the NeRF positional encoding; None picks them from the sampling
    rate as the SIREN authors do (floor(log2(samples / 4)); 10 for 3-D inputs)."""
    fourier_size: int = 256
    """fourier: number of random Fourier features m (the encoding has 2m values)."""
    fourier_scale: float = 10.0
    """fourier: standard deviation sigma of the Gaussian frequency matrix B."""
    rbf_centers: int = 1024
    """rbf: Gaussian radial basis functions in front of the ReLU network."""
    wire_w0: float = 20.0
    """wire: frequency w0 of the complex Gabor wavelet."""
    wire_scale: float = 10.0
    """wire: width factor s_0 of the complex Gabor wavelet's Gaussian envelope."""
    gauss_scale: float = 10.0
    """gauss: factor s of the activation exp(-(s x)^2)."""
    finer_bias: float | None = None
    """finer: first-layer bias drawn from U(-k, k) with this k (larger k: higher frequencies at
    init); None keeps PyTorch's default bias, the official code's default."""
