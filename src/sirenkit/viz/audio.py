"""Audio figures for run folders: waveform with residual, spectrograms of truth and fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .figures import pyplot


def plot_waveform(path: Path, target: np.ndarray, pred: np.ndarray, rate: int) -> Path:
    """Per channel: ground truth and fit overlaid, and the residual below, against seconds.

    Arguments:
        path: PNG to write.
        target: ``(N, C)`` ground truth in [-1, 1].
        pred: ``(N, C)`` fit.
        rate: sample rate (for the time axis).

    Returns:
        ``path``.
    """
    plt = pyplot()
    n, c = target.shape
    t = np.arange(n) / rate
    fig, axes = plt.subplots(2 * c, 1, figsize=(10, 2.2 * 2 * c), sharex=True, squeeze=False)
    for ch in range(c):
        ax = axes[2 * ch, 0]
        ax.plot(t, target[:, ch], lw=0.5, color="0.3", label="ground truth")
        ax.plot(t, pred[:, ch], lw=0.5, color="tab:orange", alpha=0.8, label="fit")
        ax.set_ylabel(f"ch {ch}" if c > 1 else "amplitude")
        ax.set_ylim(-1.05, 1.05)
        ax.legend(loc="upper right", fontsize=8)
        ax = axes[2 * ch + 1, 0]
        res = pred[:, ch] - target[:, ch]
        ax.plot(t, res, lw=0.5, color="tab:red")
        ax.set_ylabel("residual")
        lim = float(np.abs(res).max()) or 1e-6
        ax.set_ylim(-1.05 * lim, 1.05 * lim)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


MIN_SPECTROGRAM_SAMPLES = 8
"""Shortest window (and clip) a spectrogram is drawn for."""


def _spectrogram(x: np.ndarray, rate: int, nperseg: int):
    from scipy.signal import spectrogram

    f, t, s = spectrogram(x, fs=rate, nperseg=nperseg, noverlap=nperseg * 3 // 4)
    return f, t, 10 * np.log10(s + 1e-12)


def plot_spectrograms(path: Path, target: np.ndarray, pred: np.ndarray, rate: int) -> Path:
    """Power spectrograms (dB) of the ground truth, the fit and the residual, channel mean.

    The three share one colour scale, so missing high frequencies of the fit show as dark
    regions and the residual's level reads directly against the signal's.
    """
    plt = pyplot()
    gt = target.mean(-1)
    fit = pred.mean(-1)
    panels = [("ground truth", gt), ("fit", fit), ("residual", fit - gt)]
    if gt.shape[0] < MIN_SPECTROGRAM_SAMPLES:  # too short for any window: say so, draw nothing
        from .figures import note_panel, save_panels

        why = f"no spectrogram: the clip has {gt.shape[0]} samples"
        return save_panels(path, [note_panel(title, why) for title, _ in panels])
    nperseg = int(2 ** np.clip(round(np.log2(rate * 0.03)), 6, 11))
    nperseg = max(MIN_SPECTROGRAM_SAMPLES, min(nperseg, gt.shape[0]))
    specs = [_spectrogram(x, rate, nperseg) for _, x in panels]
    vmax = float(specs[0][2].max())
    vmin = vmax - 100.0
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for ax, (title, _), (f, t, s) in zip(axes, panels, specs, strict=True):
        im = ax.pcolormesh(t, f, s, vmin=vmin, vmax=vmax, shading="auto", cmap="magma")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("time (s)")
    axes[0].set_ylabel("frequency (Hz)")
    fig.colorbar(im, ax=list(axes), label="power (dB)", fraction=0.03, pad=0.02)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
