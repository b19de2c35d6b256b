"""Learning a prior over images: complete a whole image from a few observed pixels.

The paper's Sec. 4.4: an encoder maps the observed pixels to a code, a hypernetwork maps the
code to the weights of a SIREN, and the SIREN renders the image (``--model siren-prior``), with
a conditional neural process as the baseline (``--model cnp``). Training draws a random number
of context pixels per image (10-200 as the paper); the evaluation reports the test-set MSE
(values in [-1, 1], over all pixels) with 10, 100 and 1000 random context pixels and with the
top half of the image observed, the paper's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SirenkitError, require_fraction
from ..nets.prior_entry import PriorModelConfig
from ..nets.registry import TaskShape
from ..render import in_chunks, model_device
from ..signals.datasets import (
    ImageDataset,
    fixed_context,
    load_dataset,
    mix_top_half,
    parse_context,
    random_context,
    split,
)
from ..signals.grid import grid
from ..training.config import RunOptions, TrainConfig
from ..training.task import Task, points_per_step
from ..viz.figures import Panel, save_panels

EVAL_SEED = 1234
"""Seed of the test-time context pixels: every model is scored on the same masks."""


@dataclass
class TrainPriorConfig(RunOptions):
    """Learn a prior over images (hypernetwork over SIRENs, or the CNP baseline) and write a
    run folder with test-set completions and MSEs."""

    FORMER_DEFAULTS: ClassVar[dict[str, Any]] = {
        "context_sampling": "uniform",  # before c221d6e: counts uniform in [min, max]
        "top_fraction": 0.0,  # before c221d6e: no top-half contexts in training
        "target_pixels": None,  # before c221d6e: the loss on every pixel
    }
    """What a run saved before each field existed ran with (``from_dict``), so that it
    resumes as it started."""

    dataset: str = "faces"
    """fashion-mnist (Debian's dataset-fashion-mnist), faces (scikit-image's LFW subset),
    digits (scikit-learn) or a folder of images (centre-cropped and resized)."""
    size: int = 32
    """Side of the square images (the paper: 32)."""
    limit: int | None = None
    """Use only the first this many images of the dataset."""
    test_fraction: float = 0.1
    """Share of the images held out for evaluation."""
    split_seed: int = 0
    """Seed of the train/test split (fixed, independent of the training seed)."""
    context_min: int = 10
    """Fewest context pixels per training image."""
    context_max: int = 1024
    """Most context pixels per training image (capped at the pixel count of the images;
    the paper: 200)."""
    context_sampling: Literal["uniform", "log"] = "log"
    """How the count is drawn in [min, max]: uniform (the paper) or log-uniform (as many
    10-100 as 100-1000 pixel contexts: sparse and dense contexts alike)."""
    top_fraction: float = 0.1
    """Share of training images whose context is the top half instead (the paper: 0)."""
    target_pixels: int | None = 256
    """Pixels per training image the loss is computed on, drawn at random each step (None:
    all). An unbiased estimate of the full-image loss at a fraction of the rendering cost."""
    latent_weight: float = 0.1
    """Weight of the latent-code L2 regulariser (the paper: 0.1)."""
    param_weight: float = 1.0
    """Weight of the L2 of the emitted SIREN parameters (the paper: 100, which shrinks the
    first-layer weights and blurs the completions)."""
    eval_images: int | None = 500
    """Test images scored in evaluations (None: all of them)."""
    eval_contexts: tuple[str, ...] = ("10", "100", "1000", "top")
    """Context settings scored in evaluations: pixel counts or 'top' (the top half)."""
    model: PriorModelConfig = field(default_factory=PriorModelConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=6000,
            lr=1e-3,
            schedule="cosine",
            final_lr_factor=0.1,
            batch_size=32,
            log_every=25,
            eval_every=1000,
            checkpoint_every=500,
        )
    )

    def setup(self) -> PriorTask:
        points_per_step(PriorTask.name, self.train.batch_size, self.train.batch_growth_every)
        data = load_dataset(self.dataset, self.size, self.limit)
        train, test = split(data, self.test_fraction, self.split_seed)
        return PriorTask(
            train,
            test,
            context=(self.context_min, self.context_max),
            context_sampling=self.context_sampling,
            top_fraction=self.top_fraction,
            target_pixels=self.target_pixels,
            latent_weight=self.latent_weight,
            param_weight=self.param_weight,
            eval_images=self.eval_images,
            eval_contexts=self.eval_contexts,
            label=Path(self.dataset).name,
        )


def prior_loss(
    pred: torch.Tensor,
    extras: dict[str, torch.Tensor],
    target: torch.Tensor,
    latent_weight: float,
    param_weight: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The training loss of a prior's output and the scalars worth logging.

    A hypernetwork prior minimises image MSE + ``latent_weight`` * mean squared code +
    ``param_weight`` * mean squared emitted parameter (the paper's loss); a model that predicts
    a standard deviation (``extras["sigma"]``: the CNP) minimises the Gaussian negative
    log-likelihood, as Garnelo et al.

    Arguments:
        pred: predicted values ``(B, N, C)``.
        extras: the model's second output.
        target: true values ``(B, N, C)``.
        latent_weight: weight of ``extras["latent_l2"]``.
        param_weight: weight of ``extras["param_l2"]``.

    Returns:
        The scalar loss, and detached ``mse``, ``psnr`` and regulariser values.
    """
    mse = torch.mean((pred - target) ** 2)
    d = mse.detach()
    scalars = {"mse": d, "psnr": 10 * torch.log10(4.0 / d.clamp_min(1e-30))}
    if "sigma" in extras:
        loss = F.gaussian_nll_loss(pred, target, extras["sigma"] ** 2, full=True)
        scalars["nll"] = loss.detach()
        return loss, scalars
    loss = mse + latent_weight * extras["latent_l2"] + param_weight * extras["param_l2"]
    scalars.update(latent_l2=extras["latent_l2"].detach(), param_l2=extras["param_l2"].detach())
    return loss, scalars


