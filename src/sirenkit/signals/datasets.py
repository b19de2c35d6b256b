"""Small image datasets for learning priors over SIRENs, and context-pixel sampling.

Images are held as ``uint8`` tensors ``(N, H, W, C)`` (compact: Fashion-MNIST at 32x32 is
70 MB) and turned into [-1, 1] floats one batch at a time. Built-ins work offline:

* ``fashion-mnist``: Debian's ``dataset-fashion-mnist`` package (gzip IDX files under
  ``<prefix>/share/datasets/fashion-mnist/``), 70,000 images, 28x28 padded to 32x32 by resizing;
* ``faces``: the 100 face crops of scikit-image's ``lfw_subset`` (25x25 gray);
* ``digits``: scikit-learn's 1,797 handwritten digits (8x8; needs the ``datasets`` extra).

Anything else is read as a folder of image files (e.g. CelebA's aligned faces): each one is
centre-cropped to a square and resized, as the paper does for CelebA at 32x32.
"""

from __future__ import annotations

import gzip
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import SirenkitError
from .image import read_image_file

BUILTIN_DATASETS = ("fashion-mnist", "faces", "digits")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class ImageDataset:
    """Images of one size as ``uint8`` ``(N, H, W, C)`` plus the dataset's name."""

    images: torch.Tensor
    name: str
    names: list[str] | None = None
    """One name per image (file names relative to a folder), if known."""

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != torch.uint8:
            raise SirenkitError(
                f"dataset {self.name}: expected uint8 images (N, H, W, C), got "
                f"{self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.images.shape[0] < 1:
            raise SirenkitError(f"dataset {self.name} has no images")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:3])  # type: ignore[return-value]

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])

    def values(self, index: torch.Tensor | slice) -> torch.Tensor:
        """Images ``index`` as float32 in [-1, 1], ``(B, H, W, C)``."""
        return self.images[index].float() / 127.5 - 1.0


def split(data: ImageDataset, test_fraction: float, seed: int) -> tuple[ImageDataset, ImageDataset]:
    """A train/test split fixed by ``seed`` (the same on every machine and every rank).

    Arguments:
        data: all images.
        test_fraction: share of images held out, in (0, 1); at least one image each side.
        seed: seed of the permutation.

    Returns:
        ``(train, test)``.
    """
    if not 0 < test_fraction < 1:
        raise SirenkitError(f"--test-fraction must be in (0, 1), got {test_fraction}")
    n = len(data)
    if n < 2:
        raise SirenkitError(f"dataset {data.name} has {n} image(s); need 2 to split")
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test, train = perm[:n_test].sort().values, perm[n_test:].sort().values
    return (
        ImageDataset(data.images[train], f"{data.name}:train"),
        ImageDataset(data.images[test], f"{data.name}:test"),
    )


def load_dataset(
    source: str | Path, size: int | None = 32, limit: int | None = None
) -> ImageDataset:
    """A built-in dataset by name, or every image file in a folder (searched recursively).

    Arguments:
        source: ``fashion-mnist``, ``faces``, ``digits`` or a folder path.
        size: side of the square images returned (centre crop, then anti-aliased resize);
            None keeps the images as they are, which must then all have one size.
        limit: keep only the first ``limit`` images (sorted file names for folders).

    Returns:
        The images, ``uint8`` ``(N, size, size, C)`` with C = 1 (gray) or 3 (colour).
    """
    if size is not None and size < 1:
        raise SirenkitError(f"--size must be positive, got {size}")
    if limit is not None and limit < 1:
        raise SirenkitError(f"--limit must be positive, got {limit}")
    name = str(source)
    path = Path(source)
    if path.is_dir():
        return _folder(path, size, limit)
    if name == "fashion-mnist":
        arr = _fashion_mnist(limit)
    elif name == "faces":
        import skimage.data

        arr = skimage.data.lfw_subset()[:100]  # the first 100 are faces, the rest background
    elif name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise SirenkitError(
                "dataset 'digits' needs scikit-learn: pip install 'sirenkit[datasets]'"
            ) from None
        arr = load_digits().images / 16.0
    else:
        raise SirenkitError(
            f"dataset {name!r} is neither a folder nor a built-in ({', '.join(BUILTIN_DATASETS)})"
        )
    arr = arr[:limit]
    return ImageDataset(_resize_stack(_as_unit(arr), size), name)


def _as_unit(arr: np.ndarray) -> np.ndarray:
    """Gray stacks ``(N, H, W)`` of any dtype as float ``(N, H, W, 1)`` in [0, 1]."""
    a = np.asarray(arr)
    if a.dtype == np.uint8:
        a = a / 255.0
    return np.clip(a.astype(np.float32), 0, 1)[..., None]


def _resize_stack(unit: np.ndarray, size: int | None) -> torch.Tensor:
    """Centre-crop and resize ``(N, H, W, C)`` [0, 1] images at once; ``uint8`` tensor out."""
    if size is None:
        return torch.from_numpy((unit * 255).round().astype(np.uint8))
    x = torch.from_numpy(centre_crop(unit.transpose(1, 2, 0, 3)).transpose(2, 0, 1, 3).copy())
    x = x.permute(0, 3, 1, 2)
    if tuple(x.shape[-2:]) != (size, size):
        x = torch.nn.functional.interpolate(
            x, size=(size, size), mode="bicubic", antialias=True, align_corners=False
        )
    x = x.permute(0, 2, 3, 1).clamp(0, 1)
    return (x * 255).round().to(torch.uint8).contiguous()


def centre_crop(img: np.ndarray) -> np.ndarray:
    """The largest centred square of an ``(H, W, ...)`` array."""
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return img[top : top + s, left : left + s]


