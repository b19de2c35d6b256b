"""``sirenkit complete`` and ``sirenkit evaluate prior``: using a trained image prior."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import tyro
from torch import nn

from ..errors import SirenkitError


@dataclass
class CompleteConfig:
    """Complete an image from a few of its pixels with a trained prior (train prior run)."""

    model: Path
    """Run folder or checkpoint.pt of a `sirenkit train prior` run."""
    image: str
    """Image file, or a scikit-image built-in name; centre-cropped and resized to the model."""
    context: str = "100"
    """Observed pixels: a count (random pixels) or 'top' (the top half)."""
    seed: int = 0
    """Seed of the random context pixels."""
    out: Path | None = None
    """Figure path (default: completion_<image>.png in the run folder, never overwriting)."""
    device: str = "auto"
    """Torch device (auto: CUDA when available)."""


@dataclass
class EvaluatePriorConfig:
    """Print the test-set completion MSE table of trained priors (the paper's Table)."""

    model: Annotated[tuple[Path, ...], tyro.conf.arg(metavar="RUN|CKPT ...")]
    """One or more runs or checkpoints of `sirenkit train prior`; one column each."""
    contexts: tuple[str, ...] = ("10", "100", "1000", "top")
    """Context settings: pixel counts or 'top'."""
    images: int | None = None
    """Score only the first this many test images (None: the whole test split)."""
    device: str = "auto"
    """Torch device (auto: CUDA when available)."""


def load_prior(path: Path, device: str) -> tuple[nn.Module, dict[str, Any], Path]:
    """The model, checkpoint dict and checkpoint path of a ``train prior`` run."""
    from ..training.checkpoint import model_from_checkpoint, read_checkpoint, resolve_checkpoint
    from ..training.loop import resolve_device

    p = resolve_checkpoint(path)
    ckpt = read_checkpoint(p)
    if ckpt.get("task") != "prior":
        raise SirenkitError(f"{p} is a {ckpt.get('task')!r} run; expected a `train prior` run")
    model = model_from_checkpoint(ckpt, p).to(resolve_device(device)).eval()
    return model, ckpt, p


def fit_to_model(img: np.ndarray, shape: tuple[int, int], channels: int) -> np.ndarray:
    """A [-1, 1] ``(H, W, C)`` image centre-cropped, resized and converted to the model's
    resolution and channel count (colour to gray by the channel mean, gray to colour by
    repetition; alpha dropped)."""
    from ..signals.datasets import centre_crop
    from ..signals.image import resize

    img = img[..., :3] if img.shape[-1] in (2, 4) else img
    img = img[..., :1] if img.shape[-1] == 2 else img
    img = resize((centre_crop(img) + 1) / 2, shape) * 2 - 1
    if img.shape[-1] != channels:
        img = img.mean(-1, keepdims=True) if channels == 1 else np.repeat(img, channels, -1)
    return img.astype(np.float32)


def complete_command(cfg: CompleteConfig) -> Path:
    from ..render import model_device
    from ..signals.datasets import fixed_context, parse_context
    from ..signals.image import load_image
    from ..tasks.prior import completion_panels
    from ..training.rundir import slug, unique_path
    from ..viz.figures import save_panels

    model, ckpt, path = load_prior(cfg.model, cfg.device)
    meta = ckpt.get("task_meta", {})
    shape = tuple(meta.get("shape", model.resolution))
    img = fit_to_model(load_image(cfg.image), shape, int(meta.get("channels", 1)))
    setting = parse_context(cfg.context)
    if setting != "top":
        setting = min(setting, shape[0] * shape[1])
    mask = fixed_context(1, shape, setting, torch.Generator().manual_seed(cfg.seed))
    dev = model_device(model)
    with torch.no_grad():
        pred, _ = model(torch.from_numpy(img)[None].to(dev), mask.to(dev))
    panels = completion_panels(img, mask[0].numpy(), pred[0].cpu().numpy(), setting)
    out = cfg.out or path.parent / f"completion_{slug(Path(cfg.image).stem)}_{setting}.png"
    out = unique_path(Path(out))
    save_panels(out, panels)
    print(f"{out}  ({panels[1].title})")
    return out


def evaluate_prior_command(cfg: EvaluatePriorConfig) -> list[dict[str, Any]]:
    from ..signals.datasets import parse_context
    from ..tasks.prior import PriorTask, TrainPriorConfig
    from ..training.config import from_dict

    settings = [parse_context(c) for c in cfg.contexts]
    columns: list[tuple[str, dict[Any, float]]] = []
    tasks: dict[str, PriorTask] = {}
    for run in cfg.model:
        model, ckpt, path = load_prior(run, cfg.device)
        run_cfg = from_dict(TrainPriorConfig, ckpt.get("config", {}))
        c = run_cfg
        key = repr((c.dataset, c.size, c.limit, c.test_fraction, c.split_seed))
        if key not in tasks:
            tasks[key] = run_cfg.setup()
        task = tasks[key]
        task.eval_images = cfg.images
        name = model.sirenkit_spec["name"]
        if name == "siren-prior":
            name = f"{model.sirenkit_spec['kwargs'].get('encoder', 'set')} encoder"
        label = f"{name} ({path.parent.name}, {task.scored_images} test images)"
        columns.append((label, {s: task.test_mse(model, s) for s in settings}))
    header = ["context", *(c[0] for c in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = []
    for s in settings:
        what = "top half" if s == "top" else f"{s} pixels"
        lines.append("| " + " | ".join([what, *(f"{c[1][s]:.4f}" for c in columns)]) + " |")
        rows.append({"context": what, **{c[0]: c[1][s] for c in columns}})
    print("test MSE (values in [-1, 1])")
    print("\n".join(lines))
    return rows
