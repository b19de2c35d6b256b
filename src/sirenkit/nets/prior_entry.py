"""Registry entries of the image priors (``siren-prior``, ``cnp``) and their model flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import tyro

from .cnp import ConditionalNeuralProcess
from .config import ModelConfig
from .hypernet import SirenPrior
from .registry import TaskShape, register_model


@dataclass
class PriorModelConfig(ModelConfig):
    """Which prior to train: a hypernetwork over SIRENs or the neural-process baseline.

    ``--hidden`` and ``--layers`` size the network that renders the image: the emitted SIREN
    (siren-prior) or the decoder MLP (cnp).
    """

    name: Annotated[str, tyro.conf.arg(name="model")] = "siren-prior"
    """siren-prior (encoder + hypernetwork + SIREN) or cnp (conditional neural process)."""
    hidden: int = 64
    """Width of the emitted SIREN (siren-prior) or of the decoder MLP (cnp)."""
    layers: int = 3
    """Linear layers of the emitted SIREN (siren-prior) or of the decoder (cnp; paper: 5)."""
    encoder: Literal["set", "conv"] = "set"
    """siren-prior's encoder: set (MLP over observed pixels, mean-pooled) or conv."""
    latent: int = 128
    """Size of the latent code (the CNP's representation)."""
    encoder_hidden: int = 128
    """Width of the encoder (feature maps of the conv encoder)."""
    encoder_layers: int = 3
    """Linear layers of the set encoder."""
    hyper_hidden: int = 128
    """Width of the hypernetwork's heads (one ReLU MLP per SIREN parameter tensor)."""
    hyper_layers: int = 2
    """Linear layers per hypernetwork head."""


def _shared_kwargs(cfg: ModelConfig, shape: TaskShape) -> tuple[PriorModelConfig, dict]:
    """The flags both priors read: image format and encoder sizes."""
    c = cfg if isinstance(cfg, PriorModelConfig) else PriorModelConfig(**vars(cfg))
    return c, {
        "channels": shape.out_features,
        "resolution": list(shape.resolution or (32, 32)),
        "latent": c.latent,
        "encoder_hidden": c.encoder_hidden,
        "encoder_layers": c.encoder_layers,
    }


def _prior_kwargs(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    c, kwargs = _shared_kwargs(cfg, shape)
    return {
        **kwargs,
        "encoder": c.encoder,
        "siren_hidden": c.hidden,
        "siren_layers": c.layers,
        "w0": shape.w0 if c.w0 is None else c.w0,
        "hidden_w0": c.hidden_w0,
        "hyper_hidden": c.hyper_hidden,
        "hyper_layers": c.hyper_layers,
        "bias_init": c.bias_init,
    }


def _cnp_kwargs(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    c, kwargs = _shared_kwargs(cfg, shape)
    return {**kwargs, "decoder_hidden": c.hidden, "decoder_layers": c.layers}


register_model(
    "siren-prior",
    _prior_kwargs,
    "image prior: encoder -> latent -> hypernetwork -> SIREN (needs `train prior`)",
    family="prior",
)(SirenPrior)
register_model(
    "cnp",
    _cnp_kwargs,
    "conditional neural process, the priors' baseline (needs `train prior`)",
    family="prior",
)(ConditionalNeuralProcess)
