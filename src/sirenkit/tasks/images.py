"""Fitting many images at once: one independent SIREN per image, trained as one stacked network.

``sirenkit fit images DIR|DATASET`` fits a :class:`~sirenkit.nets.batched.BatchedSiren` with one
network per image. The loss is the *sum* of the per-image mean squared errors, so network
``i``'s gradient is exactly the gradient of its own image's loss, and the shared loop's Adam over
the stacked parameters is one independent Adam per network (Adam works element by element).

Under ``torchrun`` the images are sharded across ranks: each rank renders and differentiates
only its share of the networks (the batch holds network indices), the gradient all-reduce fills
in the rest (every network's gradient comes from exactly one rank; the loss is scaled by the
world size to undo DDP's averaging), and rank 0 writes one checkpoint holding every network.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import tyro
from torch import nn

from ..errors import require_positive
from ..metrics import ssim
from ..nets.batched import BatchedSiren
from ..nets.config import ModelConfig
from ..nets.registry import TaskShape
from ..render import model_device
from ..signals.datasets import ImageDataset, load_dataset
from ..signals.grid import grid
from ..signals.image import save_image
from ..training import distributed
from ..training.config import RunOptions, TrainConfig
from ..training.task import Task
from ..viz.sheets import contact_sheet

CONTACT_SHEET_MAX = 64
"""Signals shown in the contact sheet (the first ones; the metrics table lists all)."""


@dataclass
class FitImagesConfig(RunOptions):
    """Fit one SIREN to each image of a folder or dataset, all trained together as one batched
    network; writes a per-image metrics table, a contact sheet and one checkpoint holding every
    network (sirenkit.load(run, index=i) gives network i as a standalone Siren)."""

    source: Annotated[tyro.conf.Positional[str], tyro.conf.arg(metavar="DIR|DATASET")] = "faces"
    """Folder of images (searched recursively), or fashion-mnist, faces, digits."""
    size: int | None = 32
    """Every image is centre-cropped to a square and resized to size x size (the stated rule
    for folders of mixed sizes); None keeps the files' own size, which must then be the same
    for every image (else a one-line error)."""
    limit: int | None = 64
    """Fit only the first this many images (sorted file names for folders); None: all."""
    chunk: int = 64
    """Networks evaluated at once in evaluations (bounds their memory)."""
    model: ModelConfig = field(default_factory=lambda: ModelConfig(name="siren_batch", hidden=64))
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=200, log_every=10, eval_every=0, checkpoint_every=50
        )
    )
    """Adam 1e-3 with a cosine decay on every pixel of every image. 5x64 SIRENs on 32x32
    Fashion-MNIST images reach 60.4 dB on average in 100 such steps, about the 8-bit
    quantisation level of the data (59 dB); benchmarks.many."""

    def setup(self) -> ImagesTask:
        data = load_dataset(self.source, self.size, self.limit)
        require_positive("--chunk", self.chunk)
        return ImagesTask(data, Path(self.source).name, chunk=self.chunk)


class ImagesTask(Task):
    """Regress every image's pixels on the shared [-1, 1] grid, one network per image."""

    name = "images"
    headline = "psnr"

    def __init__(self, data: ImageDataset, label: str = "images", chunk: int = 64) -> None:
        self.data = data
        self._label = label
        self.chunk = chunk
        self.coords = grid(data.shape)
        n = len(data)
        self.pixels = data.values(slice(None)).reshape(n, -1, data.channels)
        self.index = torch.arange(n)
        self.names = data.names or [f"{data.name}[{i}]" for i in range(n)]
        self.last: dict[str, np.ndarray] = {}

    @property
    def shape(self) -> TaskShape:
        return TaskShape(
            2, self.data.channels, self.data.shape, w0=30.0, family="batch", count=len(self.data)
        )

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> ImagesTask:
        self.coords = self.coords.to(device)
        self.pixels = self.pixels.to(device)
        self.index = self.index.to(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """Network indices and their images, example-major (torchrun shards the networks).
        With ``batch_size``, each network sees its own random pixels."""
        n_pix = self.coords.shape[0]
        if batch_size is None or batch_size >= n_pix:
            return self.index, self.pixels
        idx = torch.randint(n_pix, (len(self.index), batch_size), generator=generator)
        idx = idx.to(self.coords.device)
        pix = torch.gather(self.pixels, 1, idx[..., None].expand(-1, -1, self.pixels.shape[2]))
        return self.index, pix, self.coords[idx]

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        index, target = batch[0], batch[1]
        coords = batch[2] if len(batch) == 3 else self.coords
        everything = index.shape[0] == self.index.shape[0]
        if everything and len(batch) == 2 and isinstance(model, BatchedSiren):
            # one process, every pixel: forward and backward a cache-sized group at a time
            loss, mse = model.squared_error(coords, target)
        else:
            pred = model(coords, index=None if everything else index)
            mse = ((pred - target) ** 2).mean(dim=(1, 2))
            loss = mse.sum()
        ctx = distributed.current()
        loss = loss * (ctx.world if ctx is not None else 1)
        p = 10 * torch.log10(4.0 / mse.detach().clamp_min(1e-30))
        return loss, {"psnr": p.mean(), "psnr_min": p.min()}

    def predict(self, model: nn.Module) -> np.ndarray:
        """Every network's image on the training grid, ``(N, H, W, C)``, in chunks of networks."""
        device = model_device(model)
        coords = self.coords.to(device)
        parts = []
        with torch.no_grad():
            for start in range(0, len(self.data), self.chunk):
                idx = torch.arange(start, min(start + self.chunk, len(self.data)), device=device)
                parts.append(model(coords, index=idx).float().cpu())
        n, (h, w), c = len(self.data), self.data.shape, self.data.channels
        return torch.cat(parts).reshape(n, h, w, c).numpy()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred = self.predict(model)
        truth = self.pixels.reshape(pred.shape).cpu().numpy()
        err = ((np.clip(pred, -1, 1) - truth) ** 2).reshape(len(pred), -1).mean(1)
        psnrs = 10 * np.log10(4.0 / np.maximum(err, 1e-30))
        ssims = np.array([ssim(p, t) for p, t in zip(pred, truth, strict=True)])
        self.last = {"psnr": psnrs, "ssim": ssims}
        return {
            "psnr": float(psnrs.mean()),
            "psnr_min": float(psnrs.min()),
            "psnr_max": float(psnrs.max()),
            "ssim": float(ssims.mean()),
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        if not self.last:
            self.evaluate(model)
        write_metrics_table(run_dir, self.names, self.last)
        pred = self.predict(model)
        truth = self.pixels.reshape(pred.shape).cpu().numpy()
        k = min(CONTACT_SHEET_MAX, len(pred))
        save_image(run_dir / "contact_sheet.png", contact_sheet(truth[:k], pred[:k]))

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.data.shape),
            "channels": self.data.channels,
            "count": len(self.data),
            "names": self.names,
            "label": self._label,
        }


def write_metrics_table(run_dir: Path, names: list[str], metrics: dict[str, np.ndarray]) -> None:
    """``metrics.csv`` and ``metrics.md``: one row per signal (index, name, PSNR, SSIM)."""
    rows = [
        (i, name, float(metrics["psnr"][i]), float(metrics["ssim"][i]))
        for i, name in enumerate(names)
    ]
    with open(run_dir / "metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "name", "psnr", "ssim"])
        w.writerows((i, n, f"{p:.3f}", f"{s:.5f}") for i, n, p, s in rows)
    lines = ["| index | name | PSNR (dB) | SSIM |", "|---|---|---|---|"]
    lines += [f"| {i} | {n} | {p:.2f} | {s:.4f} |" for i, n, p, s in rows]
    (run_dir / "metrics.md").write_text("\n".join(lines) + "\n")


def fit_images(cfg: FitImagesConfig):
    """CLI entry: ``sirenkit fit images``."""
    from ..training.run import run

    return run(cfg)
