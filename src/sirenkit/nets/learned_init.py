"""A learned initialisation: SIREN weights plus a learned step size for every weight.

Meta-SGD (Li et al., 2017) on top of MAML (Finn et al., 2017), as Tancik et al. (CVPR 2021)
learn initialisations and COIN++/functa learn their inner step sizes: a new signal of the
class is fitted by plain gradient steps ``p <- p - rate * dL/dp`` from the weights ``theta``,
each weight with its own ``rate``. Both ``theta`` and the rates are meta-learned (``train
init``) by differentiating through those steps, so the few steps a fit takes are the steps the
init was made for; ``--init RUN`` fits with the same update (:mod:`sirenkit.training.optim`).

The inner steps run on one network per signal as one stacked computation: the weights
``theta`` are expanded into the parameters of a :class:`~sirenkit.nets.batched.BatchedSiren`
(names ``weights.k`` / ``biases.k`` for the Siren's ``net.k.weight`` / ``net.k.bias``) and
evaluated with :func:`torch.func.functional_call`, whose backward pass stays differentiable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import torch
import tyro
from torch import nn
from torch.func import functional_call

from .batched import BatchedSiren
from .config import ModelConfig
from .registry import TaskShape, build_model, register_model
from .siren import Siren
from .siren_entry import _siren_kwargs


def batched_name(siren_name: str) -> str:
    """A Siren parameter's name in a :class:`BatchedSiren` (``net.2.bias`` -> ``biases.2``)."""
    _, k, kind = siren_name.split(".")
    return f"{'weights' if kind == 'weight' else 'biases'}.{k}"


class LearnedInit(nn.Module):
    """A SIREN (``self.siren``, its weights the init) with a step size for every weight.

    Arguments:
        inner_steps: gradient steps a fit from the init is meta-trained for.
        inner_lr: initial value of every step size (then meta-learned).
        siren_kwargs: the constructor arguments of the :class:`Siren`.
    """

    def __init__(self, inner_steps: int = 5, inner_lr: float = 1e-2, **siren_kwargs: Any):
        super().__init__()
        self.siren: Siren = build_model("siren", **siren_kwargs)  # carries its own spec
        self.inner_steps = inner_steps
        self.rates = nn.ParameterList(
            nn.Parameter(torch.full_like(p, float(inner_lr))) for p in self.siren.parameters()
        )

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """The init's own output (the SIREN's)."""
        return self.siren(coords)

    def step_sizes(self) -> dict[str, torch.Tensor]:
        """The rate of every Siren parameter, by name; a rate meta-learned below zero is 0."""
        names = [n for n, _ in self.siren.named_parameters()]
        return {n: r.clamp_min(0) for n, r in zip(names, self.rates, strict=True)}

    def fit(
        self,
        coords: torch.Tensor,
        targets: torch.Tensor,
        steps: int | None = None,
        *,
        create_graph: bool = False,
    ) -> tuple[BatchedSiren, list[torch.Tensor]]:
        """Fit one network per target with ``steps`` (default ``inner_steps``) learned-rate
        steps on its mean squared error, from the init.

        Arguments:
            coords: ``(P, in)`` shared coordinates.
            targets: ``(n, P, out)`` values.
            create_graph: keep the steps differentiable (meta-training: the last error's
                gradient reaches the init and the rates); otherwise nothing reaches them.

        Returns:
            The ``n`` fitted networks (detached), and every network's mean squared error
            ``(n,)`` before each step and after the last; only the last carries a graph.
        """
        steps = self.inner_steps if steps is None else steps
        n = targets.shape[0]
        nets = BatchedSiren.replicate(self.siren, n)
        errors = []
        with torch.enable_grad():
            rates = {batched_name(k): r for k, r in self.step_sizes().items()}
            params = {
                batched_name(k): p.unsqueeze(0).expand(n, *p.shape)
                for k, p in self.siren.named_parameters()
            }
            for step in range(steps + 1):
                if not create_graph:
                    params = {k: p.detach().requires_grad_(step < steps) for k, p in params.items()}
                pred = functional_call(nets, params, (coords,))
                errors.append(((pred - targets) ** 2).mean(dim=(1, 2)))
                if step == steps:
                    break
                grads = torch.autograd.grad(
                    errors[-1].sum(), list(params.values()), create_graph=create_graph
                )
                errors[-1] = errors[-1].detach()
                params = {
                    k: p - rates[k] * g for (k, p), g in zip(params.items(), grads, strict=True)
                }
        with torch.no_grad():
            for k, p in params.items():
                nets.get_parameter(k).copy_(p)
        return nets, errors


@dataclass
class InitModelConfig(ModelConfig):
    """The SIREN whose initialisation is learned, and the fit it is learned for."""

    name: Annotated[str, tyro.conf.arg(name="model")] = "learned-init"
    """learned-init (a SIREN with learned per-weight step sizes)."""
    hidden: int = 64
    """Width of every hidden layer."""
    inner_steps: int = 5
    """Learned-rate gradient steps each meta-training image is fitted with (the fit the init
    is made for; a fit from it may take more)."""
    inner_lr: float = 1e-2
    """Initial value of every step size (then learned)."""


def _learned_init_kwargs(cfg: ModelConfig, shape: TaskShape) -> dict[str, Any]:
    c = cfg if isinstance(cfg, InitModelConfig) else InitModelConfig(**vars(cfg))
    return {"inner_steps": c.inner_steps, "inner_lr": c.inner_lr, **_siren_kwargs(c, shape)}


register_model(
    "learned-init",
    _learned_init_kwargs,
    "SIREN init with learned per-weight step sizes (Meta-SGD; made by `train init`)",
    family="init",
)(LearnedInit)
