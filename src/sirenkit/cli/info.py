"""Informational commands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelsConfig:
    """List the networks available to every task's --model flag."""


def models_command(cfg: ModelsConfig) -> None:
    from ..nets.registry import list_models

    models = list_models()
    width = max(map(len, models))
    for name, summary in models.items():
        print(f"{name:<{width}}  {summary}")
