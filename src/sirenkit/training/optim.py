"""The optimiser of a fit that starts from a learned initialisation with learned step sizes.

``train init`` learns, next to the starting weights, a step size for every weight (Meta-SGD):
the fit the init was made for is plain gradient descent ``p <- p - rate * grad`` with those
rates. :class:`LearnedRateSGD` is that update, so ``--init RUN`` fits exactly as the
meta-training's inner steps did. The shared loop's schedule still applies, as a factor: the
step at learning rate ``lr_t`` is ``p <- p - (lr_t / peak) * rate * grad`` with ``peak`` the
run's ``--lr``, so ``--schedule constant`` is the meta-trained update and a decaying schedule
shrinks it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
from torch import nn


class LearnedRateSGD(torch.optim.Optimizer):
    """Gradient descent with one fixed step size per element (the rates live in the state,
    so a checkpoint of the optimiser holds them and a resumed fit continues exactly).

    Arguments:
        params: the parameters, in the order of ``rates``.
        rates: a tensor of step sizes shaped like each parameter.
        lr: the schedule's current learning rate; ``lr / peak`` scales every rate.
        peak: the learning rate at which the rates apply unscaled (the run's ``--lr``).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        rates: Sequence[torch.Tensor],
        lr: float,
        peak: float,
    ) -> None:
        params = list(params)
        if len(params) != len(rates):
            raise ValueError(f"{len(params)} parameters but {len(rates)} rate tensors")
        super().__init__(params, {"lr": lr, "peak": peak, "learned_rates": True})
        for p, r in zip(params, rates, strict=True):
            if r.shape != p.shape:
                raise ValueError(f"rates of shape {tuple(r.shape)} for a {tuple(p.shape)} weight")
            self.state[p]["rate"] = r.detach().to(p.device, p.dtype).clone()

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            scale = group["lr"] / group["peak"]
            for p in group["params"]:
                if p.grad is not None:
                    p.addcmul_(self.state[p]["rate"], p.grad, value=-scale)
        return loss


def is_learned_rate_state(state: dict | None) -> bool:
    """Whether a saved optimiser state is a :class:`LearnedRateSGD`'s (a resumed fit from a
    learned-rate init must rebuild that optimiser, not Adam)."""
    groups = (state or {}).get("param_groups") or [{}]
    return bool(groups[0].get("learned_rates"))


def param_groups(
    model: nn.Module, extra: Sequence[torch.Tensor], first_lr_w0: float | None
) -> list[dict]:
    """The optimiser's parameter groups: one of every parameter of ``model`` and ``extra``,
    or, with ``first_lr_w0`` set, first each first layer's own parameters (a module with
    ``is_first`` and a frequency ``w0``: SIREN's, FINER's, WIRE's), in a group whose
    ``lr_scale`` is ``first_lr_w0 / w0``, then the rest. The loop sets a group's rate to the
    schedule's times its ``lr_scale`` (1 when absent).

    Why: a first layer computes ``sin(w0 (W x + b))`` and Adam moves ``W`` and ``b`` by about
    the rate per step, which turns its phases by about ``w0 x rate`` (at ``|x| = 1``): at the
    same rate, a clip at audio's w0 3000 takes 100x the phase steps of an image at 30. A rate
    of ``lr first_lr_w0 / w0`` takes the phase steps ``lr`` takes at ``w0 = first_lr_w0``
    whatever the network's w0. A network without such a layer gets the one group."""
    params = [*model.parameters(), *extra]
    if first_lr_w0 is None:
        return [{"params": params}]
    groups = []
    for m in model.modules():
        if getattr(m, "is_first", False) and isinstance(getattr(m, "w0", None), float):
            own = list(m.parameters(recurse=False))
            if own and m.w0 > 0 and math.isfinite(m.w0):
                groups.append({"params": own, "lr_scale": first_lr_w0 / m.w0})
    taken = {id(p) for g in groups for p in g["params"]}
    rest = [p for p in params if id(p) not in taken]
    return [*groups, {"params": rest}] if rest else groups


HIDDEN_MIN_WIDTH = 16
"""A 2-D weight is a hidden layer's (Muon's, under ``--optimizer muon``) when both its sides
are at least this wide: the first layer's 2 or 3 input columns and the output layer's few
rows are not the square matrices an orthogonalised step is for."""


