"""SIREN: multilayer perceptrons with sine activations (Sitzmann et al., NeurIPS 2020).

A hidden layer computes ``sin(w0 * (W x + b))``. The factor ``w0`` is applied to the weight and
bias (an ``out x in`` matrix and a vector) rather than to the ``N x out`` activations, so it
costs nothing per point while the function, the gradients and therefore Adam's training
dynamics are exactly those of the reference implementation.

Training steps go through :class:`SineFunction`, which computes the same function and the same
gradients as autograd with fewer ``N x out`` temporaries (the bias and ``w0`` ride inside one
``addmm``; the backward pass turns the saved pre-activation into ``cos(z) * grad`` in place).
Every other case (no gradients, ``torch.func`` transforms, autocast, batched inputs) uses plain
differentiable operations, so higher derivatives, ``torch.func`` and mixed precision behave
exactly as with any PyTorch module. On a CPU a :class:`Siren` takes a large batch through all
its layers in row blocks that stay in cache (:func:`block_rows`).

Under :func:`bfloat16_backward` (the loop's ``--precision bfloat16-backward``) the first-order
backward pass of :class:`SineFunction` takes its two matrix products per layer (input and
weight gradient) in bfloat16: the forward pass, and so the fitted output, stays float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SirenkitError

BiasInit = Literal["torch", "zero", "siren"]


def _init_bias(bias: torch.Tensor, fan_in: int, bound_w: float, how: BiasInit) -> None:
    """Initialise ``bias`` in place.

    ``torch`` is PyTorch's ``nn.Linear`` default, U(-1/sqrt(n), 1/sqrt(n)), which the authors'
    code keeps; ``zero`` is what the paper's distributional argument assumes; ``siren`` draws the
    bias from the same range as the weights.
    """
    with torch.no_grad():
        if how == "torch":
            bias.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
        elif how == "zero":
            bias.zero_()
        elif how == "siren":
            bias.uniform_(-bound_w, bound_w)
        else:
            raise SirenkitError(f"unknown bias_init {how!r}; expected 'torch', 'zero' or 'siren'")


_BFLOAT16_BACKWARD: ContextVar[bool] = ContextVar("sirenkit_bfloat16_backward", default=False)

LOW_BACKWARD_MIN_WIDTH = 16
"""Input width from which a layer's backward products go to bfloat16 under
:func:`bfloat16_backward`: below it (the 2 or 3 coordinates of a first layer) the products are
too thin to gain what casting the activations costs."""


@contextmanager
def bfloat16_backward(enabled: bool = True) -> Iterator[None]:
    """Within this block (of this thread), :class:`SineFunction` layers built for training
    take the matrix products of their first-order backward pass in bfloat16.

    Why it is safe where bfloat16 autocast is not: autocast rounds the *forward* output, an
    absolute error of about 1% that caps the fit (near 37.5 dB on the cameraman); here only
    the gradient is rounded, a relative error of about 0.4% whatever the residual, far below
    a minibatch's noise. ``cos(z) * grad`` and the bias gradient stay float32, and so do the
    forward pass, the parameters and the optimiser. The mode is recorded on each layer's
    graph node in the forward pass; a backward pass that is itself differentiated
    (``create_graph=True``) stays float32."""
    token = _BFLOAT16_BACKWARD.set(enabled)
    try:
        yield
    finally:
        _BFLOAT16_BACKWARD.reset(token)


def backward_operands(
    ctx, gz: torch.Tensor, x: torch.Tensor, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(gz, x, weight)`` in the dtype of the backward products: bfloat16 when the forward
    pass ran under :func:`bfloat16_backward` and this backward is not differentiated, else
    unchanged (the same tensors). A node once differentiated through (``create_graph=True``)
    is part of a higher-order computation: its later backward passes stay float32 too."""
    if torch.is_grad_enabled():
        ctx.low_backward = False
    if ctx.low_backward:
        low = torch.bfloat16
        return gz.to(low), x.to(low), weight.to(low)
    return gz, x, weight


def _functorch_active() -> bool:
    """True inside ``torch.func`` transforms (vmap, grad, jacrev...), where custom autograd
    functions that mutate saved tensors are not allowed."""
    check = getattr(torch._C, "_are_functorch_transforms_active", None)
    return bool(check()) if check is not None else True


