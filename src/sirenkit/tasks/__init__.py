"""Tasks: what to fit and how to measure it (image; audio, video, SDF, PDEs, priors follow)."""

from .base import Task
from .image import FitImageConfig, ImageTask

__all__ = ["FitImageConfig", "ImageTask", "Task"]
