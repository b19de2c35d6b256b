"""Encoders from a few observed pixels to a latent code (the paper's Sec. 4.4 / Fig. 6).

Both take the same input, a sparse image and its mask: ``image`` ``(B, H, W, C)`` (values at
unobserved pixels are ignored) and ``mask`` ``(B, H, W)`` bool. The set encoder sees only the
observed ``(coordinate, value)`` pairs, the convolutional encoder sees the masked image.
"""

from __future__ import annotations

import itertools

import torch
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


def context_set(
    image: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The observed pixels as a padded set: coords ``(B, K, 2)``, values ``(B, K, C)``, valid.

    ``K`` is the largest context in the batch, so a batch of 10-pixel contexts costs 10 points
    per example, not ``H * W``.
    """
    b, h, w, c = image.shape
    flat = mask.reshape(b, h * w)
    k = max(1, int(flat.sum(1).max()))
    # stable sort puts observed pixels first, in raster order
    idx = torch.argsort((~flat).to(torch.uint8), dim=1, stable=True)[:, :k]
    coords = grid((h, w), device=image.device, dtype=image.dtype)[idx]
    values = torch.gather(image.reshape(b, h * w, c), 1, idx[..., None].expand(b, k, c))
    return coords, values, torch.gather(flat, 1, idx)


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

    def pool(self, coords: torch.Tensor, values: torch.Tensor, valid: torch.Tensor):
        """Masked mean of the MLP over a padded set ``(B, K, .)``; returns ``(B, latent)``."""
        feats = self.mlp(torch.cat([coords, values], dim=-1))
        weight = valid.to(feats.dtype)[..., None]
        return (feats * weight).sum(1) / weight.sum(1).clamp_min(1.0)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pool(*context_set(image, mask))


class ConvEncoder(nn.Module):
    """Convolutions over the masked image and its mask, then a linear map to the code.

    Stride-2 3x3 convolutions halve the resolution down to about 4x4 (ReLU between), the
    result is flattened and mapped to the code, so every position contributes with its own
    weights (as the authors' encoder's final per-position linear layer).

    Arguments:
        channels: value channels of the images.
        hidden: feature maps of every convolution.
        latent: size of the code.
        resolution: image size ``(H, W)``.
    """

    def __init__(self, channels: int, hidden: int, latent: int, resolution: tuple[int, int]):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels + 1, hidden, 3, padding=1), nn.ReLU()]
        h, w = resolution
        while min(h, w) > 4:
            layers += [nn.Conv2d(hidden, hidden, 3, stride=2, padding=1), nn.ReLU()]
            h, w = (h + 1) // 2, (w + 1) // 2
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(hidden * h * w, latent)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask[..., None].to(image.dtype)
        x = torch.cat([image * m, m], dim=-1).permute(0, 3, 1, 2)
        return self.fc(self.conv(x).flatten(1))