class SineFunction(torch.autograd.Function):
    """``sin(w0 * (x W^T + b))`` for a 2-D ``x`` with a hand-written, allocation-lean backward.

    Autograd's version keeps ``x`` and ``z`` and allocates ``cos(z)`` and ``cos(z) * grad`` in
    the backward pass, each as large as the activations. Here the first backward call reuses the
    saved ``z`` for both, in place. A second backward call through the same graph (a
    ``retain_graph`` user) recomputes ``z`` from the saved inputs, and a backward pass that must
    itself be differentiable (``create_graph=True``) is written with ordinary differentiable
    operations, so double backward gives exactly autograd's result.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, w0):
        return sine_forward(ctx, _affine, x, weight, bias, w0)

    @staticmethod
    def backward(ctx, grad):
        gz, x, weight, bias, w0 = sine_backward(ctx, _affine, grad)
        gx = gw = gb = None
        gz_p, x_p, w_p = backward_operands(ctx, gz, x, weight * w0)
        if ctx.needs_input_grad[0]:
            gx = (gz_p @ w_p).to(gz.dtype)
        if ctx.needs_input_grad[1]:
            gw = weight_gradient(gz_p, x_p).to(gz.dtype) * w0
        if bias is not None and ctx.needs_input_grad[2]:
            gb = gz.sum(0) * w0
        return gx, gw, gb, None


def sine_forward(ctx, affine, x, weight, bias, w0) -> torch.Tensor:
    """``sin(affine(x, weight, bias, w0))``, saving what :func:`sine_backward` needs; the
    pre-activation is kept on ``ctx`` (an intermediate, not an input or output), to be turned
    into ``cos(z) * grad`` in place once."""
    z = affine(x, weight, bias, w0)
    ctx.save_for_backward(x, weight, bias)
    ctx.w0 = w0
    ctx.z = z
    ctx.low_backward = _BFLOAT16_BACKWARD.get() and x.shape[-1] >= LOW_BACKWARD_MIN_WIDTH
    return torch.sin(z)


def sine_backward(ctx, affine, grad: torch.Tensor) -> tuple:
    """``(cos(z) * grad, x, weight, bias, w0)``: in place on the saved ``z`` the first time,
    recomputed for a second pass through a retained graph, differentiable under
    ``create_graph=True`` (so double backward is autograd's)."""
    x, weight, bias = ctx.saved_tensors
    w0 = ctx.w0
    if torch.is_grad_enabled():
        return grad * torch.cos(affine(x, weight, bias, w0)), x, weight, bias, w0
    z, ctx.z = ctx.z, None
    if z is None:
        z = affine(x, weight, bias, w0)
    return z.cos_().mul_(grad), x, weight, bias, w0


def weight_gradient(grad_out: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``grad_out^T @ inputs`` (``(N, out)``, ``(N, in)`` -> ``(out, in)``), the weight gradient
    of a linear map, in the orientation BLAS handles well: a product with a very thin right
    factor (the ``in = 2`` or ``3`` coordinates of a first layer) is several times slower than
    the same product transposed (measured 9.5 vs 3.1 ms for 16384 x 256 by 2 on one thread)."""
    if inputs.shape[1] < grad_out.shape[1]:
        return (inputs.t() @ grad_out).t()
    return grad_out.t() @ inputs


def _affine(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, w0: float
) -> torch.Tensor:
    """``w0 * (x W^T + b)`` as one fused ``addmm`` (2-D ``x``) or ``linear``."""
    if bias is not None and x.dim() == 2:
        return torch.addmm(bias, x, weight.t(), beta=w0, alpha=w0)
    b = None if bias is None else bias * w0
    return F.linear(x, weight * w0, b)


def _use_sine_function(x: torch.Tensor) -> bool:
    """Whether a training-mode call can take :class:`SineFunction`: gradients on, a 2-D
    input, no autocast (which it would bypass) and no ``torch.func`` transform."""
    return (
        torch.is_grad_enabled()
        and x.dim() == 2
        and not torch.is_autocast_enabled(x.device.type)
        and not _functorch_active()
    )


class SineLayer(nn.Module):
    """``x -> sin(w0 * (W x + b))`` with the SIREN initialisation.

    Arguments:
        in_features: input width ``n``.
        out_features: output width.
        w0: frequency factor (30 in the paper).
        is_first: first layer draws W ~ U(-1/n, 1/n); later ones U(-sqrt(6/n)/w0, sqrt(6/n)/w0),
            which keeps every pre-activation ~N(0, 1).
        bias: whether the layer has a bias.
        bias_init: see :func:`_init_bias`; ``torch`` (the authors' choice) by default.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        w0: float = 30.0,
        is_first: bool = False,
        bias: bool = True,
        bias_init: BiasInit = "torch",
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.w0 = float(w0)
        self.is_first = is_first
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        bound = 1 / in_features if is_first else math.sqrt(6 / in_features) / self.w0
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
        if self.bias is not None:
            _init_bias(self.bias, in_features, bound, bias_init)

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """``w0 * (W x + b)``, with the factor folded into the (small) parameters."""
        return _affine(x, self.weight, self.bias, self.w0)

    def forward(self, x: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        """``sin(w0 * (W x + b))``; ``fast`` picks :class:`SineFunction` (None: when it
        applies, see :func:`_use_sine_function`)."""
        if _use_sine_function(x) if fast is None else fast and _use_sine_function(x):
            return SineFunction.apply(x, self.weight, self.bias, self.w0)
        z = self.preactivation(x)
        # Without a graph the pre-activation is a temporary: take its sine in place.
        return z.sin_() if not torch.is_grad_enabled() else torch.sin(z)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"w0={self.w0:g}, is_first={self.is_first}"
        )


class Siren(nn.Module):
    """A SIREN: one first sine layer, ``hidden_layers`` more, and an output layer.

    Mirrors the authors' ``Siren`` signature: the paper's "5-layer" image network is
    ``Siren(2, 256, 3, 1)`` (first + 3 hidden + output).

    Arguments:
        in_features: coordinate dimension.
        hidden_features: width of every hidden layer.
        hidden_layers: sine layers after the first one.
        out_features: output channels.
        w0: frequency of the first layer (30 for images; larger for audio).
        hidden_w0: frequency of the other sine layers.
        outermost_linear: linear output layer (default, as the paper) or a final sine layer.
        bias_init: bias initialisation of every layer: ``torch`` (PyTorch's default, as in the
            authors' code), ``zero`` or ``siren``; see :func:`_init_bias`.
    """

    def __init__(
        self,
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
        if min(in_features, hidden_features, out_features) < 1 or hidden_layers < 0:
            raise ValueError(
                "Siren needs positive in/hidden/out features and hidden_layers >= 0, got "
                f"{in_features=}, {hidden_features=}, {hidden_layers=}, {out_features=}"
            )
        self.in_features = in_features
        self.out_features = out_features
        self.hidden_features = hidden_features
        self.hidden_layers = hidden_layers
        self.w0 = float(w0)
        self.hidden_w0 = float(hidden_w0)
        self.outermost_linear = outermost_linear
        layers: list[nn.Module] = [
            SineLayer(
                in_features,
                hidden_features,
                w0=w0,
                is_first=True,
                bias_init=bias_init,
            )
        ]
        for _ in range(hidden_layers):
            layers.append(
                SineLayer(
                    hidden_features,
                    hidden_features,
                    w0=hidden_w0,
                    bias_init=bias_init,
                )
            )
        if outermost_linear:
            last = nn.Linear(hidden_features, out_features)
            bound = math.sqrt(6 / hidden_features) / hidden_w0
            with torch.no_grad():
                last.weight.uniform_(-bound, bound)
            _init_bias(last.bias, hidden_features, bound, bias_init)
            layers.append(last)
        else:
            layers.append(
                SineLayer(
                    hidden_features,
                    out_features,
                    w0=hidden_w0,
                    bias_init=bias_init,
                )
            )
        self.net = nn.Sequential(*layers)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``coords`` of shape ``(..., in_features)``; returns ``(..., out)``.

        Coordinates that require gradients mean input derivatives are coming (a Laplacian, an
        Eikonal term), whose backward passes are differentiated again: those go through plain
        autograd, which keeps the pre-activations for that, instead of :class:`SineFunction`.
        Otherwise a large batch on the CPU runs in row blocks (:func:`block_rows`).
        """
        fast = not coords.requires_grad
        rows = block_rows(coords) if fast else None
        if rows is None:
            return self._layers(coords, fast)
        return torch.cat([self._layers(block, fast) for block in coords.split(rows)])

    def _layers(self, h: torch.Tensor, fast: bool) -> torch.Tensor:
        for layer in self.net:
            h = layer(h, fast=fast) if isinstance(layer, SineLayer) else layer(h)
        return h


BLOCK_ROWS_PER_THREAD = 1024
"""Rows of a CPU block per intra-op thread (:func:`block_rows`): a thousand 256-wide rows (1 MB)
stay in cache from one layer to the next, and each thread's share of a product is still
large enough to run at a large product's rate (``python -m benchmarks.row_blocks`` measures
what the blocks save)."""


def block_rows(x: torch.Tensor) -> int | None:
    """The row blocks in which a :class:`Siren` runs ``x`` through all its layers, or None
    for one pass over the whole batch.

    On a CPU a 16384 x 256 activation (16 MB) does not stay in cache from one layer's matrix
    product to the next, nor from the forward pass to the backward one. A block of a thousand
    rows does: the forward pass takes each block through every layer, and autograd, which
    runs the most recently created ready node first, takes each block's backward pass through
    every layer before the next block's (each weight's gradient is the sum over the blocks).
    Blocks apply to inference and to training through :class:`SineFunction`; under autocast,
    ``torch.func`` transforms or on other devices (a GPU wants the whole batch in one kernel)
    the batch runs whole."""
    if x.device.type != "cpu" or x.dim() != 2 or _functorch_active():
        return None
    if torch.is_grad_enabled() and not _use_sine_function(x):
        return None
    rows = BLOCK_ROWS_PER_THREAD * torch.get_num_threads()
    return rows if x.shape[0] >= 2 * rows else None
