"""Geometric initialisation of a SIREN: at step 0 it is already (close to) a sphere's SDF.

The idea is SAL's and IGR's for ReLU networks (Atzmon and Lipman 2020; Gropp et al. 2020),
carried to sine networks by DiGS (Ben-Shabat et al., CVPR 2022): start from a function with one
closed zero level set, negative inside, so that training deforms a surface instead of carving
one out of noise (the random SIREN initialisation puts zero crossings everywhere; the ones the
loss does not reach early become "ghost" surfaces).

Construction (ours; same spirit as DiGS's, with an exact radius):

- the *smooth* sine layers work in the linear regime of ``sin``: ``w0 W`` has orthonormal
  columns scaled so that pre-activations stay below ~0.1, so each layer is close to an isometry
  ``h -> Q h`` and the last hidden state ``h`` keeps ``|h| ~= |x|``;
- the last sine layer adds ``pi / 2`` to its pre-activation: ``cos(Q h) ~= 1 - (Q h)^2 / 2``;
- the linear output sums them: ``f = -(1/(r s^2)) sum cos + n/(r s^2) - r/2
  ~= (|x|^2 - r^2) / (2 r)``: zero on the sphere of radius ``r``, ``|grad f| = 1`` there,
  negative inside.

Multi-frequency part (DiGS's MFGI idea): a share ``high`` of the first layer's neurons keeps
the ordinary SIREN initialisation (frequencies up to ``w0``) but the second layer's weights
from them start at zero, so the sphere is exact at step 0 and the fine-detail neurons are one
gradient step away instead of having to be grown out of the linear regime.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import SirenkitError
from ..nets.siren import SineLayer

SCALE = 0.3
"""Root-mean-square pre-activation of the smooth neurons at the cube's corners
(``|x| = sqrt 3``): small enough that ``sin`` is linear to ~1.5% there, and better inside."""


def _orthonormal(rows: int, cols: int, generator: torch.Generator) -> torch.Tensor:
    """A ``rows x cols`` matrix with orthonormal columns (rows >= cols) or rows."""
    a = torch.randn(max(rows, cols), min(rows, cols), generator=generator)
    q, _ = torch.linalg.qr(a)
    return q if rows >= cols else q.t()


def sphere_init(
    model: nn.Module, radius: float = 0.5, *, high: float = 0.5, seed: int = 0
) -> nn.Module:
    """Initialise a :class:`~sirenkit.nets.siren.Siren` in place as the SDF of a sphere.

    Arguments:
        model: a SIREN with at least two sine layers and a linear scalar output.
        radius: radius ``r`` of the sphere, centred at the origin.
        high: share of first-layer neurons kept at SIREN frequencies (entering with zero
            weight); 0 makes every neuron smooth.
        seed: seed of the random orthonormal maps.

    Returns:
        ``model``, whose output at ``x`` is ``~(|x|^2 - r^2) / (2 r)``.
    """
    layers = list(getattr(model, "net", []))
    sines = [m for m in layers if isinstance(m, SineLayer)]
    last = layers[-1] if layers else None
    if len(sines) < 2 or not isinstance(last, nn.Linear) or last.out_features != 1:
        raise SirenkitError(
            "sphere_init needs a SIREN with at least 3 layers and a linear scalar output"
        )
    if not 0 <= high < 1:
        raise SirenkitError(f"high must be in [0, 1), got {high}")
    if radius <= 0:
        raise SirenkitError(f"radius must be positive, got {radius}")
    g = torch.Generator().manual_seed(seed)
    first = sines[0]
    width = first.out_features
    smooth = width - int(high * width)
    if smooth < first.in_features:
        raise SirenkitError(f"{smooth} smooth neurons cannot carry {first.in_features} inputs")
    s = SCALE * math.sqrt(smooth / 3.0)  # |h| = s |x|, entries ~ SCALE |x| / sqrt(3)
    with torch.no_grad():
        # first layer: smooth neurons map x isometrically (times s); the rest keep their init
        first.weight[:smooth] = s * _orthonormal(smooth, first.in_features, g) / first.w0
        first.bias[:smooth] = 0.0
        for i, layer in enumerate(sines[1:], start=1):
            q = _orthonormal(layer.out_features, layer.in_features, g)
            if i == 1:
                q[:, smooth:] = 0.0  # fine-detail neurons enter with zero weight
                q[:, :smooth] = _orthonormal(layer.out_features, smooth, g)
            layer.weight.copy_(q / layer.w0)
            layer.bias.zero_()
        penult = sines[-1]
        penult.bias.fill_(0.5 * math.pi / penult.w0)
        n = last.in_features
        c = 1.0 / (radius * s * s)
        last.weight.fill_(-c)
        last.bias.fill_(c * n - radius / 2)
    return model
