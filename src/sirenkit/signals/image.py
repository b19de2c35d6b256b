"""Reading and writing images as arrays of values in [-1, 1].

Images are held as float32 arrays of shape ``(H, W, C)`` with C = 1 (gray), 3 (RGB) or 4 (RGBA,
alpha kept as a fourth channel so nothing is lost). Integer images are scaled by their type's
maximum (8-bit by 255, 16-bit by 65535), then mapped from [0, 1] to [-1, 1].
Note: Pillow, which reads PNG, reduces 16-bit *colour* PNGs to 8 bits; 16-bit gray PNGs and
16-bit TIFFs keep their full precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import SirenkitError, require_file

BUILTIN_IMAGES = (
    "camera",
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "retina",
    "cat",
    "brick",
    "grass",
    "gravel",
    "moon",
    "page",
    "text",
    "horse",
    "coins",
    "clock",
    "hubble_deep_field",
    "immunohistochemistry",
)


def to_unit(arr: np.ndarray, name: str = "image") -> np.ndarray:
    """Scale an image array of any dtype to float32 in [0, 1], shape ``(H, W, C)``."""
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise SirenkitError(
            f"{name}: expected a gray, RGB or RGBA image, got an array of shape {a.shape}"
        )
    if a.shape[-1] == 2:  # gray + alpha
        a = np.concatenate([a[..., :1]] * 3 + [a[..., 1:]], axis=-1)
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise SirenkitError(f"{name}: image is empty (shape {a.shape})")
    if a.dtype == bool:
        out = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        out = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    else:
        out = a.astype(np.float32)
        if not np.isfinite(out).all():
            raise SirenkitError(f"{name}: image contains NaN or infinite values")
        lo, hi = float(out.min()), float(out.max())
        if lo < 0 or hi > 1:  # float data in another range: rescale, keeping contrast
            out = (out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)
    return np.clip(out, 0.0, 1.0)


def read_image_file(path: str | Path) -> np.ndarray:
    """An image file's pixels as a viewer shows them, float32 ``(H, W, C)`` in [0, 1]
    (:func:`to_unit`): one frame, turned upright by its EXIF orientation (a phone stores its
    photographs sideways), CMYK converted to RGB."""
    import imageio.v3 as iio

    path = require_file(Path(path), "image file")
    if path.stat().st_size == 0:
        raise SirenkitError(f"image file {path} is empty")
    try:
        arr = iio.imread(path)
    except Exception as e:  # imageio raises many types; its text may suggest plugins
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SirenkitError(f"cannot read image {path}: not a readable image ({first})") from None
    if arr.ndim == 4 and arr.shape[0] == 1:  # a GIF's (or a TIFF's) only frame
        arr = arr[0]
    if arr.ndim == 4:
        raise SirenkitError(
            f"image file {path} holds {arr.shape[0]} frames (an animation or a multi-page "
            "file); save the frame to fit as an image file of its own"
        )
    if arr.ndim == 3 and arr.shape[-1] not in (1, 2, 3, 4) and arr.shape[0] in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # channel-first TIFF
    return to_unit(_as_shown(path, arr), str(path))


EXIF_ORIENTATION = 0x0112
COLOUR_SPACES = ("CMYK", "YCbCr", "LAB", "HSV")
"""Pillow modes whose channels are not RGB(A) and are converted to RGB."""


def _as_shown(path: Path, arr: np.ndarray) -> np.ndarray:
    """``arr`` (imageio's pixels of ``path``) turned upright by the file's EXIF orientation,
    and converted to RGB if Pillow says its channels are another colour space."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            orientation = im.getexif().get(EXIF_ORIENTATION, 1)
            if im.mode in COLOUR_SPACES:
                arr = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError):  # a format only imageio's other plugins read
        return arr
    return _oriented(arr, orientation)


