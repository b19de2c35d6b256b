"""Video figures for run folders: a strip of frames and the per-frame quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .figures import Panel, pyplot, save_panels


def save_frame_strip(
    path: Path, target: np.ndarray, pred: np.ndarray, count: int = 5, fps: float | None = None
) -> Path:
    """Evenly spaced frames in three rows: ground truth, fit, absolute error (channel mean).

    Arguments:
        path: PNG to write.
        target: ``(T, H, W, C)`` ground truth in [-1, 1].
        pred: ``(T, H, W, C)`` fit.
        count: frames shown (fewer if the video is shorter).
        fps: frame rate, to title frames with their time.

    Returns:
        ``path``.
    """
    t = target.shape[0]
    picks = np.unique(np.linspace(0, t - 1, min(count, t)).round().astype(int))

    def show(a: np.ndarray) -> np.ndarray:
        a = np.clip((a + 1) / 2, 0, 1)
        return a[..., 0] if a.shape[-1] == 1 else a

    err = np.abs(np.clip(pred[picks], -1, 1) - target[picks]).mean(-1) / 2  # on [0, 1]
    emax = float(np.percentile(err, 99.5)) or 1e-3

    def when(i: int) -> str:
        return f"frame {i}" + (f" ({i / fps:.2f} s)" if fps else "")

    panels = [Panel(f"truth, {when(i)}", show(target[i]), "gray", 0, 1) for i in picks]
    panels += [Panel(f"fit, {when(i)}", show(pred[i]), "gray", 0, 1) for i in picks]
    panels += [
        Panel(f"|error|, {when(i)}", e, "inferno", 0, emax, k == len(picks) - 1)
        for k, (i, e) in enumerate(zip(picks, err, strict=True))
    ]
    return save_panels(path, panels, cols=len(picks))


def plot_frame_metrics(path: Path, psnr: np.ndarray, ssim: np.ndarray) -> Path:
    """PSNR and SSIM of every frame, with their means as dashed lines."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, values, name in ((axes[0], psnr, "PSNR (dB)"), (axes[1], ssim, "SSIM")):
        ax.plot(np.arange(len(values)), values, ".-")
        ax.axhline(float(np.mean(values)), ls="--", color="0.4")
        ax.set_xlabel("frame")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
