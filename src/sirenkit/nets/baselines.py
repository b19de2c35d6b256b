"""Registry entries of the baselines SIREN is compared against (``--model NAME``).

Each entry turns a :class:`~sirenkit.nets.config.ModelConfig` and a task's
:class:`~sirenkit.nets.registry.TaskShape` into constructor kwargs, with the hidden width
matched to the SIREN's parameter count unless ``param_match`` is off
(:mod:`sirenkit.nets.param_match`). ``--layers`` counts the linear layers of the network
proper; a fixed or learned input encoding (positional, Fourier, RBF) comes on top.
"""

from __future__ import annotations

from typing import Any

from .config import ModelConfig
from .encodings import nerf_frequencies
from .finer import Finer
from .mlp import MLP
from .param_match import matched
from .registry import TaskShape, register_model
from .wire import Wire


def _trunk(cfg: ModelConfig, shape: TaskShape, width: int) -> dict[str, Any]:
    return {
        "in_features": shape.in_features,
        "hidden_features": width,
        "hidden_layers": cfg.layers - 2,
        "out_features": shape.out_features,
    }


def _mlp(cfg: ModelConfig, shape: TaskShape, **options: Any) -> dict[str, Any]:
    return matched(MLP, cfg, shape, lambda h: {**_trunk(cfg, shape, h), **options})


def _relu(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return _mlp(cfg, shape, activation="relu", init="kaiming")


def _tanh(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return _mlp(cfg, shape, activation="tanh", init="xavier")


def _relu_pe(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    freqs = cfg.pe_freqs or nerf_frequencies(shape.in_features, shape.resolution)
    return _mlp(
        cfg,
        shape,
        activation="relu",
        init="kaiming",
        encoding={"kind": "nerf", "freqs": freqs},
    )


def _rbf(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return _mlp(
        cfg,
        shape,
        activation="relu",
        init="kaiming",
        encoding={"kind": "rbf", "centers": cfg.rbf_centers},
    )


def _fourier(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return _mlp(
        cfg,
        shape,
        activation="relu",
        init="glorot_zero",
        encoding={"kind": "fourier", "size": cfg.fourier_size, "scale": cfg.fourier_scale},
    )


def _gauss(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return _mlp(cfg, shape, activation="gauss", init="torch", scale=cfg.gauss_scale)


def _wire(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return matched(
        Wire,
        cfg,
        shape,
        lambda h: {**_trunk(cfg, shape, h), "w0": cfg.wire_w0, "scale": cfg.wire_scale},
    )


def _finer(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    extra = {
        "w0": shape.w0 if cfg.w0 is None else cfg.w0,
        "hidden_w0": cfg.hidden_w0,
        "first_bias_range": cfg.finer_bias,
    }
    return matched(Finer, cfg, shape, lambda h: {**_trunk(cfg, shape, h), **extra})


register_model("relu", _relu, "ReLU MLP, He-normal init (the SIREN paper's baseline)")(MLP)
register_model("tanh", _tanh, "tanh MLP, Glorot-normal init (the SIREN paper's baseline)")(MLP)
register_model(
    "relu_pe", _relu_pe, "ReLU MLP on NeRF positional encoding, octaves from the sampling rate"
)(MLP)
register_model("rbf", _rbf, "ReLU MLP on 1024 Gaussian radial basis functions (RBF-ReLU)")(MLP)
register_model("fourier", _fourier, "ReLU MLP on Gaussian Fourier features (Tancik et al. 2020)")(
    MLP
)
register_model("gauss", _gauss, "Gaussian activations (Ramasinghe & Lucey 2022)")(MLP)
register_model("wire", _wire, "WIRE: complex Gabor wavelets (Saragadam et al. 2023)")(Wire)
register_model("finer", _finer, "FINER: variable-periodic sines (Liu et al. 2024)")(Finer)