def _oriented(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels ``(H, W, ...)`` stored under EXIF orientation ``orientation`` (1-8), as shown.

    Pillow's ``ImageOps.exif_transpose`` on an array, so that 16-bit and float pixels keep
    their values (the test compares the two)."""
    if orientation in (5, 6, 7, 8):  # stored with the axes swapped
        arr = np.swapaxes(arr, 0, 1)
    flip_rows = orientation in (3, 4, 7, 8)
    flip_cols = orientation in (2, 3, 6, 7)
    if flip_rows:
        arr = arr[::-1]
    if flip_cols:
        arr = arr[:, ::-1]
    return np.ascontiguousarray(arr)


def _read_builtin(name: str) -> np.ndarray:
    import skimage.data

    if name not in BUILTIN_IMAGES:
        raise SirenkitError(
            f"no image file {name!r} and no built-in image of that name; built-ins: "
            + ", ".join(BUILTIN_IMAGES)
        )
    return getattr(skimage.data, name)()


def load_image(
    source: str | Path,
    size: int | Sequence[int] | None = None,
) -> np.ndarray:
    """Load an image file or a scikit-image built-in (``camera``, ``astronaut``, ...).

    Arguments:
        source: a path, or a built-in name when no such file exists.
        size: resize target: ``(H, W)``, or one int for the longer side (aspect kept; a square
            image becomes ``size x size``). None keeps the original size.

    Returns:
        ``(H, W, C)`` float32 array in [-1, 1].
    """
    p = Path(source)
    if p.exists() or p.suffix or "/" in str(source) or "\\" in str(source):
        img = read_image_file(p)
    else:
        img = to_unit(_read_builtin(str(source)), f"built-in image {source!r}")
    if size is not None:
        img = resize(img, target_shape(img.shape[:2], size))
    return img * 2.0 - 1.0


def target_shape(shape: Sequence[int], size: int | Sequence[int]) -> tuple[int, int]:
    """Resolve a ``size`` argument against an image shape (see :func:`load_image`)."""
    if isinstance(size, int | np.integer):
        if size < 1:
            raise SirenkitError(f"image size must be positive, got {size}")
        h, w = shape[:2]
        scale = size / max(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))
    hw = tuple(int(s) for s in size)
    if len(hw) != 2 or min(hw) < 1:
        raise SirenkitError(f"image size must be two positive ints (H, W), got {tuple(size)}")
    return hw  # type: ignore[return-value]


def resize(img: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Anti-aliased bilinear resize of an ``(H, W, C)`` [0, 1] image.

    Pillow's bilinear filter (widened when shrinking) on each channel in float precision: the
    resampling of ``torchvision.transforms.Resize``, which the SIREN authors' code uses, so a
    resized image is the one their reported numbers were measured on. A sharper filter (bicubic)
    keeps more high frequencies and makes the same photograph measurably harder to fit.
    """
    from PIL import Image

    h, w = (int(s) for s in shape)
    if tuple(img.shape[:2]) == (h, w):
        return img
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(img[..., c], dtype=np.float32)).resize(
                (w, h), Image.Resampling.BILINEAR
            )
        )
        for c in range(img.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """[-1, 1] float image ``(H, W, C)`` -> uint8 ``(H, W)`` or ``(H, W, C)`` for saving."""
    a = np.clip((np.asarray(img, dtype=np.float32) + 1.0) / 2.0, 0.0, 1.0)
    a = np.round(a * 255.0).astype(np.uint8)
    return a[..., 0] if a.shape[-1] == 1 else a


def save_image(path: str | Path, img: np.ndarray) -> Path:
    """Write a [-1, 1] image ``(H, W, C)`` as an 8-bit PNG (or any format imageio knows)."""
    return save_pixels(path, to_uint8(img))


def save_pixels(path: str | Path, pixels: np.ndarray) -> Path:
    """Write 8-bit pixels ``(H, W)`` or ``(H, W, C)`` (C = 1 is written as grey)."""
    import imageio.v3 as iio

    p = Path(path)
    iio.imwrite(p, pixels[..., 0] if pixels.ndim == 3 and pixels.shape[-1] == 1 else pixels)
    return p


def gray_image(image: np.ndarray) -> np.ndarray:
    """The mean of the colour channels (alpha dropped), ``(H, W, 1)``."""
    colour = image[..., :3] if image.shape[-1] >= 3 else image
    return colour.mean(-1, keepdims=True)
