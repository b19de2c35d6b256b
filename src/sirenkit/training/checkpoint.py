"""Checkpoints: written atomically, read with validation, turned back into models."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SirenkitError
from ..nets.registry import build_model, model_spec

FORMAT = "sirenkit-checkpoint"
VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"

RENAMED_KWARGS = {"first_omega_0": "w0", "hidden_omega_0": "hidden_w0", "omega_0": "w0"}
"""Constructor arguments renamed since checkpoints were first written (old -> new): the
frequency is ``w0`` everywhere now; older checkpoints spell it the authors' way."""


def save_checkpoint(path: Path, model: nn.Module, **state: Any) -> Path:
    """Write ``model`` (its spec and weights) and ``state`` to ``path`` atomically.

    The data goes to a temporary file in the same folder, is flushed to disk, and replaces
    ``path`` in one rename: a crash leaves either the old checkpoint or the new one.
    """
    path = Path(path)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_spec(model),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        **state,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def resolve_checkpoint(path: str | Path) -> Path:
    """Accept a checkpoint file or a run folder holding ``checkpoint.pt``."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    if not p.is_file():
        raise SirenkitError(f"checkpoint not found: {p}")
    return p


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and validate a checkpoint dict (tensors on the CPU)."""
    p = resolve_checkpoint(path)
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:
        raise SirenkitError(
            f"checkpoint {p} is corrupt or not a sirenkit checkpoint ({type(e).__name__})"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise SirenkitError(f"{p} is not a sirenkit checkpoint")
    if ckpt.get("version", 0) > VERSION:
        raise SirenkitError(
            f"checkpoint {p} has format version {ckpt['version']}; this sirenkit reads up to "
            f"{VERSION}: upgrade sirenkit"
        )
    spec = ckpt.get("model")
    if isinstance(spec, dict) and isinstance(spec.get("kwargs"), dict):
        spec["kwargs"] = {RENAMED_KWARGS.get(k, k): v for k, v in spec["kwargs"].items()}
    return ckpt


def model_from_checkpoint(ckpt: dict[str, Any], source: str | Path = "checkpoint") -> nn.Module:
    """Rebuild the network stored in a checkpoint dict."""
    spec = ckpt.get("model")
    if not isinstance(spec, dict) or "name" not in spec:
        raise SirenkitError(f"{source}: checkpoint has no model description")
    model = build_model(spec["name"], **spec.get("kwargs", {}))
    saved = ckpt.get("state_dict", {})
    # a network trained (or finished) in float64 stays float64: each real tensor takes its
    # saved precision (complex ones, e.g. WIRE's, are left as they are)
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        s = saved.get(name)
        if torch.is_tensor(s) and s.is_floating_point() and t.is_floating_point():
            t.data = t.data.to(s.dtype)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, KeyError) as e:
        raise SirenkitError(f"{source}: weights do not fit model {spec['name']!r}: {e}") from None
    return model


def load(
    path: str | Path, device: str | torch.device = "cpu", *, index: int | None = None
) -> nn.Module:
    """Load the network of a checkpoint file or run folder, in eval mode.

    Arguments:
        path: ``checkpoint.pt`` or the run folder that holds it.
        device: where to put the network.
        index: for a run of many networks (``fit images``), load network ``index`` alone, as
            the standalone network it is (a ``Siren``).

    Returns:
        The ``nn.Module``, exactly as it was when the checkpoint was written.
    """
    p = resolve_checkpoint(path)
    model = model_from_checkpoint(read_checkpoint(p), p)
    if index is not None:
        pick = getattr(model, "network", None)
        if pick is None:
            raise SirenkitError(f"{p} holds one network; index={index} applies to many")
        count = model.count
        if not -count <= index < count:
            raise SirenkitError(f"{p} holds {count} networks; index {index} is out of range")
        model = pick(index)
    return model.to(device).eval()
