"""Hypernetworks over SIRENs: a latent code in, every parameter of a SIREN out (paper Sec. 4.4).

The emitted SIRENs of a whole batch are evaluated at once with :func:`torch.func.vmap` over
:func:`torch.func.functional_call` on one template :class:`~sirenkit.nets.siren.Siren`, so the
emitted network is exactly the library's ``Siren`` (same layers, same ``w0`` folding), with no
second, hand-written "meta" implementation to keep in sync.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

from .encoders import ConvEncoder, SetEncoder, query_points, relu_mlp
from .siren import Siren

Params = dict[str, torch.Tensor]


def batched_siren(template: nn.Module, params: Params, coords: torch.Tensor) -> torch.Tensor:
    """Evaluate ``template`` with each of a batch of parameter sets.

    Arguments:
        template: the network whose parameters are replaced (its own values are not used).
        params: name -> tensor ``(B, *shape)``, one entry per parameter of ``template``.
        coords: ``(N, d)`` shared by all, or ``(B, N, d)`` per network.

    Returns:
        ``(B, N, out_features)``.
    """

    def one(p: Params, x: torch.Tensor) -> torch.Tensor:
        return functional_call(template, p, (x,))

    return vmap(one, in_dims=(0, 0 if coords.ndim == 3 else None))(params, coords)


class HyperNetwork(nn.Module):
    """One ReLU MLP head per SIREN parameter tensor, all reading the same latent code.

    Each head's last layer is initialised so that its output is a fresh SIREN initialisation
    of that tensor (the bias) plus a small code-dependent term (weights scaled to
    ``init_scale`` times the tensor's init range): training starts from SIRENs that are
    well-behaved functions, as the paper's hypernetwork initialisation intends.

    Arguments:
        latent: size of the code.
        siren: constructor keyword arguments of the emitted :class:`Siren`.
        hidden: width of the heads' hidden layers.
        layers: linear layers per head (at least 1).
        init_scale: size of the code-dependent part at init, relative to the SIREN init range.
    """

    def __init__(
        self,
        latent: int,
        siren: dict[str, Any],
        hidden: int = 256,
        layers: int = 2,
        init_scale: float = 0.1,
    ) -> None:
        super().__init__()
        template = Siren(**siren)
        # Kept out of the module tree: not trained, not saved, never moved between devices.
        object.__setattr__(self, "template", template)
        self.names = [n for n, _ in template.named_parameters()]
        self.shapes = [tuple(p.shape) for _, p in template.named_parameters()]
        self.heads = nn.ModuleList()
        for p in template.parameters():
            head = relu_mlp([latent] + [hidden] * (layers - 1) + [p.numel()])
            last = head[-1]
            bound = float(p.detach().abs().max())
            with torch.no_grad():
                last.weight.mul_(init_scale * bound)
                last.bias.copy_(p.detach().reshape(-1))
            self.heads.append(head)

    def forward(self, z: torch.Tensor) -> Params:
        """The SIREN parameters of each code ``z`` ``(B, latent)``: name -> ``(B, *shape)``."""
        return {
            name: head(z).reshape(z.shape[0], *shape)
            for name, shape, head in zip(self.names, self.shapes, self.heads, strict=True)
        }

    def render(self, params: Params, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate the emitted SIRENs at ``coords``; see :func:`batched_siren`."""
        return batched_siren(self.template, params, coords)


def mean_square(params: Params) -> torch.Tensor:
    """Mean of the squared emitted parameters over all tensors and the batch (the paper's
    weight regulariser: every parameter counts once, whatever tensor it is in)."""
    total = sum(p.pow(2).sum() for p in params.values())
    return total / sum(p.numel() for p in params.values())


class SirenPrior(nn.Module):
    """Encoder -> latent code -> hypernetwork -> SIREN, rendering whole images from a few pixels.

    Arguments:
        channels: image channels.
        resolution: image size ``(H, W)``; the SIREN is evaluated on ``grid(resolution)``.
        encoder: ``set`` (MLP over observed pixels, mean-pooled) or ``conv``.
        latent: size of the code.
        encoder_hidden: width of the encoder.
        encoder_layers: linear layers of the set encoder (the conv encoder's depth follows from
            the resolution).
        siren_hidden: width of the emitted SIREN.
        siren_layers: linear layers of the emitted SIREN, input and output included.
        w0: first-layer ``w0`` of the emitted SIREN.
        hidden_w0: ``w0`` of its other sine layers.
        hyper_hidden: width of the hypernetwork heads.
        hyper_layers: linear layers per head.
        bias_init: bias initialisation of the template SIREN (see :class:`Siren`), which the
            heads' biases start from.
    """

    def __init__(
        self,
        channels: int,
        resolution: tuple[int, int] | list[int],
        encoder: str = "set",
        latent: int = 128,
        encoder_hidden: int = 128,
        encoder_layers: int = 3,
        siren_hidden: int = 64,
        siren_layers: int = 3,
        w0: float = 30.0,
        hidden_w0: float = 30.0,
        hyper_hidden: int = 128,
        hyper_layers: int = 2,
        bias_init: str = "torch",
    ) -> None:
        super().__init__()
        self.resolution = tuple(int(r) for r in resolution)
        if encoder == "set":
            self.encoder = SetEncoder(2 + channels, encoder_hidden, encoder_layers, latent)
        elif encoder == "conv":
            self.encoder = ConvEncoder(channels, encoder_hidden, latent, self.resolution)
        else:
            raise ValueError(f"encoder must be 'set' or 'conv', got {encoder!r}")
        siren = {
            "in_features": 2,
            "hidden_features": siren_hidden,
            "hidden_layers": siren_layers - 2,
            "out_features": channels,
            "w0": w0,
            "hidden_w0": hidden_w0,
            "bias_init": bias_init,
        }
        self.hyper = HyperNetwork(latent, siren, hyper_hidden, hyper_layers)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        coords: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Complete images from their observed pixels.

        Arguments:
            image: ``(B, H, W, C)`` values (only observed ones are read).
            mask: ``(B, H, W)`` bool, True where observed.
            coords: query points ``(N, 2)`` or ``(B, N, 2)``; default the whole pixel grid.

        Returns:
            Prediction ``(B, N, C)`` and the regularisers ``latent_l2`` (mean squared code)
            and ``param_l2`` (mean squared emitted parameter).
        """
        z = self.encoder(image, mask)
        params = self.hyper(z)
        pred = self.hyper.render(params, query_points(coords, self.resolution, image))
        return pred, {"latent_l2": z.pow(2).mean(), "param_l2": mean_square(params)}
