"""Which tasks can be compared: task name -> its fit config, task factory and figure.

Adding a task is one entry here (plus its ``CompareXConfig`` and command line): the compare
machinery only needs the task's ``fit`` config class (a ``RunOptions``), a factory that builds
the task from it, and optionally a function drawing every model's fit next to the ground truth.
References are ``module:attribute`` strings, so nothing is imported until a comparison runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comparable:
    """How to compare networks on one task."""

    config: str
    """'module:FitConfig': the task's ``fit`` configuration class (a ``RunOptions``)."""
    figure: str | None = None
    """'module:function' called as ``fn(path, task, {name: model})``; None: no figure."""


TASKS: dict[str, Comparable] = {
    "image": Comparable(
        "sirenkit.tasks.image:FitImageConfig",
        "sirenkit.compare.figures:image_figure",
    ),
    "audio": Comparable(
        "sirenkit.tasks.audio:FitAudioConfig",
    ),
}


def resolve(ref: str) -> Any:
    """The object a ``'module:attr.attr'`` reference names."""
    module, _, path = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj
