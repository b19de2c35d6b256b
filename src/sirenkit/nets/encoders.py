"""Encoders from a few observed pixels to a latent code (the paper's Sec. 4.4 / Fig. 6).

Both take the same input, a sparse image and its mask: ``image`` ``(B, H, W, C)`` (values at
unobserved pixels are ignored) and ``mask`` ``(B, H, W)`` bool. The set encoder sees only the
observed ``(coordinate, value)`` pairs, the convolutional encoder convolves the observed values
only, normalised by how many each window observes (partial convolutions), so that neither
depends on how dense the context is.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from ..signals.grid import grid


def relu_mlp(sizes: list[int], *, last_relu: bool = False) -> nn.Sequential:
    """Linear layers of ``sizes`` with ReLUs between them (and after the last if asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def context_pairs(
    image: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The observed pixels of a batch, packed flat: coords ``(K, 2)``, values ``(K, C)`` and
    the example each belongs to ``(K,)``, ``K`` the total count over the batch.

    Packing flat (not padding every example to the largest context) makes a batch cost what
    it observes: with contexts of 10 to 1000 pixels, the padded form would run the encoder on
    about 1000 points per example.
    """
    b, h, w, c = image.shape
    example, pixel = mask.reshape(b, h * w).nonzero(as_tuple=True)
    coords = grid((h, w), device=image.device, dtype=image.dtype)[pixel]
    return coords, image.reshape(b, h * w, c)[example, pixel], example


def query_points(
    coords: torch.Tensor | None, resolution: tuple[int, int], like: torch.Tensor
) -> torch.Tensor:
    """``coords``, or by default every pixel centre of ``resolution`` (``grid`` order)."""
    if coords is not None:
        return coords
    return grid(resolution, device=like.device, dtype=like.dtype)


class SetEncoder(nn.Module):
    """A ReLU MLP on every ``(coordinate, value)`` pair, mean-pooled over the observed ones.

    Arguments:
        in_features: coordinate dimension plus value channels.
        hidden: width of the hidden layers.
        layers: linear layers in all (at least 1).
        latent: size of the code.
    """

    def __init__(self, in_features: int, hidden: int, layers: int, latent: int) -> None:
        super().__init__()
        self.mlp = relu_mlp([in_features] + [hidden] * (layers - 1) + [latent])

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        coords, values, example = context_pairs(image, mask)
        feats = self.mlp(torch.cat([coords, values], dim=-1))
        sums = feats.new_zeros(image.shape[0], feats.shape[-1]).index_add_(0, example, feats)
        counts = mask.flatten(1).sum(1, keepdim=True).clamp_min(1).to(feats.dtype)
        return sums / counts


class PartialConv2d(nn.Conv2d):
    """A convolution that sees only observed inputs, rescaled by how many it sees.

    Partial convolution (Liu et al., ECCV 2018): a window's response is the convolution of the
    masked input times ``window size / observed count`` (plus bias), zero where the window holds
    no observed input, and the output mask marks the windows that held one. A window averages
    over what it observes instead of summing, so features keep their scale whether 10 or 1000
    pixels are observed: the encoder's input statistics no longer depend on context density.
    """

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(B, C, H, W)`` and ``mask`` ``(B, 1, H, W)`` float 0/1 -> output, its mask."""
        ones = torch.ones(1, 1, *self.kernel_size, dtype=x.dtype, device=x.device)
        with torch.no_grad():
            count = F.conv2d(mask, ones, stride=self.stride, padding=self.padding)
            seen = (count > 0).to(x.dtype)
            scale = self.kernel_size[0] * self.kernel_size[1] / count.clamp_min(1.0) * seen
        out = F.conv2d(x * mask, self.weight, None, self.stride, self.padding)
        out = out * scale
        if self.bias is not None:
            out = out + self.bias[:, None, None] * seen
        return out, seen


class ConvEncoder(nn.Module):
    """Partial convolutions over the observed pixels, then a linear map to the code.

    Stride-2 3x3 partial convolutions (:class:`PartialConv2d`) halve the resolution down to
    about 4x4 (ReLU between); the feature maps and the final mask (which cells saw any observed
    pixel) are flattened and mapped to the code, so every position contributes with its own
    weights (as the authors' encoder's final per-position linear layer). Because each window
    averages what it observes, the code stays meaningful from 10 observed pixels to all of them.

    Arguments:
        channels: value channels of the images.
        hidden: feature maps of every convolution.
        latent: size of the code.
        resolution: image size ``(H, W)``.
    """

    def __init__(self, channels: int, hidden: int, latent: int, resolution: tuple[int, int]):
        super().__init__()
        self.convs = nn.ModuleList([PartialConv2d(channels, hidden, 3, padding=1)])
        h, w = resolution
        while min(h, w) > 4:
            self.convs.append(PartialConv2d(hidden, hidden, 3, stride=2, padding=1))
            h, w = (h + 1) // 2, (w + 1) // 2
        self.fc = nn.Linear((hidden + 1) * h * w, latent)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = image.permute(0, 3, 1, 2)
        m = mask[:, None].to(image.dtype)
        for conv in self.convs:
            x, m = conv(x, m)
            x = torch.relu(x)
        return self.fc(torch.cat([x, m], dim=1).flatten(1))
