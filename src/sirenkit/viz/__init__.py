"""Figures for run folders."""

from .figures import Panel, plot_history, pyplot, save_panels

__all__ = ["Panel", "plot_history", "pyplot", "save_panels"]
