"""``sirenkit encode`` (images to modulations, one ``.npz``) and ``sirenkit decode`` (back)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import tyro

from ..errors import SirenkitError, require_positive

FORMAT = "sirenkit-functa-modulations"


@dataclass
class EncodeConfig:
    """Fit the latent modulation of every image of a dataset with a trained functa model and
    write them all to one .npz (under torchrun, each rank encodes its share)."""

    model: Path
    """Run folder or checkpoint.pt of a `sirenkit train functa` run."""
    dataset: str
    """fashion-mnist, faces, digits or a folder of images (resized to the model's size)."""
    limit: int | None = None
    """Encode only the first this many images."""
    steps: int | None = None
    """Inner gradient steps per image (default: the model's, as meta-trained)."""
    out: Path | None = None
    """Output .npz (default: <dataset>-functa.npz in the current folder)."""
    force: bool = False
    """Overwrite an existing output file."""
    chunk: int = 256
    """Images encoded at once."""
    device: str = "auto"
    """Torch device (auto: CUDA when available)."""


@dataclass
class DecodeConfig:
    """Render the modulations of a .npz written by `sirenkit encode` back to images: one PNG
    each and a contact sheet, in a new folder."""

    file: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="FILE.npz")]
    """A file written by `sirenkit encode`."""
    model: Path | None = None
    """The functa run to decode with (default: the one the file was encoded with)."""
    size: int | None = None
    """Side of the rendered images (default: the size the model was trained at)."""
    limit: int | None = None
    """Decode only the first this many."""
    out: Path | None = None
    """Output folder (default: <file>-decoded next to the file; never reused)."""
    device: str = "auto"
    """Torch device (auto: CUDA when available)."""


def load_functa(path: Path, device: str = "cpu") -> tuple[Any, dict[str, Any], Path]:
    """The model, checkpoint dict and checkpoint path of a ``train functa`` run."""
    from ..training.checkpoint import model_from_checkpoint, read_checkpoint, resolve_checkpoint
    from ..training.loop import resolve_device
    from . import model as _  # noqa: F401  (registers the network)

    p = resolve_checkpoint(path)
    ckpt = read_checkpoint(p)
    if ckpt.get("task") != "functa":
        raise SirenkitError(f"{p} is a {ckpt.get('task')!r} run; expected a `train functa` run")
    model = model_from_checkpoint(ckpt, p).to(resolve_device(device)).eval()
    return model, ckpt, p


def encode_command(cfg: EncodeConfig) -> Path | None:
    """CLI entry: ``sirenkit encode``; returns the .npz path (None on ranks other than 0)."""
    from ..signals.datasets import load_dataset
    from ..signals.grid import grid
    from ..training import distributed
    from ..training.rundir import slug
    from .task import encode

    require_positive("--chunk", cfg.chunk)
    out = cfg.out or Path(f"{slug(Path(cfg.dataset).name)}-functa.npz")
    if out.exists() and not cfg.force:
        raise SirenkitError(f"{out} exists; pass --force to overwrite it")
    if out.suffix != ".npz":
        raise SirenkitError(f"--out must end in .npz, got {out}")
    model, ckpt, path = load_functa(cfg.model, "cpu")
    h, w = ckpt["task_meta"]["shape"]
    data = load_dataset(cfg.dataset, h, cfg.limit)
    if (h, w) != data.shape or data.channels != model.siren.out_features:
        raise SirenkitError(
            f"{cfg.dataset}: {data.shape}x{data.channels} images; the model wants "
            f"{(h, w)}x{model.siren.out_features}"
        )
    if cfg.steps is not None and cfg.steps < 0:
        raise SirenkitError(f"--steps must be >= 0, got {cfg.steps}")
    with distributed.session(cfg.device) as ctx:
        from ..training.loop import resolve_device

        device = distributed.local_device(resolve_device(cfg.device), ctx)
        model.to(device)
        mine = torch.arange(len(data))
        if ctx is not None:
            mine = torch.tensor_split(mine, ctx.world)[ctx.rank]
        images = data.values(mine).reshape(len(mine), -1, data.channels).to(device)
        latents, quality = encode(model, grid((h, w), device=device), images, cfg.steps, cfg.chunk)
        parts = gather([latents.cpu(), quality.cpu()], ctx)
        if ctx is not None and not ctx.main:
            return None
    latents, quality = (torch.cat(p).numpy() for p in zip(*parts, strict=True))
    payload = {
        "format": FORMAT,
        "modulations": latents.astype(np.float32),
        "psnr": quality.astype(np.float32),
        "shape": np.array([h, w, data.channels]),
        "model": str(path.resolve()),
        "dataset": data.name,
        "steps": model.inner_steps if cfg.steps is None else cfg.steps,
    }
    from ..compress.cli import write_new

    write_new(out, _npz_bytes(payload), cfg.force)
    print(
        f"{out}: {len(latents)} modulations of size {latents.shape[1]}, "
        f"PSNR {quality.mean():.2f} dB on average"
    )
    return out


