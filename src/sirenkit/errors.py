"""User-facing errors.

Everything that is the user's input being wrong (a missing file, a bad size, a corrupt
checkpoint) raises :class:`SirenkitError` with a message that names the problem. The CLI
prints that message on one line and exits non-zero; programmatic users can catch it.
"""

from __future__ import annotations

from pathlib import Path


class SirenkitError(ValueError):
    """A problem with the user's input, reported without a traceback by the CLI."""


def require_positive(name: str, value: float | int | None, *, allow_none: bool = False) -> None:
    """Raise a clear error unless ``value`` is a positive number."""
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise SirenkitError(f"{name} must be positive, got {value!r}")


def require_fraction(name: str, value: float) -> None:
    """Raise a clear error unless ``value`` lies in [0, 1]."""
    if not 0 <= value <= 1:
        raise SirenkitError(f"{name} must be in [0, 1], got {value!r}")


def require_file(path: str | Path, what: str = "file") -> Path:
    """Return ``path`` as a Path if it is an existing regular file, else raise."""
    p = Path(path)
    if not p.exists():
        raise SirenkitError(f"{what} not found: {p}")
    if not p.is_file():
        raise SirenkitError(f"{what} is not a regular file: {p}")
    return p


def optional_import(module: str, extra: str, what: str):
    """Import an optional dependency, or raise an error naming the extra that installs it.

    Arguments:
        module: module name, e.g. ``"soundfile"``.
        extra: the sirenkit extra that brings it, e.g. ``"audio"``.
        what: what needs it, for the message ("audio", "meshes").
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SirenkitError(
            f"{what}: the optional package {module} is missing; pip install 'sirenkit[{extra}]'"
        ) from None
