"""A SIREN shared by a whole dataset, told apart by per-signal shift modulations (functa).

Dupont et al., "From data to functa" (ICML 2022): every hidden sine layer computes
``sin(w0 * (W h + b + s))`` where the shift ``s`` comes from a per-signal latent vector through
one linear map shared by all signals. The latent of a new signal is found by a few steps of
gradient descent from zero with learned per-dimension step sizes (Meta-SGD); the shared weights,
the map and the step sizes are meta-learned (MAML: gradients through the inner steps) so that
those few steps suffice. The latent vectors, "functa", are then small descriptions of the
signals that downstream models can use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import torch
import tyro
from torch import nn

from ..nets.config import ModelConfig
from ..nets.registry import TaskShape, register_model
from ..nets.siren import SineLayer, Siren


class ModulatedSiren(nn.Module):
    """A :class:`~sirenkit.nets.siren.Siren` whose hidden layers take latent-driven shifts.

    Arguments:
        in_features, hidden_features, hidden_layers, out_features, w0,
            hidden_w0: as :class:`Siren` (the base network, ``self.siren``).
        latent: size of the per-signal latent vector.
        inner_steps: gradient steps that fit a latent to a signal.
        inner_lr: initial per-dimension step size of those steps (meta-learned).
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        hidden_layers: int,
        out_features: int,
        latent: int = 64,
        w0: float = 30.0,
        hidden_w0: float = 30.0,
        inner_steps: int = 3,
        inner_lr: float = 0.1,
    ) -> None:
        super().__init__()
        self.siren = Siren(
            in_features,
            hidden_features,
            hidden_layers,
            out_features,
            w0=w0,
            hidden_w0=hidden_w0,
        )
        self.latent = latent
        self.inner_steps = inner_steps
        n_sine = sum(isinstance(m, SineLayer) for m in self.siren.net)
        # No bias: a zero latent is exactly the base SIREN (the layers have their own biases).
        self.to_shifts = nn.Linear(latent, n_sine * hidden_features, bias=False)
        self.inner_lr = nn.Parameter(torch.full((latent,), float(inner_lr)))

    def shifts(self, latents: torch.Tensor) -> list[torch.Tensor]:
        """The shift of every sine layer, each ``(B, 1, hidden)``, from latents ``(B, latent)``."""
        s = self.to_shifts(latents)
        return list(s[:, None, :].split(self.siren.hidden_features, dim=-1))

    def forward(self, coords: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """Values ``(B, N, out)`` of the B signals whose latents are ``(B, latent)`` at the
        coordinates ``(N, in)`` (shared) or ``(B, N, in)``."""
        shifts = iter(self.shifts(latents))
        h = coords
        for layer in self.siren.net:
            if isinstance(layer, SineLayer):
                h = torch.sin(layer.preactivation(h) + layer.w0 * next(shifts))
            else:
                h = layer(h)
        return h

    def fit_latents(
        self,
        coords: torch.Tensor,
        target: torch.Tensor,
        steps: int | None = None,
        *,
        create_graph: bool = False,
    ) -> torch.Tensor:
        """Latents ``(B, latent)`` of the signals ``target`` ``(B, N, out)`` sampled at
        ``coords``: ``steps`` (default: ``inner_steps``) gradient steps from zero on each
        signal's mean squared error, with the learned step sizes.

        ``create_graph`` keeps the steps differentiable (meta-training); otherwise the result
        is detached, and the shared weights get no gradient.
        """
        steps = self.inner_steps if steps is None else steps
        z = torch.zeros(target.shape[0], self.latent, device=target.device, dtype=target.dtype)
        with torch.enable_grad():
            z.requires_grad_(True)
            for _ in range(steps):
                # the sum over signals of each one's MSE: signal i's gradient is its own
                loss = ((self(coords, z) - target) ** 2).mean(dim=(1, 2)).sum()
                (grad,) = torch.autograd.grad(loss, z, create_graph=create_graph)
                z = z - self.inner_lr * grad
                if not create_graph:
                    z = z.detach().requires_grad_(True)
        return z if create_graph else z.detach()


@dataclass
class FunctaModelConfig(ModelConfig):
    """The shared network and its latent: ``--hidden``/``--layers`` size the base SIREN."""

    name: Annotated[str, tyro.conf.arg(name="model")] = "functa"
    """functa (a SIREN with latent-driven shift modulations)."""
    hidden: int = 64
    """Width of the base SIREN."""
    layers: int = 5
    """Linear layers of the base SIREN (input and output included)."""
    latent: int = 64
    """Size of each signal's latent vector (its modulation)."""
    inner_steps: int = 3
    """Gradient steps that fit a latent to a signal."""
    inner_lr: float = 0.1
    """Initial step size of those steps (learned per latent dimension)."""


def _functa_kwargs(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    c = cfg if isinstance(cfg, FunctaModelConfig) else FunctaModelConfig(**vars(cfg))
    return {
        "in_features": shape.in_features,
        "hidden_features": c.hidden,
        "hidden_layers": c.layers - 2,
        "out_features": shape.out_features,
        "latent": c.latent,
        "w0": shape.w0 if c.w0 is None else c.w0,
        "hidden_w0": c.hidden_w0,
        "inner_steps": c.inner_steps,
        "inner_lr": c.inner_lr,
    }


register_model(
    "functa",
    _functa_kwargs,
    "SIREN with per-signal shift modulations, meta-learned (needs `train functa`)",
    family="functa",
)(ModulatedSiren)
