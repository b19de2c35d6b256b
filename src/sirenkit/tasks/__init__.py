"""Tasks: what to fit and how to measure it; each module is a config (the factory) and its task."""

from .image import FitImageConfig, ImageTask

__all__ = ["FitImageConfig", "ImageTask"]