class PriorTask(Task):
    """Batches of training images with random context pixels; test-set completion MSEs."""

    name = "prior"
    headline = "psnr"

    def __init__(
        self,
        train: ImageDataset,
        test: ImageDataset,
        *,
        context: tuple[int, int] = (TrainPriorConfig.context_min, TrainPriorConfig.context_max),
        context_sampling: str = TrainPriorConfig.context_sampling,
        top_fraction: float = TrainPriorConfig.top_fraction,
        target_pixels: int | None = TrainPriorConfig.target_pixels,
        latent_weight: float = TrainPriorConfig.latent_weight,
        param_weight: float = TrainPriorConfig.param_weight,
        eval_images: int | None = TrainPriorConfig.eval_images,
        eval_contexts: tuple[str, ...] = TrainPriorConfig.eval_contexts,
        label: str | None = None,
    ) -> None:
        if train.shape != test.shape or train.channels != test.channels:
            raise SirenkitError(
                f"train images {train.shape}x{train.channels} and test images "
                f"{test.shape}x{test.channels} differ"
            )
        self.train_set = train
        self.test_set = test
        self.context = context
        if context_sampling not in ("uniform", "log"):
            raise SirenkitError(
                f"context sampling must be 'uniform' or 'log', got {context_sampling!r}"
            )
        require_fraction("--top-fraction", top_fraction)
        if target_pixels is not None and target_pixels < 1:
            raise SirenkitError(f"--target-pixels must be positive, got {target_pixels}")
        self.log_uniform = context_sampling == "log"
        self.target_pixels = target_pixels
        self.top_fraction = top_fraction
        self.latent_weight = latent_weight
        self.param_weight = param_weight
        self.eval_images = eval_images
        self.eval_contexts = tuple(parse_context(c) for c in eval_contexts)
        self._label = label or train.name.split(":")[0]
        self.device = torch.device("cpu")
        random_context(1, train.shape, *context, torch.Generator())  # validates the range

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.train_set.channels, self.train_set.shape, w0=30.0, family="prior")

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> PriorTask:
        self.device = device
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """``(images (B, H, W, C), masks (B, H, W), targets)`` for ``batch_size`` B images.

        ``targets`` is ``(B, target_pixels)`` flat indices of the pixels the loss is computed
        on, or None for all of them.
        """
        b = points_per_step(self.name, batch_size)
        idx = torch.randint(len(self.train_set), (b,), generator=generator)
        images = self.train_set.values(idx)
        shape = self.train_set.shape
        mask = random_context(b, shape, *self.context, generator, log_uniform=self.log_uniform)
        mask = mix_top_half(mask, self.top_fraction, generator)
        n = shape[0] * shape[1]
        targets = None
        if self.target_pixels is not None and self.target_pixels < n:
            keys = torch.rand(b, n, generator=generator)
            targets = keys.topk(self.target_pixels, dim=1).indices.to(self.device)
        return images.to(self.device), mask.to(self.device), targets

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        images, mask, targets = batch
        if targets is None:
            pred, extras = model(images, mask)
            target = images.reshape(pred.shape)
        else:
            b, h, w, c = images.shape
            coords = grid((h, w), device=images.device, dtype=images.dtype)[targets]
            pred, extras = model(images, mask, coords)
            flat = images.reshape(b, h * w, c)
            target = torch.gather(flat, 1, targets[..., None].expand(-1, -1, c))
        return prior_loss(pred, extras, target, self.latent_weight, self.param_weight)

    def test_masks(self, setting: int | str, n: int) -> torch.Tensor:
        """The fixed test-time context masks of the first ``n`` test images."""
        h, w = self.test_set.shape
        if setting != "top":
            setting = min(int(setting), h * w)
        return fixed_context(n, (h, w), setting, torch.Generator().manual_seed(EVAL_SEED))

    @property
    def scored_images(self) -> int:
        """How many test images :meth:`test_mse` averages over (the first ``eval_images``)."""
        n = len(self.test_set)
        return n if self.eval_images is None else min(n, self.eval_images)

    def test_mse(self, model: nn.Module, setting: int | str, chunk: int = 64) -> float:
        """Mean over test images of the completion MSE over all pixels, values in [-1, 1]."""
        n = self.scored_images
        masks = self.test_masks(setting, n)
        dev = model_device(model)

        def per_image(idx: torch.Tensor) -> torch.Tensor:
            images = self.test_set.values(idx.cpu()).to(dev)
            with torch.no_grad():
                pred, _ = model(images, masks[idx.cpu()].to(dev))
            return ((pred - images.reshape(pred.shape)) ** 2).mean((1, 2))

        return float(in_chunks(per_image, torch.arange(n), chunk).mean())

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return {f"mse_{s}": self.test_mse(model, s) for s in self.eval_contexts}

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        n = min(4, len(self.test_set))
        images = self.test_set.values(slice(0, n))
        dev = model_device(model)
        columns = []  # per context: (masks, predictions) of the n images
        for s in self.eval_contexts:
            masks = self.test_masks(s, n)
            with torch.no_grad():
                pred, _ = model(images.to(dev), masks.to(dev))
            columns.append((s, masks.numpy(), pred.cpu().numpy()))
        panels = []
        for i in range(n):
            image = images[i].numpy()
            for s, masks, pred in columns:
                panels += completion_panels(image, masks[i], pred[i], s)[:2]
            panels.append(Panel("ground truth", show(image)))
        save_panels(run_dir / "completions.png", panels, cols=2 * len(self.eval_contexts) + 1)

    def meta(self) -> dict[str, Any]:
        return {
            "shape": list(self.train_set.shape),
            "channels": self.train_set.channels,
            "dataset": self._label,
            "train_images": len(self.train_set),
            "test_images": len(self.test_set),
        }


