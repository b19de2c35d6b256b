"""Build any network by name, and rebuild it from a checkpoint.

Each network class registers a ``from_config`` function that turns the task-independent
:class:`~sirenkit.nets.config.ModelConfig` plus what the task knows (input and output
dimensions, signal resolution, default first-layer frequency) into constructor keyword
arguments. Those keyword arguments are what a checkpoint stores, so ``load`` needs nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import SirenkitError
from .config import ModelConfig


@dataclass(frozen=True)
class TaskShape:
    """What a task tells the model builder about its signal."""

    in_features: int
    out_features: int
    resolution: tuple[int, ...] | None = None
    """Samples per input axis, for networks that pick frequencies from the sampling rate."""
    w0: float = 30.0
    """The task's default first-layer frequency."""
    family: str = "field"
    """Which kind of network the task trains: ``field`` (a coordinate network, every fitting
    and PDE task), ``prior`` (an encoder-to-image model, ``train prior``) or ``batch`` (many
    independent coordinate networks fitted together, ``fit images``)."""
    count: int = 1
    """How many independent networks a ``batch`` task fits (one per signal)."""


FromConfig = Callable[[ModelConfig, TaskShape], dict[str, Any]]


@dataclass(frozen=True)
class _Entry:
    cls: type[nn.Module]
    from_config: FromConfig
    summary: str
    family: str


_MODELS: dict[str, _Entry] = {}


def register_model(name: str, from_config: FromConfig, summary: str = "", family: str = "field"):
    """Class decorator registering a network under ``name`` for tasks of ``family``."""

    def deco(cls: type[nn.Module]) -> type[nn.Module]:
        text = summary or (cls.__doc__ or "").split("\n")[0]
        _MODELS[name] = _Entry(cls, from_config, text, family)
        return cls

    return deco


def list_models(family: str | None = None) -> dict[str, str]:
    """Registered network names (of one ``family``, or all) and their one-line summaries."""
    _load_builtin()
    return {
        k: v.summary for k, v in sorted(_MODELS.items()) if family is None or v.family == family
    }


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Construct the network registered as ``name`` with constructor ``kwargs``."""
    _load_builtin()
    if name not in _MODELS:
        raise SirenkitError(f"unknown model {name!r}; available: {', '.join(sorted(_MODELS))}")
    model = _MODELS[name].cls(**kwargs)
    model.sirenkit_spec = {"name": name, "kwargs": dict(kwargs)}
    return model


def model_from_config(cfg: ModelConfig, shape: TaskShape) -> nn.Module:
    """Build the network ``cfg`` names for a task of the given ``shape``."""
    _load_builtin()
    usable = list_models(shape.family)
    if cfg.name not in usable:
        what = "unknown model" if cfg.name not in _MODELS else "model"
        why = "" if cfg.name not in _MODELS else f" is a {_MODELS[cfg.name].family} network"
        raise SirenkitError(f"{what} {cfg.name!r}{why}; this task takes: {', '.join(usable)}")
    if cfg.hidden < 1:
        raise SirenkitError(f"--hidden must be at least 1, got {cfg.hidden}")
    if cfg.layers < 2:
        raise SirenkitError(
            f"--layers counts input and output layers: at least 2, got {cfg.layers}"
        )
    return build_model(cfg.name, **_MODELS[cfg.name].from_config(cfg, shape))


def model_spec(model: nn.Module) -> dict[str, Any]:
    """The ``{"name", "kwargs"}`` a model was built with (what checkpoints store)."""
    spec = getattr(model, "sirenkit_spec", None)
    if spec is None:
        raise ValueError("model was not built by sirenkit.build_model; cannot record its spec")
    return spec


def _load_builtin() -> None:
    # Importing the modules runs their @register_model decorators.
    from ..functa import model as _functa  # noqa: F401
    from . import (  # noqa: F401
        baselines,
        batched_entry,
        from_file,
        learned_init,
        prior_entry,
        siren_entry,
        symmetric,
    )
