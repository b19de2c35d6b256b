"""Velocity maps: the wave speed ``c(x)`` of a medium, evaluated at any point.

Media are described relative to a background speed of 1, so the squared slowness that enters
the Helmholtz equation is ``m = 1 / c^2`` (1 in the background). Maps are functions of the
coordinates, not grids, so a network can be supervised at random points and a finite-difference
solver can sample the same medium at its nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import SirenkitError

MediumKind = Literal["uniform", "block", "disc", "image"]


@dataclass
class VelocityMap:
    """A wave-speed map on the plane (coordinates in the units of :func:`sirenkit.grid`).

    Arguments:
        kind: ``uniform`` (speed 1 everywhere), ``block`` (a square of another speed), ``disc``
            (a disc of another speed) or ``image`` (speeds from a gray image, see ``image``).
        speed: speed inside the block or disc.
        center: centre of the block or disc, ``(x0, x1)``.
        size: half-width of the block, or radius of the disc.
        image: for ``kind='image'``, an ``(H, W)`` array in [-1, 1] covering ``extent``; -1 maps
            to ``image_range[0]`` and 1 to ``image_range[1]``; speed 1 outside the extent.
        image_range: speeds of the darkest and the brightest pixel.
        extent: half-width of the square the image covers (centred at the origin).
    """

    kind: MediumKind = "uniform"
    speed: float = 2.0
    center: tuple[float, float] = (0.0, 0.0)
    size: float = 0.2
    image: np.ndarray | None = None
    image_range: tuple[float, float] = (0.7, 1.5)
    extent: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "block", "disc", "image"):
            raise SirenkitError(
                f"unknown medium {self.kind!r}; expected uniform, block, disc or image"
            )
        if self.speed <= 0 or min(self.image_range) <= 0:
            raise SirenkitError(
                f"wave speeds must be positive, got {self.speed}, {self.image_range}"
            )
        if self.kind == "image" and (self.image is None or np.asarray(self.image).ndim != 2):
            raise SirenkitError("medium 'image' needs a 2-D gray image array")

    def velocity(self, points: torch.Tensor) -> torch.Tensor:
        """Wave speed at ``points`` ``(N, 2)``, shape ``(N,)``, same dtype and device."""
        x = points
        one = torch.ones_like(x[:, 0])
        c0, c1 = self.center
        if self.kind == "uniform":
            return one
        if self.kind == "block":
            inside = ((x[:, 0] - c0).abs() <= self.size) & ((x[:, 1] - c1).abs() <= self.size)
            return torch.where(inside, one * self.speed, one)
        if self.kind == "disc":
            r2 = (x[:, 0] - c0) ** 2 + (x[:, 1] - c1) ** 2
            return torch.where(r2 <= self.size**2, one * self.speed, one)
        return self._image_speed(x)

    def _image_speed(self, x: torch.Tensor) -> torch.Tensor:
        img = torch.as_tensor(np.asarray(self.image), dtype=x.dtype, device=x.device)
        lo, hi = self.image_range
        speeds = lo + (img.clamp(-1, 1) + 1) / 2 * (hi - lo)
        # grid_sample wants (x=width axis, y=height axis); our coordinate 0 runs along rows.
        g = torch.stack([x[:, 1], x[:, 0]], dim=-1) / self.extent
        out = F.grid_sample(
            speeds[None, None],
            g[None, None],
            mode="bilinear",
            padding_mode="border",
            align_corners=True,
        )[0, 0, 0]
        inside = (x.abs() <= self.extent).all(dim=-1)
        return torch.where(inside, out, torch.ones_like(out))

    def squared_slowness(self, points: torch.Tensor) -> torch.Tensor:
        """``1 / c^2`` at ``points`` ``(N, 2)``, shape ``(N,)``."""
        return self.velocity(points) ** -2

    def on_grid(self, n: int, half_width: float = 1.0) -> np.ndarray:
        """Speeds on an ``n x n`` grid over ``[-half_width, half_width]^2`` ('ij' order)."""
        axis = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
        pts = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
        return self.velocity(pts).reshape(n, n).numpy()


@dataclass
class MediumOptions:
    """The wave-speed map as command-line options (background speed 1); defaults are
    :class:`VelocityMap`'s."""

    medium: MediumKind = VelocityMap.kind
    """Velocity map: uniform, a square block, a disc, or a gray image (see medium_image)."""
    medium_speed: float = VelocityMap.speed
    """Wave speed inside the block or disc."""
    medium_center: tuple[float, float] = VelocityMap.center
    """Centre of the block or disc."""
    medium_size: float = VelocityMap.size
    """Half-width of the block, or radius of the disc."""
    medium_image: str | None = None
    """Image file or scikit-image name for --medium image (dark = slow, bright = fast)."""
    medium_range: tuple[float, float] = VelocityMap.image_range
    """Speeds of the darkest and brightest pixel of --medium-image."""
    medium_extent: float = VelocityMap.extent
    """Half-width of the centred square the image covers (speed 1 outside)."""

    def build(self) -> VelocityMap:
        """The map these options describe (``medium_image`` a file or built-in name)."""
        arr = None
        if self.medium == "image":
            if self.medium_image is None:
                raise SirenkitError("--medium image needs --medium-image PATH|NAME")
            from ..signals.image import load_image

            arr = load_image(self.medium_image, 128).mean(-1)
        return VelocityMap(
            kind=self.medium,
            speed=self.medium_speed,
            center=self.medium_center,
            size=self.medium_size,
            image=arr,
            image_range=self.medium_range,
            extent=self.medium_extent,
        )
