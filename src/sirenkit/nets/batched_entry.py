"""Registry entry for :class:`~sirenkit.nets.batched.BatchedSiren` (``fit images``)."""

from __future__ import annotations

from typing import Any

from .batched import BatchedSiren
from .config import ModelConfig
from .registry import TaskShape, register_model
from .siren_entry import _siren_kwargs


def _batched_kwargs(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    return {"count": shape.count, **_siren_kwargs(cfg, shape)}


register_model(
    "siren_batch",
    _batched_kwargs,
    "many independent SIRENs trained as one stacked network (fit images)",
    family="batch",
)(BatchedSiren)
