"""Informational commands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelsConfig:
    """List the networks available to every task's --model flag."""


def models_command(cfg: ModelsConfig) -> None:
    from ..nets.registry import list_models

    width = max(map(len, list_models()))
    groups = (
        ("field", "coordinate networks (--model of fit, solve, invert, compare)"),
        ("prior", "image priors (--model of train prior)"),
        ("batch", "many networks fitted together (--model of fit images)"),
    )
    for family, title in groups:
        print(f"{title}:")
        for name, summary in list_models(family).items():
            print(f"  {name:<{width}}  {summary}")
