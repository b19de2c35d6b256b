"""``--init RUN``: start a fit from the weights of another run (e.g. a learned initialisation).

The source must be a run of the same task, or one that declares the task in its checkpoint's
``task_meta["init_for"]`` (``train init`` runs declare ``image`` and ``images``), and hold one
network of exactly the architecture the fit builds (compared through the module's structure:
layer sizes and frequencies). A fit of many networks (``fit images``) starts every network from
the same weights. Anything else is a one-line error raised before a run folder exists.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ..errors import SirenkitError
from .checkpoint import model_from_checkpoint, read_checkpoint


def apply_init(model: nn.Module, source: str | Path, task_name: str) -> None:
    """Load the network of run ``source`` into ``model`` (into every member of a batched one).

    Arguments:
        model: the freshly built network of the fit.
        source: run folder or checkpoint file.
        task_name: the fit's task (``image``, ``images``...).
    """
    ckpt = read_checkpoint(source)
    made_by = ckpt.get("task")
    meta = ckpt.get("task_meta") or {}
    if task_name != made_by and task_name not in meta.get("init_for", ()):
        raise SirenkitError(
            f"--init: {source} is a {made_by!r} run; it cannot start a {task_name!r} fit"
        )
    init = model_from_checkpoint(ckpt, source)
    if hasattr(init, "network"):
        raise SirenkitError(
            f"--init: {source} holds {init.count} networks; give a run of one network "
            "(train init, or a single fit)"
        )
    member = model.network(0) if hasattr(model, "network") else model
    if str(init) != str(member):
        raise SirenkitError(
            f"--init: {source} holds a different network ({_differences(init, member)})"
        )
    if hasattr(model, "network"):
        model.load_network_state(init.state_dict())
    else:
        model.load_state_dict(init.state_dict())


def _differences(init: nn.Module, member: nn.Module) -> str:
    """The constructor arguments that differ, as ``name: init's vs this fit's``."""
    a = getattr(init, "sirenkit_spec", {})
    b = getattr(member, "sirenkit_spec", {})
    if a.get("name") != b.get("name"):
        return f"model {a.get('name')!r}, this fit builds {b.get('name')!r}"
    ka, kb = a.get("kwargs", {}), b.get("kwargs", {})
    diff = [f"{k} {ka[k]} vs {kb[k]}" for k in sorted(set(ka) & set(kb)) if ka[k] != kb[k]]
    return "; ".join(diff) + " (init vs this fit)" if diff else "layers differ"
