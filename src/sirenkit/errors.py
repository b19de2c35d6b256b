"""User-facing errors.

Everything that is the user's input being wrong (a missing file, a bad size, a corrupt
checkpoint) raises :class:`SirenkitError` with a message that names the problem. The CLI
prints that message on one line and exits non-zero; programmatic users can catch it.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any


class SirenkitError(ValueError):
    """A problem with the user's input, reported without a traceback by the CLI."""


class ForeignRun(SirenkitError):
    """``--resume`` was given a run folder of another command; ``config`` names the config
    class ("module:Class") that wrote it, so the CLI can name the command to use instead."""

    def __init__(self, message: str, config: str | None) -> None:
        super().__init__(message)
        self.config = config


def require_positive(name: str, value: float | int | None, *, allow_none: bool = False) -> None:
    """Raise a clear error unless ``value`` is a positive number (NaN is not)."""
    if value is None and allow_none:
        return
    if value is None or not value > 0:
        raise SirenkitError(f"{name} must be positive, got {value!r}")


def flag(name: str) -> str:
    """The command-line flag of a config field (tyro's spelling, prefixes omitted)."""
    return "--" + name.replace("_", "-")


def require_finite_options(cfg: Any) -> None:
    """Raise a clear error naming the flag if any float of the (nested) dataclass ``cfg``,
    tuples included, is NaN or infinite: no option means anything there, and a NaN slips
    through every range check written as a comparison."""

    def walk(value: Any, name: str) -> None:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name), f.name)
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item, name)
        elif isinstance(value, float) and not math.isfinite(value):
            raise SirenkitError(f"{flag(name)} must be a finite number, got {value}")

    walk(cfg, "")


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
