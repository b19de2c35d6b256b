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

from collections.abc import Iterable, Sequence

import torch


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
