"""Conditional neural process (Garnelo et al., ICML 2018): the baseline of the paper's Table.

An MLP encodes each observed ``(coordinate, value)`` pair, the mean of the encodings is the
representation ``r``, and a second MLP maps ``(r, query coordinate)`` to a Gaussian (mean and
standard deviation) per pixel. It is trained on the Gaussian negative log-likelihood, as in the
original; completions use the mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoders import SetEncoder, query_points, relu_mlp


class ConditionalNeuralProcess(nn.Module):
    """Set encoder plus an MLP decoder on ``(representation, coordinate)``.

    Arguments:
        channels: image channels.
        resolution: image size ``(H, W)``.
        latent: size of the representation ``r``.
        encoder_hidden: width of the encoder (Garnelo et al.: 128).
        encoder_layers: linear layers of the encoder (3).
        decoder_hidden: width of the decoder (128).
        decoder_layers: linear layers of the decoder (5).
        min_sigma: floor of the predicted standard deviation (keeps the likelihood bounded).
    """

    def __init__(
        self,
        channels: int,
        resolution: tuple[int, int] | list[int],
        latent: int = 128,
        encoder_hidden: int = 128,
        encoder_layers: int = 3,
        decoder_hidden: int = 128,
        decoder_layers: int = 5,
        min_sigma: float = 0.01,
    ) -> None:
        super().__init__()
        self.resolution = tuple(int(r) for r in resolution)
        self.channels = channels
        self.min_sigma = min_sigma
        self.encoder = SetEncoder(2 + channels, encoder_hidden, encoder_layers, latent)
        sizes = [latent + 2] + [decoder_hidden] * (decoder_layers - 1) + [2 * channels]
        self.decoder = relu_mlp(sizes)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        coords: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Predictive mean ``(B, N, C)`` and ``{"sigma": (B, N, C)}`` at the query ``coords``.

        Arguments and defaults as :meth:`sirenkit.nets.hypernet.SirenPrior.forward`.
        """
        r = self.encoder(image, mask)
        coords = query_points(coords, self.resolution, image)
        out = self.decoder[1:](self._first_layer(r, coords))
        mean, raw = out.split(self.channels, dim=-1)
        sigma = self.min_sigma + (1 - self.min_sigma) * F.softplus(raw)
        return mean, {"sigma": sigma}

    def _first_layer(self, r: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """The decoder's first linear layer on ``cat(r, coords)``, computed in two parts.

        ``W [r; x] + b = (W_r r + b) + W_x x``: the representation's part once per image, the
        coordinates' part once per query point (shared by the batch when ``coords`` is 2-D),
        instead of a ``latent + 2`` wide product at every pixel of every image. Same weights
        (and checkpoints) as the plain layer.
        """
        first = self.decoder[0]
        k = r.shape[-1]
        per_image = F.linear(r, first.weight[:, :k], first.bias)  # (B, hidden)
        per_point = coords @ first.weight[:, k:].t()  # (N, hidden) or (B, N, hidden)
        return per_image[:, None, :] + per_point
