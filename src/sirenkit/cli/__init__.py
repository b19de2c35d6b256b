"""Command-line interface: ``sirenkit COMMAND ...``."""

from .main import main

__all__ = ["main"]
