"""Run folders: one new folder per run, never an existing one."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import SirenkitError


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return s[:60] or "run"


def new_run_dir(root: Path, name: str) -> Path:
    """Create and return ``root/name``, or ``root/name-2``, ``-3``... if taken.

    ``mkdir`` without ``exist_ok`` claims the folder atomically, so two runs started at the
    same moment never share one.
    """
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SirenkitError(f"cannot create output folder {root}: {e}") from None
    base = slug(name)
    for i in range(1, 10_000):
        candidate = root / (base if i == 1 else f"{base}-{i}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise SirenkitError(f"too many runs named {base!r} in {root}")


def unique_path(path: Path) -> Path:
    """``path`` if free, else ``stem-2.ext``, ``stem-3.ext``...: outputs never overwrite."""
    path = Path(path)
    if not path.exists():
        return path
    for i in range(2, 10_000):
        p = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not p.exists():
            return p
    raise SirenkitError(f"too many files named like {path}")


@contextlib.contextmanager
def fresh_run_dir(root: Path, name: str, keep_if: str) -> Iterator[Path]:
    """A new run folder (:func:`new_run_dir`) that stays only if the run got somewhere.

    If the block fails before the file ``keep_if`` (the first checkpoint) exists, the files
    the run wrote are removed with the folder, so a failed start leaves no folder behind that
    holds only ``config.json``. A run that failed later keeps its folder: its checkpoint can
    be resumed or loaded.
    """
    path = new_run_dir(root, name)
    try:
        yield path
    except BaseException:
        if not (path / keep_if).exists():
            for f in path.iterdir():
                if f.is_file():
                    f.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
