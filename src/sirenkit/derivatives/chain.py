"""Recognise networks that are a chain of affine maps, each optionally followed by ``sin``.

Such a network (every SIREN) has closed-form input derivatives; anything else goes to autograd.
Recognition is conservative: a subclass that overrides ``forward`` (or ``preactivation``), or a
module carrying forward hooks, could compute something else, so it is not recognised.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules import module as _module

from ..nets.siren import SineLayer, Siren


@dataclass(frozen=True)
class AffineSine:
    """One layer ``x -> act(omega * (W x + b))``: ``sin`` if ``sine`` else the identity.

    Attributes:
        weight: ``W`` ``(out, in)``, the module's parameter (gradients reach it).
        bias: ``b`` ``(out,)`` or None.
        omega: the frequency factor (1 for a linear layer).
        sine: whether ``sin`` follows.
    """

    weight: torch.Tensor
    bias: torch.Tensor | None
    omega: float
    sine: bool

    def scaled(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(omega W, omega b)``, the factor folded into the small parameters."""
        if self.omega == 1.0:
            return self.weight, self.bias
        b = None if self.bias is None else self.bias * self.omega
        return self.weight * self.omega, b


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


def sine_chain(model: nn.Module) -> list[AffineSine] | None:
    """The layers of ``model`` if it is a chain of (sine) affine maps, else None.

    Recognises :class:`~sirenkit.nets.siren.Siren`, :class:`~sirenkit.nets.siren.SineLayer`,
    ``nn.Linear`` and ``nn.Sequential`` containers of them, nested.

    Arguments:
        model: any module.

    Returns:
        The layers in order, or None when some part has no closed form here.
    """
    if _plain(model, SineLayer, "forward", "preactivation"):
        return [AffineSine(model.weight, model.bias, model.w0, True)]
    if _plain(model, nn.Linear, "forward"):
        return [AffineSine(model.weight, model.bias, 1.0, False)]
    if _plain(model, Siren, "forward"):
        return sine_chain(model.net)
    if _plain(model, nn.Sequential, "forward"):
        layers: list[AffineSine] = []
        for child in model:
            sub = sine_chain(child)
            if sub is None:
                return None
            layers += sub
        return layers or None
    return None
