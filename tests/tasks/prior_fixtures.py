"""A tiny image folder and prior config shared by the prior tests (seconds, not minutes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sirenkit.tasks.prior import TrainPriorConfig
from sirenkit.training.config import TrainConfig


def write_folder(root: Path, n: int = 16) -> Path:
    """``n`` 20x16 gray blobs at random places: a family a prior can learn in a few steps."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:20, 0:16]
    for i in range(n):
        cy, cx = rng.uniform(6, 14), rng.uniform(4, 12)
        img = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 18.0)
        Image.fromarray((img * 255).astype(np.uint8)).save(root / f"img{i:02d}.png")
    return root


def tiny_config(tmp_path: Path, model: str = "siren-prior", **train) -> TrainPriorConfig:
    cfg = TrainPriorConfig(
        dataset=str(write_folder(tmp_path / "images")),
        size=8,
        test_fraction=0.125,  # 2 test images: a small completions figure
        context_min=4,
        context_max=20,
        eval_contexts=("4", "top"),
        out=tmp_path / "runs",
    )
    cfg.model.name = model
    cfg.model.hidden = 8
    cfg.model.latent = 8
    cfg.model.encoder_hidden = 16
    cfg.model.encoder_layers = 2
    cfg.model.hyper_hidden = 16
    cfg.train = TrainConfig(
        **{
            "steps": 6,
            "lr": 1e-3,
            "batch_size": 4,
            "log_every": 2,
            "eval_every": 0,
            "checkpoint_every": 3,
            "progress": False,
            "device": "cpu",
            **train,
        }
    )
    return cfg
