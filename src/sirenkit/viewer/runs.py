"""Reading run folders for the viewer: the index of runs and what one run holds.

A run folder is any folder under the runs directory with a ``config.json`` and a
``metrics.jsonl`` or ``summary.json`` (``sirenkit compare`` nests runs one level down). Records
are cached by the files' modification times, so a page that polls the index every few seconds
re-reads only the runs that changed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..training.metrics_log import read_metrics

MAX_DEPTH = 3
"""Folder levels below the runs directory searched for run folders."""
SPARK_POINTS = 60
"""Points of the loss curve sent with each index row."""
IN_PROGRESS_SECONDS = 120.0
"""A run without summary.json whose metrics changed this recently is shown as running."""
WATCHED = ("config.json", "metrics.jsonl", "summary.json")
"""Files whose modification times decide whether a cached index row is stale."""
KNOWN_KINDS = (
    "image",
    "images",
    "audio",
    "video",
    "sdf",
    "helmholtz",
    "wave",
    "fwi",
    "prior",
    "poisson",
    "blend",
    "init",
    "solve",
    "functa",
)


def find_runs(root: Path) -> list[Path]:
    """Run folders under ``root`` (not following symlinks), sorted by path."""
    root = Path(root)
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        names = {e.name for e in entries}
        if "config.json" in names and ({"metrics.jsonl", "summary.json"} & names):
            found.append(folder)
        if depth >= MAX_DEPTH:
            return
        for e in entries:
            if e.is_dir(follow_symlinks=False) and not e.name.startswith("."):
                walk(Path(e.path), depth + 1)

    walk(root, 0)
    return sorted(found)


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _downsample(values: list[float], n: int = SPARK_POINTS) -> list[float]:
    if len(values) <= n:
        return values
    step = (len(values) - 1) / (n - 1)
    return [values[round(i * step)] for i in range(n)]


def guess_task(folder: Path, summary: dict | None) -> str:
    """The task of a run: summary.json's, else the first word of the folder name if known."""
    if summary and isinstance(summary.get("task"), str):
        return summary["task"]
    head = folder.name.split("-")[0]
    return head if head in KNOWN_KINDS else "?"


LEGACY_VIEWS = {
    "image": ["image"],
    "poisson": ["image"],
    "audio": ["audio"],
    "video": ["video"],
    "sdf": ["sdf"],
}
"""The views of run folders written before runs recorded theirs (config.json ``_views``)."""


def run_views(config: dict[str, Any] | None, task: str) -> list[str]:
    """What the viewer shows of a run (its task's :attr:`~sirenkit.training.task.Task.views`,
    as its config.json records them; ``config`` None: unreadable)."""
    views = (config or {}).get("_views")
    if isinstance(views, list) and all(isinstance(v, str) for v in views):
        return views
    return LEGACY_VIEWS.get(task, [])


def run_record(root: Path, folder: Path) -> dict[str, Any]:
    """One index row: task, signal, model, steps, headline metrics, date, state, loss curve."""
    summary = read_json(folder / "summary.json")
    config = read_json(folder / "config.json") or {}
    records = read_metrics(folder / "metrics.jsonl") if (folder / "metrics.jsonl").exists() else []
    train_steps = [r for r in records if not r.get("eval")]
    evals = [r for r in records if r.get("eval")]
    metrics: dict[str, float] = {}
    if summary:
        skip = {
            "task",
            "signal",
            "model",
            "parameters",
            "steps",
            "train_seconds",
            "seconds_per_step",
        }
        metrics = {k: v for k, v in summary.items() if k not in skip and _number(v)}
    elif evals:
        metrics = {k: v for k, v in evals[-1].items() if k not in ("step", "time", "eval")}
    model = config.get("model", {}) if isinstance(config.get("model"), dict) else {}
    planned = (
        config.get("train", {}).get("steps") if isinstance(config.get("train"), dict) else None
    )
    step = (summary or {}).get("steps") or (records[-1].get("step") if records else 0)
    changed = max(_mtime(folder / "metrics.jsonl"), _mtime(folder / "summary.json"))
    if summary:
        state = "done"
    elif time.time() - changed < IN_PROGRESS_SECONDS:
        state = "running"
    else:
        state = "stopped"
    return {
        "id": folder.resolve().relative_to(root.resolve()).as_posix(),
        "task": guess_task(folder, summary),
        "views": run_views(config, guess_task(folder, summary)),
        "signal": (summary or {}).get("signal", ""),
        "model": (summary or {}).get("model") or model.get("name", ""),
        "size": f"{model.get('hidden', '')}x{model.get('layers', '')}" if model else "",
        "parameters": (summary or {}).get("parameters"),
        "steps": step,
        "planned_steps": planned,
        "train_seconds": (summary or {}).get("train_seconds"),
        "metrics": metrics,
        "date": _mtime(folder / "config.json"),
        "updated": changed,
        "state": state,
        "loss": _downsample(
            [r["loss"] for r in train_steps if _number(r.get("loss"))], SPARK_POINTS
        ),
    }


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@dataclass
class RunIndex:
    """Index rows of every run under ``root``, re-read only when a run's files changed."""

    root: Path
    _cache: dict[Path, tuple[tuple[float, float, float], dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rows(self) -> list[dict[str, Any]]:
        out = []
        folders = find_runs(self.root)
        with self._lock:
            for folder in folders:
                key = tuple(
                    _mtime(folder / n) for n in ("config.json", "metrics.jsonl", "summary.json")
                )
                hit = self._cache.get(folder)
                if hit is None or hit[0] != key or hit[1]["state"] == "running":
                    hit = (key, run_record(self.root, folder))
                    self._cache[folder] = hit
                out.append(hit[1])
            for gone in set(self._cache) - set(folders):
                del self._cache[gone]
        return out


def list_files(folder: Path) -> list[dict[str, Any]]:
    """The regular files directly in a run folder (name, size), hidden temporaries left out."""
    out = []
    for e in sorted(os.scandir(folder), key=lambda e: e.name):
        if e.name.startswith(".") or not e.is_file(follow_symlinks=False):
            continue
        out.append({"name": e.name, "size": e.stat().st_size})
    return out


def run_detail(root: Path, folder: Path) -> dict[str, Any]:
    """What a run page needs besides its files: the index row, config, summary and files."""
    row = run_record(root, folder)
    return {
        **row,
        "config": read_json(folder / "config.json"),
        "summary": read_json(folder / "summary.json"),
        "files": list_files(folder),
    }


def metrics_since(path: Path, offset: int, limit: int = 4 << 20) -> tuple[list[dict], int]:
    """Records appended to ``metrics.jsonl`` after byte ``offset``, and the new offset.

    A torn last line (being written) is left for the next poll; ``limit`` bytes at most are
    read per call, so a huge log streams in pieces.
    """
    try:
        size = path.stat().st_size
    except OSError:
        return [], 0
    if offset > size:  # the log was rewritten (a resumed run drops records): start over
        offset = 0
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read(min(limit, size - offset))
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out, offset + end
