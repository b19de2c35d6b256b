"""Reading, writing and generating audio clips as arrays of values in [-1, 1].

A clip is held as float32 samples ``(N, C)`` (C channels, stereo kept as two channels) plus
its sample rate. Files are read through soundfile (libsndfile: WAV, FLAC, OGG/Vorbis, AIFF...),
which maps integer samples to full scale (int16 divided by 2**15, int32 by 2**31). The clip is
then divided by its peak magnitude, as the paper does, so the values span [-1, 1]; that
``scale`` is remembered so a fitted clip can be written back at the original loudness.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SirenkitError, require_file


def _soundfile():
    """soundfile, imported on first use (it loads libsndfile)."""
    import soundfile

    return soundfile


@dataclass
class Audio:
    """A clip: peak-normalised samples, their rate and the factor back to file amplitude."""

    samples: np.ndarray
    """``(N, C)`` float32 in [-1, 1]."""
    rate: int
    """Samples per second."""
    scale: float = 1.0
    """Peak magnitude of the clip as read (file amplitude = ``samples * scale``)."""
    subtype: str | None = None
    """soundfile subtype of the source ('PCM_16', 'FLOAT'...), reused when writing WAV."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.rate

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])


def normalize(data: np.ndarray, rate: int, name: str = "audio", subtype: str | None = None):
    """Peak-normalise float samples ``(N,)`` or ``(N, C)`` into an :class:`Audio`.

    Arguments:
        data: samples at file amplitude (full scale is 1).
        rate: sample rate in Hz.
        name: how errors refer to the clip.
        subtype: soundfile subtype to remember for writing.

    Returns:
        The clip with ``samples`` in [-1, 1]; a silent clip keeps ``scale = 1``.
    """
    a = np.asarray(data, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise SirenkitError(f"{name}: expected samples (N,) or (N, channels), got {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise SirenkitError(f"{name}: the clip has no samples (shape {a.shape})")
    if not np.isfinite(a).all():
        raise SirenkitError(f"{name}: samples contain NaN or infinite values")
    if rate <= 0:
        raise SirenkitError(f"{name}: sample rate must be positive, got {rate}")
    peak = float(np.abs(a).max())
    scale = peak if peak > 0 else 1.0
    return Audio((a / scale).astype(np.float32), int(rate), scale, subtype)


def load_audio(path: str | Path) -> Audio:
    """Read a WAV, FLAC or OGG file (any sample type, any channel count).

    Arguments:
        path: the sound file.

    Returns:
        The peak-normalised :class:`Audio` at the file's sample rate.

    Raises:
        SirenkitError: missing, unreadable, empty or zero-length file.
    """
    sf = _soundfile()

    p = require_file(path, "audio file")
    if p.stat().st_size == 0:
        raise SirenkitError(f"audio file {p} is empty (0 bytes)")
    try:
        data, rate = sf.read(p, dtype="float64", always_2d=True)
        subtype = sf.info(p).subtype
    except Exception as e:  # libsndfile errors come as several types
        raise SirenkitError(f"cannot read audio {p}: {type(e).__name__}: {e}") from None
    if data.shape[0] == 0:
        raise SirenkitError(f"audio file {p} has zero length (no samples)")
    return normalize(data, rate, str(p), subtype)


def save_audio(
    path: str | Path,
    samples: np.ndarray,
    rate: int,
    *,
    scale: float = 1.0,
    subtype: str | None = None,
) -> Path:
    """Write ``samples * scale`` to a sound file (the format follows the suffix, e.g. WAV).

    Arguments:
        path: output file; ``.wav``, ``.flac`` or ``.ogg``.
        samples: ``(N,)`` or ``(N, C)`` values in [-1, 1] (clipped to it, since integer formats
            would wrap around).
        rate: sample rate in Hz.
        scale: factor back to file amplitude (``Audio.scale``).
        subtype: soundfile subtype; None or one the format cannot hold picks the format's
            default (32-bit float for WAV, so a fit is written without rounding).

    Returns:
        ``path``.
    """
    sf = _soundfile()

    p = Path(path)
    fmt = p.suffix.lstrip(".").upper()
    if fmt not in sf.available_formats():
        raise SirenkitError(f"cannot write audio as {p.suffix!r}; use .wav, .flac or .ogg")
    if subtype is None or not sf.check_format(fmt, subtype):
        subtype = "FLOAT" if fmt == "WAV" else None
    data = np.clip(np.asarray(samples, dtype=np.float64) * scale, -1.0, 1.0)
    sf.write(p, data, int(rate), subtype=subtype)
    return p


def synthetic_audio(rate: int = 8000, seconds: float = 2.0, seed: int = 0) -> Audio:
    """A short music-like clip generated in code: a default that needs no file.

    Five plucked notes (fundamental plus decaying harmonics, exponential envelopes) that
    overlap, each starting with a short noise burst, and a percussive click track: sharp
    onsets and many frequencies at once, which a smooth network cannot fit.

    Arguments:
        rate: sample rate in Hz.
        seconds: length.
        seed: seed of the noise bursts.

    Returns:
        A mono :class:`Audio`, peak-normalised.
    """
    if rate <= 0 or seconds <= 0:
        raise SirenkitError(
            f"synthetic audio needs a positive rate and length, got {rate}, {seconds}"
        )
    rng = np.random.default_rng(seed)
    n = max(2, round(rate * seconds))
    t = np.arange(n) / rate
    out = np.zeros(n)
    notes = (220.0, 277.2, 329.6, 440.0, 392.0)  # A3, C#4, E4, A4, G4
    for i, f0 in enumerate(notes):
        start = seconds * i / len(notes)
        local = t - start
        on = local >= 0
        env = np.where(on, np.exp(-3.0 * np.clip(local, 0, None)), 0.0)
        attack = np.clip(local / 0.005, 0, 1)  # 5 ms rise
        tone = sum(
            np.sin(2 * np.pi * f0 * k * local) * 0.6**k * np.exp(-1.5 * k * np.clip(local, 0, None))
            for k in range(1, 6)
            if f0 * k < rate / 2
        )
        out += 0.5 * env * attack * tone
        burst = np.zeros(n)
        i0 = int(np.searchsorted(t, start))
        m = min(n - i0, max(1, round(0.01 * rate)))
        burst[i0 : i0 + m] = rng.standard_normal(m) * np.linspace(1, 0, m)
        out += 0.3 * burst
    beat = np.zeros(n)
    for k in np.arange(0, seconds, 0.25):
        i0 = round(k * rate)
        m = min(n - i0, max(1, round(0.003 * rate)))
        beat[i0 : i0 + m] = np.linspace(1, 0, m)
    out += 0.4 * beat
    return normalize(out, rate, "synthetic audio", "FLOAT")
