"""Registry entry for :class:`~sirenkit.nets.siren.Siren`."""

from __future__ import annotations

from typing import Any

from .config import ModelConfig
from .registry import TaskShape, register_model
from .siren import Siren


def _siren_kwargs(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return {
        "in_features": shape.in_features,
        "hidden_features": cfg.hidden,
        "hidden_layers": cfg.layers - 2,
        "out_features": shape.out_features,
        "w0": shape.w0 if cfg.w0 is None else cfg.w0,
        "hidden_w0": cfg.hidden_w0,
        "bias_init": cfg.bias_init,
    }


register_model("siren", _siren_kwargs, "SIREN: sine activations, the paper's init")(Siren)
