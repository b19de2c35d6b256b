"""Figures for run folders."""

from .figures import Panel, displayable, plot_history, pyplot, save_panels

__all__ = ["Panel", "displayable", "plot_history", "pyplot", "save_panels"]
