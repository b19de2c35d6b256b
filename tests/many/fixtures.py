"""Small image folders and fast configs for the many-signals tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sirenkit.tasks.images import FitImagesConfig
from sirenkit.training.config import TrainConfig


def image_folder(root: Path, count: int = 3, size: tuple[int, int] = (10, 10)) -> Path:
    """``count`` gray PNGs of ``size`` (W, H) with different smooth patterns."""
    root.mkdir(parents=True, exist_ok=True)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    for i in range(count):
        a = 0.5 + 0.5 * np.sin((i + 1) * 3 * x + i * y)
        Image.fromarray((a * 255).astype(np.uint8)).save(root / f"img{i}.png")
    return root


def images_config(tmp_path: Path, source: str, **train) -> FitImagesConfig:
    cfg = FitImagesConfig(source=source, size=None, limit=None, out=tmp_path / "runs")
    cfg.model.hidden = 12
    cfg.model.layers = 3
    cfg.train = TrainConfig(
        steps=10,
        lr=1e-2,
        log_every=2,
        eval_every=5,
        checkpoint_every=4,
        progress=False,
        **train,
    )
    return cfg