class Muon(torch.optim.Muon):
    """:class:`torch.optim.Muon` whose Newton-Schulz orthogonalisation runs in ``ns_dtype``.

    Why: torch's runs it in bfloat16 always, and a CPU without bfloat16 instructions (AVX2;
    most laptops) emulates bfloat16 products some 30x slower than float32 ones: measured on
    such an EPYC (session 19, docs/speed.md), the three 256x256 hidden matrices' iterations
    made `fit image`'s step cost about twice the network's own forward and backward. So the
    loop asks for float32 where bfloat16 does not pay
    (:func:`~sirenkit.training.precision.bfloat16_speedup`). In bfloat16 this is torch's
    step, unchanged; in float32 the same update (Nesterov momentum, five quintic iterations,
    the step scaled by ``adjust_lr_fn``) with its products in float32.
    """

    def __init__(self, params, *, ns_dtype: torch.dtype = torch.bfloat16, **kwargs) -> None:
        super().__init__(params, **kwargs)
        self.ns_dtype = ns_dtype

    @torch.no_grad()
    def step(self, closure=None):
        if self.ns_dtype == torch.bfloat16:
            return super().step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params: list[torch.Tensor] = []
            grads: list[torch.Tensor] = []
            buffers: list[torch.Tensor] = []
            self._init_group(group, params, grads, buffers)
            momentum, lr = group["momentum"], float(group["lr"])
            for param, grad, buf in zip(params, grads, buffers, strict=True):
                buf.lerp_(grad, 1 - momentum)
                update = grad.lerp(buf, momentum) if group["nesterov"] else buf
                update = _orthogonalised(
                    update, group["ns_coefficients"], group["ns_steps"], group["eps"], self.ns_dtype
                )
                param.mul_(1 - lr * group["weight_decay"])
                param.add_(update, alpha=-lr * _lr_ratio(group["adjust_lr_fn"], param.shape))
        return loss


def _orthogonalised(
    g: torch.Tensor, coefficients: tuple[float, float, float], steps: int, eps: float, dtype
) -> torch.Tensor:
    """Muon's quintic Newton-Schulz iteration towards the orthogonal factor of ``g``, its
    products in ``dtype`` (torch's ``_zeropower_via_newtonschulz``, which fixes bfloat16)."""
    a, b, c = coefficients
    x = g.to(dtype)
    wide = g.size(0) <= g.size(1)
    x = x if wide else x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return (x if wide else x.T).to(g.dtype)


def _lr_ratio(adjust_lr_fn: str | None, shape: torch.Size) -> float:
    """How Muon scales its step for a matrix of ``shape`` (torch's ``_adjust_lr``)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


class MuonAdam:
    """Muon (:class:`Muon`, torch's) on the hidden layers' weight matrices, Adam on every
    other parameter (first and last layers, biases, a task's own, complex weights, which Muon
    does not take); Adam alone for a network with no real matrix at least
    :data:`HIDDEN_MIN_WIDTH` wide on both sides.

    Why: Muon orthogonalises each hidden matrix's momentum, so every direction of the update
    moves at the same rate, where Adam's steps can be dominated by a few (McGinnis et al.,
    "Optimizing Rank for High-Fidelity Implicit Neural Representations", arXiv:2512.14366,
    relate Adam's INR fits to a collapse of the hidden layers' stable rank). Measured here to
    need fewer steps for the same PSNR on images (docs/speed.md). Its update is scaled to
    Adam's by Moonshot's rule (RMS ``0.2 lr``, ``adjust_lr_fn="match_rms_adamw"``), so one
    learning rate and one schedule drive both: the loop sets it on :attr:`param_groups`,
    which holds both optimisers' groups. No weight decay (a fit, not a generalisation
    problem). The update's size does not shrink with the gradient, so the fit's noise floor
    follows the learning rate: a schedule that decays from the start suits it.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float,
        betas: tuple[float, float],
        ns_dtype: torch.dtype = torch.bfloat16,
    ) -> None:
        groups = list(params)  # parameters, or groups of them as torch's optimisers take
        if groups and not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        hidden = [
            p
            for g in groups
            if "lr_scale" not in g  # a first layer's own group (param_groups) stays Adam's
            for p in g["params"]
            if p.ndim == 2 and min(p.shape) >= HIDDEN_MIN_WIDTH and not p.is_complex()
        ]
        taken = {id(h) for h in hidden}
        rest = [
            {**g, "params": kept}
            for g in groups
            if (kept := [p for p in g["params"] if id(p) not in taken])
        ]
        self.parts: dict[str, torch.optim.Optimizer] = {}
        if rest:
            self.parts["adam"] = torch.optim.Adam(rest, lr=lr, betas=betas)
        if hidden:
            self.parts["muon"] = Muon(
                hidden,
                lr=lr,
                weight_decay=0.0,
                adjust_lr_fn="match_rms_adamw",
                ns_dtype=ns_dtype,
            )

    @property
    def param_groups(self) -> list[dict]:
        return [g for part in self.parts.values() for g in part.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for part in self.parts.values():
            part.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for part in self.parts.values():
            part.step()

    def state_dict(self) -> dict:
        return {name: part.state_dict() for name, part in self.parts.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, part in self.parts.items():
            part.load_state_dict(state[name])
