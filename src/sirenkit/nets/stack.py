"""Helpers the baseline networks share: size checks and the first/hidden/last layer stack."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def check_sizes(
    name: str, in_features: int, hidden_features: int, hidden_layers: int, out_features: int
) -> None:
    """Raise ``ValueError`` naming ``name`` unless all sizes are positive (``hidden_layers``
    may be 0)."""
    if min(in_features, hidden_features, out_features) < 1 or hidden_layers < 0:
        raise ValueError(
            f"{name} needs positive in/hidden/out features and hidden_layers >= 0, got "
            f"{in_features=}, {hidden_features=}, {hidden_layers=}, {out_features=}"
        )


def layer_stack(
    first: nn.Module, hidden: Callable[[], nn.Module], count: int, last: nn.Module
) -> nn.Sequential:
    """``first``, ``count`` fresh layers from ``hidden()``, then ``last``."""
    return nn.Sequential(first, *(hidden() for _ in range(count)), last)