def show(img: np.ndarray) -> np.ndarray:
    """A [-1, 1] ``(H, W, C)`` image as a [0, 1] RGB picture."""
    a = np.clip((np.asarray(img) + 1) / 2, 0, 1)
    return np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a[..., :3]


UNOBSERVED = np.array([0.25, 0.35, 0.6])
"""Colour of the unobserved pixels in the 'observed' picture."""


def completion_panels(
    image: np.ndarray, mask: np.ndarray, pred: np.ndarray, setting: int | str
) -> tuple[Panel, Panel, Panel]:
    """Observed pixels, completion (with its MSE) and ground truth as figure panels.

    Arguments:
        image: ground truth ``(H, W, C)`` in [-1, 1].
        mask: ``(H, W)`` bool, observed pixels.
        pred: the completion, ``(H * W, C)`` or ``(H, W, C)``.
        setting: the context (pixel count or 'top') for the titles.
    """
    pred = np.asarray(pred).reshape(image.shape)
    observed = np.where(mask[..., None], show(image), UNOBSERVED)
    mse = float(np.mean((pred - image) ** 2))
    what = "top half" if setting == "top" else f"{setting} pixels"
    return (
        Panel(f"observed: {what}", observed),
        Panel(f"completion, MSE {mse:.4f}", show(pred)),
        Panel("ground truth", show(image)),
    )


def train_prior(cfg: TrainPriorConfig):
    """CLI entry: ``sirenkit train prior``."""
    from ..training.run import run

    return run(cfg)
