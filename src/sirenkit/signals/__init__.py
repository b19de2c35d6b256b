"""Signals and their I/O: sampling grids, images (audio, video and shapes in their issues)."""

from .grid import grid, spacing
from .image import BUILTIN_IMAGES, load_image, save_image

__all__ = ["BUILTIN_IMAGES", "grid", "load_image", "save_image", "spacing"]
