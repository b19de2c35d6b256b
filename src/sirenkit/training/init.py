"""``--init RUN``: start a fit from the weights of another run (e.g. a learned initialisation).

The source must be a run of the same task, or one that declares the task in its checkpoint's
``task_meta["init_for"]`` (``train init`` runs declare ``image`` and ``images``), and hold one
network of exactly the architecture the fit builds (compared through the module's structure:
layer sizes and frequencies). A fit of many networks (``fit images``) starts every network from
the same weights. Anything else is a one-line error raised before a run folder exists.

A ``train init`` run also holds a learned step size for every weight (Meta-SGD,
:class:`~sirenkit.nets.learned_init.LearnedInit`): the fit then takes the steps the init was
meta-trained for, plain gradient steps with those rates
(:class:`~sirenkit.training.optim.LearnedRateSGD`), instead of Adam's.
"""

from __future__ import annotations

import copy
from pathlib import Path

from torch import Tensor, nn

from ..errors import SirenkitError
from ..nets.learned_init import LearnedInit
from .checkpoint import model_from_checkpoint, read_checkpoint


def apply_init(model: nn.Module, source: str | Path, task_name: str) -> list[Tensor] | None:
    """Load the network of run ``source`` into ``model`` (into every member of a batched one).

    Arguments:
        model: the freshly built network of the fit.
        source: run folder or checkpoint file.
        task_name: the fit's task (``image``, ``images``...).

    Returns:
        The init's learned step sizes, one tensor per parameter of ``model`` (in its order),
        or None when the run has none (a fit's weights, or an init learned without them).
    """
    ckpt = read_checkpoint(source)
    made_by = ckpt.get("task")
    meta = ckpt.get("task_meta") or {}
    if task_name != made_by and task_name not in meta.get("init_for", ()):
        raise SirenkitError(
            f"--init: {source} is a {made_by!r} run; it cannot start a {task_name!r} fit"
        )
    init = model_from_checkpoint(ckpt, source)
    rates = None
    if isinstance(init, LearnedInit) and not isinstance(model, LearnedInit):  # a fit from it
        rates, init = init.step_sizes(), init.siren
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
    _load(model, init.state_dict())
    if rates is None:
        return None
    shaped = copy.deepcopy(model)  # the rates, laid out as the fit's own parameters
    _load(shaped, {k: r.detach() for k, r in rates.items()})
    return [p.detach() for p in shaped.parameters()]


def _load(model: nn.Module, state: dict[str, Tensor]) -> None:
    """A Siren state dict into ``model``, or into every network of a batched one."""
    if hasattr(model, "network"):
        model.load_network_state(state)
    else:
        model.load_state_dict(state)


def _differences(init: nn.Module, member: nn.Module) -> str:
    """The constructor arguments that differ, as ``name: init's vs this fit's``."""
    a = getattr(init, "sirenkit_spec", {})
    b = getattr(member, "sirenkit_spec", {})
    if a.get("name") != b.get("name"):
        return f"model {a.get('name')!r}, this fit builds {b.get('name')!r}"
    ka, kb = a.get("kwargs", {}), b.get("kwargs", {})
    diff = [f"{k} {ka[k]} vs {kb[k]}" for k in sorted(set(ka) & set(kb)) if ka[k] != kb[k]]
    return "; ".join(diff) + " (init vs this fit)" if diff else "layers differ"