def gather(tensors: list[torch.Tensor], ctx) -> list[list[torch.Tensor]]:
    """Every rank's ``tensors`` in rank order, on every rank (``[tensors]`` in one process)."""
    if ctx is None:
        return [tensors]
    import torch.distributed as dist

    box: list[Any] = [None] * ctx.world
    dist.all_gather_object(box, tensors)
    return box


def _npz_bytes(payload: dict[str, Any]) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **payload)
    return buf.getvalue()


def read_modulations(path: Path) -> dict[str, Any]:
    """The arrays of a ``sirenkit encode`` file, validated."""
    from ..errors import require_file

    p = require_file(path, "modulations file")
    try:
        with np.load(p, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as e:  # zipfile, pickle and format errors all mean "not our file"
        raise SirenkitError(f"{p} is not a readable .npz ({type(e).__name__})") from None
    if str(data.get("format", "")) != FORMAT or data["modulations"].ndim != 2:
        raise SirenkitError(f"{p} was not written by `sirenkit encode`")
    return data


def decode_command(cfg: DecodeConfig) -> Path:
    """CLI entry: ``sirenkit decode``."""
    from ..render import model_device
    from ..signals.grid import grid
    from ..signals.image import save_image
    from ..training.rundir import new_run_dir
    from ..viz.sheets import contact_sheet

    if cfg.limit is not None:
        require_positive("--limit", cfg.limit)
    data = read_modulations(cfg.file)
    model, ckpt, _ = load_functa(cfg.model or Path(str(data["model"])), cfg.device)
    z = torch.from_numpy(data["modulations"][: cfg.limit])
    if z.shape[1] != model.latent:
        raise SirenkitError(
            f"{cfg.file} holds modulations of size {z.shape[1]}; the model's are {model.latent}"
        )
    h, w = ckpt["task_meta"]["shape"]
    if cfg.size is not None:
        require_positive("--size", cfg.size)
        h = w = cfg.size
    out = new_run_dir(cfg.out.parent, cfg.out.name) if cfg.out else None
    out = out or new_run_dir(cfg.file.parent, f"{cfg.file.stem}-decoded")
    device = model_device(model)
    coords = grid((h, w), device=device)
    shown = []
    for start in range(0, len(z), 256):
        with torch.no_grad():
            imgs = model(coords, z[start : start + 256].to(device))
        imgs = imgs.clamp(-1, 1).reshape(-1, h, w, imgs.shape[-1]).cpu().numpy()
        for i, img in enumerate(imgs, start):
            save_image(out / f"{i:06d}.png", img)
            if len(shown) < 64:
                shown.append(img)
    save_image(out / "contact_sheet.png", contact_sheet(np.stack(shown)))
    print(out)
    return out
