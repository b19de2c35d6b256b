"""Many independent SIRENs of one architecture, trained as one module (batched fitting).

Layer ``k`` of all ``count`` networks is one stacked weight ``(count, out, in)`` and one bias
``(count, out)``; a forward pass is one :func:`torch.baddbmm` per layer (``w0`` folded into the
small weight, as :class:`~sirenkit.nets.siren.Siren` does). Network ``i`` computes exactly
the function of the ``Siren`` whose parameters are slice ``i`` of every stack, and
:meth:`BatchedSiren.network` returns that ``Siren``.

Why stacked ``baddbmm`` rather than :func:`torch.func.vmap` over ``functional_call``: both give
the same numbers; on one CPU thread (64 networks of 5x64 on 32x32 pixels) a training step
costs 2.6-2.9 ms per network with either, and the stacked form keeps the fused,
allocation-lean sine backward of :class:`~sirenkit.nets.siren.SineFunction` (see
:class:`BatchedSineFunction`), which vmap cannot use, and plain module state (one
``state_dict``, hooks, DDP) without functional wrappers.

Any optimiser that works element by element (Adam, SGD) and is given the stacked parameters
is exactly one independent optimiser per network: Adam's moments are per element, and its
step count is the same for every network because they all start together.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from torch import nn

from .siren import (
    BiasInit,
    Siren,
    _functorch_active,
    _init_bias,
    backward_operands,
    sine_backward,
    sine_forward,
)


def _baddbmm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, w0: float):
    """``w0 * (x W^T + b)`` per network: ``(n, P, in)``, ``(n, out, in)``, ``(n, out)``."""
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2), beta=w0, alpha=w0)


class BatchedSineFunction(torch.autograd.Function):
    """``sin(w0 * (x W^T + b))`` for stacked networks with the lean backward of
    :class:`~sirenkit.nets.siren.SineFunction`: the saved pre-activation becomes
    ``cos(z) * grad`` in place instead of two new activation-sized tensors."""

    @staticmethod
    def forward(ctx, x, weight, bias, w0):
        return sine_forward(ctx, _baddbmm, x, weight, bias, w0)

    @staticmethod
    def backward(ctx, grad):
        gz, x, weight, _, w0 = sine_backward(ctx, _baddbmm, grad)
        gx = gw = gb = None
        # w0 on the small matrix, not the activations
        gz_p, x_p, w_p = backward_operands(ctx, gz, x, weight * w0)
        if ctx.needs_input_grad[0]:
            gx = torch.bmm(gz_p, w_p).to(gz.dtype)
        if ctx.needs_input_grad[1]:
            gw = batched_weight_gradient(gz_p, x_p).to(gz.dtype).mul_(w0)
        if ctx.needs_input_grad[2]:
            gb = gz.sum(1).mul_(w0)
        return gx, gw, gb, None


class BatchedLinearFunction(torch.autograd.Function):
    """``x W^T + b`` per network (the output layer), with the weight gradient in the
    orientation BLAS handles well (autograd's ``baddbmm`` backward forms ``x^T g`` with a
    one-column right factor for a one-channel output, measured ~3x slower)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        gx = None
        if ctx.needs_input_grad[0]:  # an outer product for one output channel: broadcast it
            gx = grad * weight if weight.shape[1] == 1 else torch.bmm(grad, weight)
        gw = batched_weight_gradient(grad, x) if ctx.needs_input_grad[1] else None
        gb = grad.sum(1) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


