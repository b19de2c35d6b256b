"""``sirenkit render``: evaluate a trained image network at any resolution, or an audio
network at any sample rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from ..errors import SirenkitError, require_positive

IMAGE_RENDERER = "sirenkit.cli.render:render_image_run"
"""The renderer of networks that map the [-1, 1] plane to pixel values (image, poisson, blend
runs): what the viewer's zoom can re-render."""

RENDERERS_BY_TASK = {"image": IMAGE_RENDERER, "audio": "sirenkit.cli.render:render_audio_run"}
"""Renderers of checkpoints written before ``Task.renderer`` was stored in them."""


def renderer_of(ckpt: dict) -> str | None:
    """The ``'module:function'`` that re-renders a checkpoint's network (None: none does)."""
    return ckpt.get("renderer") or RENDERERS_BY_TASK.get(ckpt.get("task"))


@dataclass
class RenderConfig:
    """Render a trained image network (run folder or checkpoint) to a PNG at any size, or an
    audio network to a WAV at any sample rate (--rate)."""

    checkpoint: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN|CKPT")]
    """Run folder or checkpoint.pt of an image or audio run."""
    size: tuple[int, int] | None = None
    """Output height and width in pixels."""
    scale: float = 4.0
    """Without --size: this multiple of the training resolution."""
    rate: int | None = None
    """Audio runs: sample rate of the rendered WAV in Hz (default: the training rate); the clip
    keeps its duration."""
    out: Path | None = None
    """Output file (default: render_HxW.png in the run folder, never overwriting)."""
    chunk: int = 65536
    """Points evaluated at once; lower it to bound memory."""
    device: str = "auto"
    """Torch device (auto: CUDA when available)."""


def render_command(cfg: RenderConfig) -> Path:
    import importlib

    from ..training.checkpoint import read_checkpoint, resolve_checkpoint

    path = resolve_checkpoint(cfg.checkpoint)
    ckpt = read_checkpoint(path)
    require_positive("--chunk", cfg.chunk)
    ref = renderer_of(ckpt)
    if ref is None:
        raise SirenkitError(f"{path} is a {ckpt.get('task')!r} run, which render cannot draw")
    module, _, name = str(ref).partition(":")
    if not module.startswith("sirenkit.") or not name:  # a checkpoint never names other code
        raise SirenkitError(f"{path} names an invalid renderer {ref!r}")
    return getattr(importlib.import_module(module), name)(cfg, ckpt, path)


def render_image_run(cfg: RenderConfig, ckpt: dict, path: Path) -> Path:
    """Write an image run's network sampled on a grid of ``cfg.size`` (or ``cfg.scale``)."""
    from ..render import render
    from ..signals.image import save_pixels
    from ..training.checkpoint import model_from_checkpoint
    from ..training.loop import resolve_device
    from ..training.rundir import unique_path

    if cfg.size is not None:
        if min(cfg.size) < 1:
            raise SirenkitError(f"--size must be two positive ints, got {cfg.size}")
        shape = tuple(cfg.size)
    else:
        require_positive("--scale", cfg.scale)
        h, w = ckpt["task_meta"]["shape"]
        shape = (max(1, round(h * cfg.scale)), max(1, round(w * cfg.scale)))
    model = model_from_checkpoint(ckpt, path).to(resolve_device(cfg.device)).eval()
    # Each chunk becomes 8-bit pixels as it is drawn: the render holds the picture once,
    # in its final form, plus one chunk (not float values, coordinates and copies of both).
    pixels = render(model, shape, chunk=cfg.chunk, convert=_to_pixels)
    out = cfg.out or path.parent / f"render_{shape[0]}x{shape[1]}.png"
    out = unique_path(Path(out))
    save_pixels(out, pixels.numpy())
    print(out)
    return out


def _to_pixels(values):
    """A chunk's ``(k, m)`` values in [-1, 1] -> ``(k, m)`` uint8 pixels on the CPU."""
    import torch

    from ..signals.image import to_uint8

    return torch.from_numpy(to_uint8(values.cpu().numpy()[:, None])).reshape(values.shape)


def render_audio_run(cfg: RenderConfig, ckpt: dict, path: Path) -> Path:
    """Write an audio run's network sampled at ``cfg.rate`` as a WAV at file amplitude."""
    from ..signals.audio import save_audio
    from ..tasks.audio import render_audio
    from ..training.checkpoint import model_from_checkpoint
    from ..training.loop import resolve_device
    from ..training.rundir import unique_path

    meta = ckpt["task_meta"]
    rate = int(meta["rate"]) if cfg.rate is None else cfg.rate
    model = model_from_checkpoint(ckpt, path).to(resolve_device(cfg.device)).eval()
    samples = render_audio(model, meta, rate, cfg.chunk)
    out = unique_path(Path(cfg.out or path.parent / f"render_{rate}Hz.wav"))
    save_audio(out, samples, rate, scale=float(meta["scale"]))
    print(out)
    return out
