"""``sirenkit train functa``: meta-learn a modulated SIREN over a dataset of images.

Each step draws a batch of training images, fits each one's latent with the model's few inner
steps (differentiably), and minimises the reconstruction error of the fitted latents over the
shared weights, the latent-to-shift map and the inner step sizes (second-order MAML, as
functa). Under torchrun each rank takes its share of the images; gradients are averaged by
the shared loop's DistributedDataParallel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError
from ..nets.registry import TaskShape
from ..render import model_device
from ..signals.datasets import ImageDataset, load_dataset, split
from ..signals.grid import grid
from ..training.config import RunOptions, TrainConfig
from ..training.task import Task
from ..viz.figures import Panel, save_panels
from .model import FunctaModelConfig, ModulatedSiren


@dataclass
class TrainFunctaConfig(RunOptions):
    """Meta-learn a SIREN with per-image shift modulations (functa) over a dataset, so that a
    few gradient steps on a latent vector fit a new image; `sirenkit encode` then turns
    images into those vectors."""

    dataset: str = "fashion-mnist"
    """fashion-mnist (Debian's dataset-fashion-mnist), faces (scikit-image's LFW subset),
    digits (scikit-learn) or a folder of images (centre-cropped and resized)."""
    size: int = 28
    """Side of the square images (Fashion-MNIST's own 28 by default)."""
    limit: int | None = None
    """Use only the first this many images of the dataset."""
    test_fraction: float = 0.1
    """Share of the images held out for evaluation."""
    split_seed: int = 0
    """Seed of the train/test split."""
    eval_images: int = 256
    """Held-out images whose PSNR after the inner steps is reported."""
    model: FunctaModelConfig = field(default_factory=FunctaModelConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000,
            lr=1e-3,
            schedule="cosine",
            final_lr_factor=0.1,
            batch_size=32,
            log_every=10,
            eval_every=250,
            checkpoint_every=100,
        )
    )

    def setup(self) -> FunctaTask:
        data = load_dataset(self.dataset, self.size, self.limit)
        train, test = split(data, self.test_fraction, self.split_seed)
        return FunctaTask(train, test, self.eval_images, label=Path(self.dataset).name)


def psnr_per_signal(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PSNR ``(B,)`` of each of B [-1, 1] signals ``(B, N, C)`` (prediction clipped)."""
    mse = ((pred.clamp(-1, 1) - target) ** 2).mean(dim=(1, 2))
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-12))


class FunctaTask(Task):
    """Batches of training images; held-out PSNR after the inner steps."""

    name = "functa"
    headline = "psnr"

    def __init__(
        self, train: ImageDataset, test: ImageDataset, eval_images: int = 256, label: str = ""
    ) -> None:
        if eval_images < 1:
            raise SirenkitError(f"--eval-images must be positive, got {eval_images}")
        self.train_set = train
        self.test_set = test
        self.eval_images = eval_images
        self._label = label or train.name.split(":")[0]
        self.coords = grid(train.shape)

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.train_set.channels, self.train_set.shape, family="functa")

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> FunctaTask:
        self.coords = self.coords.to(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """Images ``(B, H * W, C)``; ``batch_size`` is the number of images (None: 32)."""
        idx = torch.randint(len(self.train_set), (batch_size or 32,), generator=generator)
        images = self.train_set.values(idx)
        return images.reshape(images.shape[0], -1, images.shape[-1]).to(self.coords.device)

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        # Under DDP the inner steps go through the wrapped module and only the final
        # evaluation through the wrapper: one synchronised forward per backward pass.
        inner = getattr(model, "module", model)
        latents = inner.fit_latents(self.coords, batch, create_graph=True)
        pred = model(self.coords, latents)
        loss = torch.mean((pred - batch) ** 2)
        return loss, {"psnr": 10 * torch.log10(4.0 / loss.detach())}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        n = min(self.eval_images, len(self.test_set))
        images = self.test_set.values(slice(0, n))
        target = images.reshape(n, -1, images.shape[-1]).to(model_device(model))
        return {"test_psnr": float(encode(model, self.coords, target)[1].mean())}

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        n = min(8, len(self.test_set))
        images = self.test_set.values(slice(0, n))
        target = images.reshape(n, -1, images.shape[-1]).to(model_device(model))
        latents, quality = encode(model, self.coords, target)
        with torch.no_grad():
            pred = model(self.coords, latents).reshape(images.shape).cpu().numpy()
        panels = [Panel("held-out image", _show(images[i].numpy())) for i in range(n)]
        panels += [Panel(f"functa, {float(quality[i]):.1f} dB", _show(pred[i])) for i in range(n)]
        save_panels(run_dir / "reconstructions.png", panels, cols=n)

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.train_set.shape),
            "channels": self.train_set.channels,
            "dataset": self._label,
            "train_images": len(self.train_set),
            "test_images": len(self.test_set),
        }


def encode(
    model: ModulatedSiren,
    coords: torch.Tensor,
    target: torch.Tensor,
    steps: int | None = None,
    chunk: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents ``(B, latent)`` and PSNRs ``(B,)`` of signals ``(B, N, C)``, ``chunk`` at a time."""
    latents, quality = [], []
    for part in target.split(chunk):
        z = model.fit_latents(coords, part, steps)
        with torch.no_grad():
            quality.append(psnr_per_signal(model(coords, z), part))
        latents.append(z)
    return torch.cat(latents), torch.cat(quality)


def _show(img: np.ndarray) -> np.ndarray:
    a = np.clip((np.asarray(img) + 1) / 2, 0, 1)
    return np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a


def train_functa(cfg: TrainFunctaConfig):
    """CLI entry: ``sirenkit train functa``."""
    from ..training.run import run

    return run(cfg)
