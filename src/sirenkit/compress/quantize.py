"""Uniform per-tensor quantisation of network weights, and its straight-through version.

A tensor ``w`` becomes integers ``q = round(w / step)`` with ``step = max|w| / qmax`` (symmetric,
so zero stays exactly zero and no offset needs storing); the reconstruction ``q * step`` is off
by at most ``step / 2`` per weight. Fine-tuning through :func:`fake_quantize` (the rounding's
gradient taken as the identity, Bengio et al.'s straight-through estimator) lets the network
settle into weights that survive the rounding, which is worth about a bit per weight.
"""

from __future__ import annotations

import torch


def qmax(bits: int) -> int:
    """Largest integer of a symmetric ``bits``-bit code."""
    if not 2 <= bits <= 16:
        raise ValueError(f"bits must be in [2, 16], got {bits}")
    return 2 ** (bits - 1) - 1


def quant_step(w: torch.Tensor, bits: int) -> float:
    """The step of ``w`` at ``bits`` bits: ``max|w| / qmax`` (1 for an all-zero tensor)."""
    top = float(w.detach().abs().max())
    return top / qmax(bits) if top > 0 else 1.0


def quantize(w: torch.Tensor, step: float, bits: int) -> torch.Tensor:
    """Integers (int32) ``round(w / step)``, clipped to the ``bits``-bit range."""
    q = qmax(bits)
    return torch.round(w.detach() / step).clamp_(-q, q).to(torch.int32)


def dequantize(q: torch.Tensor, step: float) -> torch.Tensor:
    """The float32 weights ``q * step``."""
    return q.to(torch.float32) * step


def fake_quantize(w: torch.Tensor, bits: int) -> torch.Tensor:
    """``w`` rounded to its ``bits``-bit grid in the forward pass, the identity in the backward."""
    step = quant_step(w, bits)
    rounded = torch.round(w / step).clamp(-qmax(bits), qmax(bits)) * step
    return w + (rounded - w).detach()
