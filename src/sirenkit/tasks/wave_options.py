"""CLI options shared by the wave-physics commands (medium, layer, source)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..physics.media import VelocityMap, medium_from_options
from ..physics.pml import PML


@dataclass
class MediumOptions:
    """The wave-speed map (background speed 1)."""

    medium: Literal["uniform", "block", "disc", "image"] = "uniform"
    """Velocity map: uniform, a square block, a disc, or a gray image (see medium_image)."""
    medium_speed: float = 2.0
    """Wave speed inside the block or disc."""
    medium_center: tuple[float, float] = (0.0, 0.0)
    """Centre of the block or disc."""
    medium_size: float = 0.2
    """Half-width of the block, or radius of the disc."""
    medium_image: str | None = None
    """Image file or scikit-image name for --medium image (dark = slow, bright = fast)."""
    medium_range: tuple[float, float] = (0.7, 1.5)
    """Speeds of the darkest and brightest pixel of --medium-image."""
    medium_extent: float = 0.5
    """Half-width of the centred square the image covers (speed 1 outside)."""

    def build(self) -> VelocityMap:
        return medium_from_options(
            self.medium,
            speed=self.medium_speed,
            center=self.medium_center,
            size=self.medium_size,
            image=self.medium_image,
            image_range=self.medium_range,
            extent=self.medium_extent,
        )


@dataclass
class PMLOptions:
    """The absorbing layer on the border of [-1, 1]^2."""

    pml_thickness: float = 0.5
    """Layer thickness (paper: 0.5); the physical domain is [-1 + t, 1 - t]^2."""
    pml_a0: float = 5.0
    """Layer strength a0 (paper: 5); 0 turns it off (then the box reflects)."""

    def build(self) -> PML:
        return PML(thickness=self.pml_thickness, a0=self.pml_a0)
