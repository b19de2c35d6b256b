"""Self-scaled BFGS: the inverse Hessian kept whole instead of L-BFGS's last 100 pairs.

For the small networks of physics-informed problems (a few thousand weights) the n x n matrix
is affordable (3441 weights: ~10 ms an update in float32 on one core), and it keeps every
curvature pair the run has seen. The self-scaling (Al-Baali's, as in Urban, Stefanou and Pons,
"Unveiling the optimization process of physics informed neural networks", J. Comput. Phys.
2025) shrinks the old curvature when a step finds the loss flatter than the matrix says. On
Burgers it goes below L-BFGS's floor in a quarter of the iterations (docs/pde.md: measured).
It is torch's ``LBFGS`` with the two-loop recursion replaced by the matrix, so the
strong-Wolfe line search, the tolerances and the one-iteration ``step(closure)`` the training
loop calls are torch's own.
"""

from __future__ import annotations

import torch
from torch.optim.lbfgs import _strong_wolfe

BFGS_MAX_WEIGHTS = 16384
"""The largest network BFGS takes: its matrix is then 1 GiB in float32."""


class BFGS(torch.optim.LBFGS):
    """Self-scaled BFGS with a strong-Wolfe line search; ``max_iter`` iterations per
    :meth:`step`, its state (the matrix included) in ``state_dict`` for checkpoints.

    The first update scales the identity by ``y's / y'y`` (as L-BFGS does every iteration);
    a pair with ``y's <= 1e-10`` (not a descent curvature) is skipped, as in L-BFGS.
    """

    self_scaled = True
    """False: plain BFGS (on Burgers it stalled at 1.3e-3 where this reaches 1.2e-4)."""

    @torch.no_grad()
    def step(self, closure):  # type: ignore[override]
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        closure = torch.enable_grad()(closure)
        loss = float(closure())
        evals = 1
        state["func_evals"] += 1
        g = self._gather_flat_grad()
        if g.abs().max() <= tolerance_grad:
            return loss
        H = state.get("H")
        g_prev, d, t = state.get("g_prev"), state.get("d"), state.get("t")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if g_prev is None:
                d = -g
            else:
                y, s = g - g_prev, d * t
                ys = float(y.dot(s))
                if ys > 1e-10:
                    if H is None:
                        H = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
                        H.mul_(ys / float(y.dot(y)))
                    rho = 1.0 / ys
                    Hy = H @ y
                    # self-scaled BFGS (Al-Baali): H <- [H - rho (s Hy' + Hy s')
                    # + rho^2 y'Hy s s'] / tau + rho s s', tau = min(1, 1 / b),
                    # b = s'Bs / y's = -t s'g_prev / y's
                    tau = 1.0
                    if self.self_scaled:
                        b = -t * float(s.dot(g_prev)) * rho
                        tau = min(1.0, 1.0 / b) if b > 0 else 1.0
                    c = rho * rho * float(y.dot(Hy))
                    a = Hy.mul_(-rho).add_(s, alpha=c / 2)
                    H.addr_(s, a).addr_(a, s)
                    if tau != 1.0:
                        H.mul_(1.0 / tau)
                    H.addr_(s, s, alpha=rho)
                d = -g if H is None else -(H @ g)
            g_prev = g.clone(memory_format=torch.contiguous_format)
            prev_loss = loss
            gtd = float(g.dot(d))
            if gtd > -tolerance_change:
                break
            t = min(1.0, 1.0 / float(g.abs().sum())) * lr if state["n_iter"] == 1 else lr
            x_init = self._clone_param()

            def obj_func(x, t, d):
                return self._directional_evaluate(closure, x, t, d)

            loss, g, t, ls_evals = _strong_wolfe(obj_func, x_init, t, d, loss, g, gtd)
            self._add_grad(t, d)
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval:
                break
            if g.abs().max() <= tolerance_grad:
                break
            if (d * t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        state["H"], state["g_prev"], state["d"], state["t"] = H, g_prev, d, t
        return loss
