"""Recognise networks that are a chain of affine maps, each optionally followed by a pointwise
activation with closed-form derivatives (``sin``, ``tanh``).

Such a network (every SIREN, every tanh MLP) has closed-form input derivatives; anything else
goes to autograd. Recognition is conservative: a subclass that overrides ``forward`` (or
``preactivation``), or a module carrying forward hooks, could compute something else, so it is
not recognised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch import nn
from torch.nn.modules import module as _module

from ..nets.mlp import MLP
from ..nets.siren import SineLayer, Siren

Activation = Literal["sin", "tanh"]


@dataclass(frozen=True)
class AffineAct:
    """One layer ``x -> act(w0 * (W x + b))``; ``act`` is ``activation``, or the identity.

    Attributes:
        weight: ``W`` ``(out, in)``, the module's parameter (gradients reach it).
        bias: ``b`` ``(out,)`` or None.
        w0: the frequency factor (1 for a linear or tanh layer).
        activation: ``"sin"``, ``"tanh"`` or None (a linear layer).
    """

    weight: torch.Tensor
    bias: torch.Tensor | None
    w0: float
    activation: Activation | None

    def scaled(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(w0 W, w0 b)``, the factor folded into the small parameters."""
        if self.w0 == 1.0:
            return self.weight, self.bias
        b = None if self.bias is None else self.bias * self.w0
        return self.weight * self.w0, b


def _plain(module: nn.Module, cls: type[nn.Module], *methods: str) -> bool:
    """``module`` behaves exactly like ``cls``: same methods, no hooks."""
    if not isinstance(module, cls):
        return False
    if any(getattr(type(module), m) is not getattr(cls, m) for m in methods):
        return False
    hooks = (
        module._forward_hooks,
        module._forward_pre_hooks,
        _module._global_forward_hooks,
        _module._global_forward_pre_hooks,
    )
    return not any(hooks)


def layer_chain(model: nn.Module) -> list[AffineAct] | None:
    """The layers of ``model`` if it is a chain of affine maps with closed-form activations.

    Recognises :class:`~sirenkit.nets.siren.Siren`, :class:`~sirenkit.nets.siren.SineLayer`,
    ``nn.Linear``, ``nn.Tanh`` after a linear map, :class:`~sirenkit.nets.mlp.MLP` with tanh
    activations on raw coordinates, and ``nn.Sequential`` containers of them, nested.

    Arguments:
        model: any module.

    Returns:
        The layers in order, or None when some part has no closed form here.
    """
    if _plain(model, SineLayer, "forward", "preactivation"):
        return [AffineAct(model.weight, model.bias, model.w0, "sin")]
    if _plain(model, nn.Linear, "forward"):
        return [AffineAct(model.weight, model.bias, 1.0, None)]
    if _plain(model, Siren, "forward"):
        return layer_chain(model.net)
    if _plain(model, MLP, "forward") and _plain(model.encoding, nn.Identity, "forward"):
        return layer_chain(model.net)
    if _plain(model, nn.Sequential, "forward"):
        layers: list[AffineAct] = []
        for child in model:
            if _plain(child, nn.Tanh, "forward"):
                if not layers or layers[-1].activation is not None:
                    return None
                layers[-1] = replace(layers[-1], activation="tanh")
                continue
            sub = layer_chain(child)
            if sub is None:
                return None
            layers += sub
        return layers or None
    return None