def fashion_mnist_dir() -> Path | None:
    """Where Debian's ``dataset-fashion-mnist`` put its files, if installed."""
    env = os.environ.get("SIRENKIT_FASHION_MNIST")
    prefixes = [Path(env)] if env else []
    roots = (sys.prefix, "/usr/local", "/usr")
    prefixes += [Path(p) / "share/datasets/fashion-mnist" for p in roots]
    for p in prefixes:
        if (p / "train-images-idx3-ubyte.gz").is_file():
            return p
    return None


def _fashion_mnist(limit: int | None) -> np.ndarray:
    folder = fashion_mnist_dir()
    if folder is None:
        raise SirenkitError(
            "dataset 'fashion-mnist' not found: install Debian's dataset-fashion-mnist "
            "(apt-get install dataset-fashion-mnist) or set SIRENKIT_FASHION_MNIST to a folder "
            "holding train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz"
        )
    parts = []
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with gzip.open(folder / name, "rb") as f:
            raw = f.read()
        n, h, w = (int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in (1, 2, 3))
        parts.append(np.frombuffer(raw, np.uint8, offset=16).reshape(n, h, w))
        if limit is not None and sum(len(p) for p in parts) >= limit:
            break
    return np.concatenate(parts)


def _folder(path: Path, size: int | None, limit: int | None) -> ImageDataset:
    from PIL import Image

    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not files:
        raise SirenkitError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
    out = []
    mode = None
    for f in files:
        # one reader for every image file (read_image_file: upright, RGB, 16-bit scaled), then
        # the 8 bits a dataset keeps; Pillow's conversions, crop and filter as before
        pixels = np.round(read_image_file(f) * 255).astype(np.uint8)
        colour = pixels.shape[-1] > 1
        im = Image.fromarray(pixels[..., :3] if colour else pixels[..., 0])
        mode = mode or ("RGB" if colour else "L")
        im = im.convert(mode)
        if size is not None:
            s = min(im.size)
            left, top = (im.width - s) // 2, (im.height - s) // 2
            im = im.crop((left, top, left + s, top + s))
            im = im.resize((size, size), Image.Resampling.LANCZOS)
        out.append(np.asarray(im, dtype=np.uint8).reshape(im.height, im.width, -1))
        if out[-1].shape != out[0].shape:
            raise SirenkitError(
                f"images differ in size: {files[0].name} is {out[0].shape[1]}x"
                f"{out[0].shape[0]}, {f.name} is {out[-1].shape[1]}x{out[-1].shape[0]}; give "
                "--size N to centre-crop and resize every image to NxN"
            )
    names = [str(f.relative_to(path)) for f in files]
    return ImageDataset(torch.from_numpy(np.stack(out)), path.name, names)


# ---- context pixels ----------------------------------------------------------------------


def random_context(
    batch: int,
    shape: tuple[int, int],
    low: int,
    high: int,
    generator: torch.Generator,
    *,
    log_uniform: bool = False,
) -> torch.Tensor:
    """Masks ``(B, H, W)`` with a random number of observed pixels in ``[low, high]`` each.

    The count is drawn per example, uniformly (the paper trains with 10-200) or, with
    ``log_uniform``, uniformly in log space, which covers sparse and dense contexts alike when
    the range is wide (10 to all pixels). The pixels are drawn uniformly without replacement.
    """
    n = shape[0] * shape[1]
    if not 1 <= low <= high:
        raise SirenkitError(f"context range must satisfy 1 <= low <= high, got {low}, {high}")
    low, high = min(low, n), min(high, n)
    if log_uniform:
        u = torch.rand(batch, 1, generator=generator)
        counts = torch.exp(math.log(low) + u * (math.log(high + 1) - math.log(low)))
        counts = counts.long().clamp(low, high)
    else:
        counts = torch.randint(low, high + 1, (batch, 1), generator=generator)
    # the `count` smallest of n uniform keys: one sort, ties have probability zero
    keys = torch.rand(batch, n, generator=generator)
    threshold = keys.sort(1).values.gather(1, counts - 1)
    return (keys <= threshold).reshape(batch, *shape)


def top_half(batch: int, shape: tuple[int, int]) -> torch.Tensor:
    """Masks ``(B, H, W)`` observing the top ``H // 2`` rows (the paper's half-image test)."""
    mask = torch.zeros(batch, *shape, dtype=torch.bool)
    mask[:, : shape[0] // 2] = True
    return mask


def mix_top_half(mask: torch.Tensor, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """``mask`` with a random ``fraction`` of its examples replaced by top-half masks."""
    if fraction <= 0:
        return mask
    pick = torch.rand(mask.shape[0], generator=generator) < fraction
    return torch.where(pick[:, None, None], top_half(mask.shape[0], mask.shape[1:]), mask)


def fixed_context(
    batch: int,
    shape: tuple[int, int],
    setting: int | str,
    generator: torch.Generator,
) -> torch.Tensor:
    """Test-time masks ``(B, H, W)``: ``setting`` random pixels each, or ``'top'`` half."""
    if setting == "top":
        return top_half(batch, shape)
    k = int(setting)
    return random_context(batch, shape, k, k, generator)


def parse_context(setting: str) -> int | str:
    """``'100'`` -> 100, ``'top'`` -> ``'top'``; anything else is an error."""
    if setting == "top":
        return "top"
    try:
        k = int(setting)
    except ValueError:
        raise SirenkitError(f"context must be a pixel count or 'top', got {setting!r}") from None
    if k < 1:
        raise SirenkitError(f"context pixel count must be positive, got {k}")
    return k