def batched_weight_gradient(grad_out: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``grad_out^T @ inputs`` per network (``(n, P, out)``, ``(n, P, in)`` -> ``(n, out,
    in)``), with the thin factor on the left, as :func:`~sirenkit.nets.siren.weight_gradient`."""
    if inputs.shape[2] < grad_out.shape[2]:
        return torch.bmm(inputs.transpose(1, 2), grad_out).transpose(1, 2)
    return torch.bmm(grad_out.transpose(1, 2), inputs)


GROUP_VALUES = 8192
"""Networks x points per group of :class:`GroupedSquaredError` (8 networks of 1024 points):
a 64-wide activation of one group is 2 MiB, so a group's forward and backward run while its
activations are still in cache instead of streaming every layer of the whole stack through
memory (1024 networks x 1024 points x 64 x 4 bytes = 256 MiB per layer). Measured on one
CPU thread, 5x64 networks on 32x32 images: 4-8 networks per group 2.1 ms per network-step,
16-32 2.8 ms, all 64 at once 3.5 ms (benchmarks.many)."""


def _group_pass(coords, target, w0s, weights, biases, grads, errors, rows: slice) -> None:
    """Forward, errors and closed-form backward of networks ``rows``; writes their slices of
    ``grads`` (weights then biases) and ``errors``. ``target`` holds just those networks."""
    layers = len(weights)
    _, points, channels = target.shape
    ws = [w[rows] for w in weights]
    bs = [v[rows] for v in biases]
    inputs, pre = [], []
    h = coords.expand(target.shape[0], *coords.shape)
    for w, v, w0 in zip(ws[:-1], bs[:-1], w0s[:-1], strict=True):
        z = _baddbmm(h, w, v, w0)
        inputs.append(h)
        pre.append(z)
        h = torch.sin(z)
    r = torch.baddbmm(bs[-1].unsqueeze(1), h, ws[-1].transpose(1, 2)).sub_(target)
    errors[rows] = r.square().mean((1, 2))
    g = r.mul_(2.0 / (points * channels))  # d(mean squared error)/d(output)
    gh = g * ws[-1] if channels == 1 else torch.bmm(g, ws[-1])
    grads[layers - 1][rows] = batched_weight_gradient(g, h)
    grads[-1][rows] = g.sum(1)
    for k in range(layers - 2, -1, -1):
        w0 = w0s[k]
        gz = pre[k].cos_().mul_(gh)
        grads[k][rows] = batched_weight_gradient(gz, inputs[k]).mul_(w0)
        grads[layers + k][rows] = gz.sum(1).mul_(w0)
        if k > 0:
            gh = torch.bmm(gz, ws[k] * w0)


class GroupedSquaredError(torch.autograd.Function):
    """Sum over networks of each network's mean squared error, and its exact parameter
    gradients, computed a group of networks at a time.

    The forward pass runs, group by group, the forward pass of the group's networks, their
    errors and the closed-form backward pass of the sine MLP (``d sin z = cos z``, reusing the
    saved pre-activation in place), writing each group's slice of the weight gradients; the
    backward pass only scales those gradients by the incoming one. A group's forward and
    backward thus run back to back on cache-sized activations, and the step is ~45 operations
    per group, without the autograd graph. Gradients are those of
    ``((model(coords) - target) ** 2).mean((1, 2)).sum()`` (tested against autograd).
    """

    @staticmethod
    def forward(ctx, coords, target, w0s, group, *params):
        layers = len(params) // 2
        weights, biases = params[:layers], params[layers:]
        grads = [torch.empty_like(p) for p in params]
        count = target.shape[0]
        errors = torch.empty(count, dtype=target.dtype, device=target.device)
        starts = range(0, count, group)
        threads = torch.get_num_threads()

        def run(a: int) -> None:
            with torch.no_grad():
                b = min(a + group, count)
                rows = slice(a, b)
                _group_pass(coords, target[rows], w0s, weights, biases, grads, errors, rows)

        if threads == 1 or len(starts) == 1 or coords.device.type != "cpu":
            for a in starts:
                run(a)
        else:  # groups in parallel, each op on one thread: no barrier per small operation
            with ThreadPoolExecutor(
                threads, initializer=torch.set_num_threads, initargs=(1,)
            ) as ex:
                torch.set_num_threads(1)
                try:
                    list(ex.map(run, starts))
                finally:
                    torch.set_num_threads(threads)
        ctx.grads = grads
        return errors.sum(), errors

    @staticmethod
    def backward(ctx, grad, _grad_errors):
        grads, ctx.grads = ctx.grads, None
        return (None, None, None, None, *(g.mul_(grad) for g in grads))


class BatchedSiren(nn.Module):
    """``count`` independent SIRENs with the constructor arguments of :class:`Siren`.

    Every network is initialised as a fresh ``Siren`` would be (the paper's init), each with
    its own draw.

    Arguments:
        count: number of networks.
        in_features, hidden_features, hidden_layers, out_features, w0,
            hidden_w0, outermost_linear, bias_init: as for :class:`Siren`.
    """

    def __init__(
        self,
        count: int,
        in_features: int,
        hidden_features: int,
        hidden_layers: int,
        out_features: int,
        w0: float = 30.0,
        hidden_w0: float = 30.0,
        outermost_linear: bool = True,
        bias_init: BiasInit = "torch",
    ) -> None:
        super().__init__()
        if count < 1:
            raise ValueError(f"BatchedSiren needs count >= 1, got {count}")
        self.count = count
        self.siren_kwargs: dict[str, Any] = {
            "in_features": in_features,
            "hidden_features": hidden_features,
            "hidden_layers": hidden_layers,
            "out_features": out_features,
            "w0": float(w0),
            "hidden_w0": float(hidden_w0),
            "outermost_linear": outermost_linear,
            "bias_init": bias_init,
        }
        template = Siren(**self.siren_kwargs)  # validates the sizes
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.w0s: list[float | None] = []
        for layer in template.net:
            w = torch.empty(count, *layer.weight.shape)
            b = torch.empty(count, *layer.bias.shape)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
            self.w0s.append(getattr(layer, "w0", None))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every network's weights as :class:`Siren` does, each network its own draw."""
        fan_ins = [w.shape[2] for w in self.weights]
        bias_init = self.siren_kwargs["bias_init"]
        hidden_w0 = self.siren_kwargs["hidden_w0"]
        with torch.no_grad():
            for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                n = fan_ins[k]
                bound = 1 / n if k == 0 else math.sqrt(6 / n) / hidden_w0
                w.uniform_(-bound, bound)
                _init_bias(b, n, bound, bias_init)

    def forward(self, coords: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """Evaluate the networks (or those ``index`` selects) at ``coords``.

        Arguments:
            coords: ``(P, in)`` shared by every network, or ``(n, P, in)`` one set per network.
            index: optional network indices ``(n,)``; gradients reach only those networks.

        Returns:
            ``(n, P, out)``.
        """
        n = self.count if index is None else index.shape[0]
        h = coords if coords.dim() == 3 else coords.unsqueeze(0).expand(n, *coords.shape)
        fast = not coords.requires_grad and not _functorch_active()
        for w, b, w0 in zip(self.weights, self.biases, self.w0s, strict=True):
            if index is not None:
                w, b = w[index], b[index]
            if w0 is None:  # the linear output layer
                if fast and torch.is_grad_enabled():
                    h = BatchedLinearFunction.apply(h, w, b)
                else:
                    h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            elif fast and torch.is_grad_enabled():
                h = BatchedSineFunction.apply(h, w, b, w0)
            else:
                h = torch.sin(_baddbmm(h, w, b, w0))
        return h

    def squared_error(
        self, coords: torch.Tensor, target: torch.Tensor, group: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training loss of every network on shared ``coords`` ``(P, in)`` against ``target``
        ``(count, P, out)``: the sum over networks of each one's mean squared error (so each
        network's gradient is that of its own loss), and the per-network errors (detached).

        With gradients on, :class:`GroupedSquaredError` computes the loss and the gradients
        ``group`` networks at a time (default: :data:`GROUP_VALUES` values per group on the
        CPU, all networks on an accelerator, untested here for want of one); the same
        numbers as autograd through :meth:`forward`, at a fraction of the memory traffic.
        """
        plain = not torch.is_grad_enabled() or coords.requires_grad or _functorch_active()
        if plain or self.w0s[-1] is not None:  # (a sine output layer: autograd's way too)
            mse = ((self(coords) - target) ** 2).mean(dim=(1, 2))
            return mse.sum(), mse.detach()
        if group is None:  # on an accelerator, one group: launches, not caches, cost there
            cpu = coords.device.type == "cpu"
            group = max(1, GROUP_VALUES // coords.shape[0]) if cpu else self.count
        loss, errors = GroupedSquaredError.apply(
            coords, target, self.w0s, group, *self.weights, *self.biases
        )
        return loss, errors.detach()

    def network(self, index: int) -> Siren:
        """Network ``index`` as a standalone :class:`Siren` (built by the registry, so it can
        be checkpointed and loaded like any fitted network)."""
        from .registry import build_model

        if not -self.count <= index < self.count:
            raise IndexError(f"network index {index} out of range for {self.count} networks")
        siren = build_model("siren", **self.siren_kwargs)
        siren.load_state_dict(self.network_state(index))
        return siren

    def network_state(self, index: int) -> dict[str, torch.Tensor]:
        """Network ``index``'s parameters under the names of a :class:`Siren` state dict."""
        out = {}
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            out[f"net.{k}.weight"] = w.detach()[index].clone()
            out[f"net.{k}.bias"] = b.detach()[index].clone()
        return out

    @torch.no_grad()
    def load_network_state(self, state: dict[str, torch.Tensor], index: int | None = None):
        """Copy a :class:`Siren` state dict into network ``index`` (None: into every one, as a
        learned initialisation does)."""
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            rows = slice(None) if index is None else index
            w[rows] = state[f"net.{k}.weight"]
            b[rows] = state[f"net.{k}.bias"]

    @classmethod
    def from_sirens(cls, sirens: list[Siren]) -> BatchedSiren:
        """Stack existing ``Siren`` networks of one architecture (their current weights)."""
        out = cls.replicate(sirens[0], len(sirens))
        for i, s in enumerate(sirens[1:], 1):
            out.load_network_state(s.state_dict(), i)
        return out

    @classmethod
    def replicate(cls, siren: Siren, count: int) -> BatchedSiren:
        """``count`` copies of ``siren`` (e.g. a learned initialisation, each copy then fitted
        to its own signal). The global random state is left as it was."""
        kwargs = {
            "in_features": siren.in_features,
            "hidden_features": siren.hidden_features,
            "hidden_layers": siren.hidden_layers,
            "out_features": siren.out_features,
            "w0": siren.w0,
            "hidden_w0": siren.hidden_w0,
            "outermost_linear": siren.outermost_linear,
        }
        with torch.random.fork_rng(devices=[]):
            out = cls(count, **kwargs)
        out.load_network_state(siren.state_dict())
        return out.to(next(siren.parameters()).device)

    def extra_repr(self) -> str:
        kw = self.siren_kwargs
        return (
            f"count={self.count}, {kw['in_features']} -> {kw['hidden_features']} x "
            f"{kw['hidden_layers'] + 1} -> {kw['out_features']}, w0={kw['w0']:g}"
        )
