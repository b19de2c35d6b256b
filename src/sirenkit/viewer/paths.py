"""Mapping request paths to files inside the runs folder, and nothing outside it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote


def safe_path(root: Path, rel: str) -> Path | None:
    """The file or folder ``rel`` (a URL path, percent-encoded or not) names under ``root``.

    Returns None for anything that is not strictly inside ``root`` once every symlink is
    resolved: ``..`` segments, absolute paths, backslashes, NUL bytes, encoded variants of
    these (decoded repeatedly until stable), and links that point out of the tree. The caller
    answers None with 404, so a request cannot tell a refused path from a missing one.
    """
    text = rel
    for _ in range(4):  # %252e%252e -> %2e%2e -> ..
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    else:
        return None
    if "\x00" in text or "\\" in text or text.startswith("/") or ":" in text.split("/")[0]:
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    base = root.resolve()
    try:
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if target != base and base not in target.parents:
        return None
    return target


def relative_id(root: Path, path: Path) -> str:
    """The id of a run folder: its path relative to ``root`` with '/' separators."""
    return path.resolve().relative_to(root.resolve()).as_posix()
