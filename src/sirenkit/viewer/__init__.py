"""A local, read-only web viewer over run folders (``sirenkit view RUNS_DIR``)."""

from .server import ViewConfig, make_server, view_command

__all__ = ["ViewConfig", "make_server", "view_command"]
