"""``sirenkit compress`` and ``sirenkit decompress``."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from ..errors import SirenkitError, require_file


@dataclass
class CompressConfig:
    """Store an image as a quantised, entropy-coded SIREN (.sirenz) of at most --bpp bits per
    pixel (COIN). Decode it with `sirenkit decompress`, at any resolution."""

    image: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="IMAGE")]
    """Image file, or a scikit-image built-in name (astronaut, coffee, ...)."""
    bpp: float
    """Bit budget in bits per pixel of the image (header included)."""
    out: Path | None = None
    """Output file (default: the image's name with .sirenz, in the current folder)."""
    size: int | None = None
    """Resize the image first so that its longer side has this many pixels."""
    layers: int = 5
    """Linear layers of the SIREN (input and output included); the width follows the budget."""
    bits: int = 10
    """Quantisation bit depth tried first (lowered while the file exceeds the budget)."""
    steps: int = 1500
    """Adam steps of the fit (~80 CPU s with the fine-tuning at 256x256, 0.3 bpp)."""
    qat_steps: int = 200
    """Fine-tuning steps through the quantisation."""
    lr: float = 2e-3
    """Peak learning rate."""
    w0: float = 30.0
    """First-layer frequency."""
    seed: int = 0
    force: bool = False
    """Overwrite an existing output file."""


@dataclass
class DecompressConfig:
    """Render a .sirenz file back to an image, at its stored size or any other."""

    file: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="FILE.sirenz")]
    """A file written by `sirenkit compress`."""
    out: Path | None = None
    """Output image (default: the file's name with .png)."""
    size: tuple[int, int] | None = None
    """Height and width of the rendering (default: the stored image size)."""
    force: bool = False
    """Overwrite an existing output file."""


def write_new(path: Path, data: bytes, force: bool) -> Path:
    """Write ``data`` to ``path`` atomically; an existing file is kept unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise SirenkitError(f"{path} exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise SirenkitError(f"output folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def compress_command(cfg: CompressConfig) -> Path:
    """CLI entry: ``sirenkit compress``."""
    from ..signals.image import load_image
    from .coin import CoinSettings, compress_image

    out = cfg.out or Path(Path(cfg.image).stem + ".sirenz")
    if out.exists() and not cfg.force:  # refuse before minutes of fitting, not after
        raise SirenkitError(f"{out} exists; pass --force to overwrite it")
    image = load_image(cfg.image, cfg.size)
    settings = CoinSettings(
        layers=cfg.layers,
        bits=cfg.bits,
        steps=cfg.steps,
        qat_steps=cfg.qat_steps,
        lr=cfg.lr,
        w0=cfg.w0,
        seed=cfg.seed,
    )
    result = compress_image(image, cfg.bpp, settings)
    write_new(out, result.data, cfg.force)
    h = result.header
    print(
        f"{out}: {len(result.data)} bytes, {result.bpp:.4f} bpp, PSNR {result.psnr:.2f} dB "
        f"({h.height}x{h.width}, SIREN {h.layers}x{h.hidden}, {h.bits}-bit weights, "
        f"{result.seconds:.1f} CPU s)"
    )
    return out


def decompress_command(cfg: DecompressConfig) -> Path:
    """CLI entry: ``sirenkit decompress``."""
    from ..signals.image import to_uint8
    from .coin import decompress

    src = require_file(cfg.file, ".sirenz file")
    out = cfg.out or src.with_suffix(".png")
    if out.exists() and not cfg.force:
        raise SirenkitError(f"{out} exists; pass --force to overwrite it")
    image = decompress(src.read_bytes(), cfg.size, source=str(src))
    write_new(out, encode_picture(to_uint8(image), out.suffix), cfg.force)
    print(out)
    return out


def encode_picture(pixels, suffix: str) -> bytes:
    """``uint8`` pixels as the bytes of an image file of the type ``suffix`` names."""
    import io

    from PIL import Image

    fmt = Image.registered_extensions().get(suffix.lower())
    if fmt is None:
        raise SirenkitError(f"unknown image type {suffix!r} for the output (try .png)")
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()
