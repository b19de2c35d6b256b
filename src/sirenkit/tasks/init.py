"""Learned initialisations (Tancik et al., CVPR 2021): SIREN weights from which a new image of
a class is fitted in a few steps.

``sirenkit train init --dataset ...`` meta-learns the weights ``theta`` and a step size for
every weight (:class:`~sirenkit.nets.learned_init.LearnedInit`) with **MAML and Meta-SGD**
(Finn et al. 2017; Li et al. 2017), second-order: each outer step fits every image of a random
meta-batch with ``inner_steps`` full-batch gradient steps ``p <- p - rate * grad`` from
``theta`` (one stacked network per image), and the outer loss, the mean over the images of the
log of the error after those steps (i.e. minus their mean PSNR / 10 log10 e), is differentiated
through the steps into ``theta`` and the rates, which the shared loop's Adam updates. A fit from
the init (``--init RUN``) takes the same steps with the same rates.

Why this and not Reptile (this command's first algorithm) or first-order MAML: on held-out
32x32 images Reptile's init, fitted with Adam, needed 129 (Fashion-MNIST) and 75 (faces) steps
to reach the PSNR the paper's random init has after 500 steps of the authors' Adam 1e-4; this
init, fitted with its learned steps, needs 7 and 5, because the steps themselves are learned
(per-weight rates, which Adam's per-weight normalisation would undo), learned by
differentiating through the steps they scale (docs/many.md has the measurements).

Under ``torchrun`` each rank adapts its share of the meta-batch; DDP's gradient average makes
the outer gradient the mean over the whole meta-batch, as in one process.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError, require_positive
from ..metrics import psnr
from ..nets.batched import BatchedSiren
from ..nets.learned_init import InitModelConfig, LearnedInit
from ..nets.registry import TaskShape, build_model, model_spec
from ..nets.siren import Siren
from ..signals.datasets import ImageDataset, load_dataset, split
from ..signals.grid import grid
from ..signals.image import save_image
from ..training.config import RunOptions, TrainConfig
from ..training.optim import LearnedRateSGD
from ..training.task import Task
from ..viz.sheets import contact_sheet

INIT_FOR = ("image", "images")
"""Tasks whose fits a learned image initialisation can start (``--init RUN``)."""


@dataclass
class TrainInitConfig(RunOptions):
    """Meta-learn a SIREN initialisation and per-weight step sizes for a class of images
    (MAML with Meta-SGD); fit image and fit images then start from it with --init RUN."""

    dataset: str = "faces"
    """fashion-mnist, faces, digits or a folder of images (centre-cropped and resized)."""
    size: int = 32
    """Side of the square images the init is learned on."""
    limit: int | None = None
    """Use only the first this many images of the dataset."""
    test_fraction: float = 0.1
    """Share of the images held out (never meta-trained on) for the evaluation."""
    split_seed: int = 0
    """Seed of the train/test split."""
    eval_images: int = 16
    """Held-out images fitted from the init in evaluations."""
    model: InitModelConfig = field(default_factory=InitModelConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=500,
            lr=1e-3,
            batch_size=8,
            log_every=10,
            eval_every=100,
            checkpoint_every=50,
        )
    )
    """Outer loop: Adam at 1e-3 with a cosine decay; batch_size is the meta-batch (images per
    outer step)."""

    def setup(self) -> InitTask:
        if self.model.name != "learned-init":
            raise SirenkitError(
                f"train init learns --model learned-init, not --model {self.model.name!r}"
            )
        require_positive("--inner-steps", self.model.inner_steps)
        require_positive("--inner-lr", self.model.inner_lr)
        require_positive("--eval-images", self.eval_images)
        data = load_dataset(self.dataset, self.size, self.limit)
        train, test = split(data, self.test_fraction, self.split_seed)
        return InitTask(train, test, eval_images=self.eval_images, label=Path(self.dataset).name)


def adapt(
    start: Siren | BatchedSiren,
    coords: torch.Tensor,
    targets: torch.Tensor,
    steps: int,
    lr: float | Callable[[int], float],
    record: bool = False,
    rates: list[torch.Tensor] | None = None,
) -> tuple[BatchedSiren, list[torch.Tensor]]:
    """Fit one network per target with ``steps`` full-batch steps, as ``fit images`` does:
    Adam from the paper's random init, or, with ``rates``, a learned init's learned-rate steps.

    Arguments:
        start: the starting weights, one ``Siren`` copied for every target, or one network per
            target; not modified, and no gradient reaches them.
        coords: ``(P, 2)`` shared pixel coordinates.
        targets: ``(n, P, C)`` values.
        steps: optimiser steps.
        lr: Adam's learning rate, or a function of the 0-based step (a schedule); with
            ``rates``, the factor on them (1: the meta-trained steps).
        record: also return every network's PSNR before each step and after the last one.
        rates: step sizes laid out as the networks' parameters
            (:func:`~sirenkit.training.init.apply_init`): :class:`LearnedRateSGD` steps.

    Returns:
        The fitted networks and, with ``record``, ``steps + 1`` tensors of ``(n,)`` PSNRs.
    """
    if isinstance(start, BatchedSiren):
        nets = copy.deepcopy(start)
    else:
        nets = BatchedSiren.replicate(start, targets.shape[0])
    rate = lr if callable(lr) else (lambda _: lr)
    if rates is None:
        opt = torch.optim.Adam(nets.parameters(), lr=rate(0))
    else:
        opt = LearnedRateSGD(nets.parameters(), rates, lr=rate(0), peak=1.0)
    history = []
    with torch.enable_grad():
        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = rate(step)
            mse = ((nets(coords) - targets) ** 2).mean(dim=(1, 2))
            if record:
                history.append(_psnr(mse))
            opt.zero_grad(set_to_none=True)
            mse.sum().backward()
            opt.step()
    if record:
        with torch.no_grad():
            history.append(_psnr(((nets(coords) - targets) ** 2).mean(dim=(1, 2))))
    return nets, history


class InitTask(Task):
    """MAML with Meta-SGD over the images of a dataset; held-out images fitted from the init
    to evaluate."""

    name = "init"
    headline = "psnr"

    def __init__(
        self,
        train: ImageDataset,
        test: ImageDataset,
        *,
        eval_images: int = 16,
        label: str | None = None,
    ) -> None:
        self.train_set = train
        self.test_set = test
        self.eval_images = min(eval_images, len(test))
        self._label = label or train.name.split(":")[0]
        self.coords = grid(train.shape)
        self.device = torch.device("cpu")
        self._random: float | None = None

    @property
    def shape(self) -> TaskShape:
        return TaskShape(2, self.train_set.channels, self.train_set.shape, w0=30.0, family="init")

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> InitTask:
        self.coords = self.coords.to(device)
        self.device = device
        return self

    def _targets(self, data: ImageDataset, index: torch.Tensor) -> torch.Tensor:
        return data.values(index.cpu()).reshape(index.shape[0], -1, data.channels).to(self.device)

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None):
        """A meta-batch: random training images (indices first, so torchrun shards them)."""
        n = len(self.train_set)
        size = n if batch_size is None else min(batch_size, n)
        index = torch.randperm(n, generator=generator)[:size]
        return index, self._targets(self.train_set, index)

    def loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The mean over the meta-batch of ``log(MSE)`` after the inner steps, differentiable
        in the init and the rates. The log weighs every image's PSNR alike (a plain mean of
        the errors would be all about the worst-fitted images).

        The term ``0 * model(x)`` adds nothing but routes the step through the model's
        forward call, which DistributedDataParallel needs to all-reduce the gradient.
        """
        _, targets = batch
        init: LearnedInit = getattr(model, "module", model)
        _, errors = init.fit(self.coords, targets, create_graph=True)
        loss = errors[-1].clamp_min(1e-30).log().mean() + 0.0 * model(self.coords[:1]).sum()
        return loss, {"psnr": (10 * torch.log10(4.0 / errors[-1].detach().clamp_min(1e-30))).mean()}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Held-out images fitted from the init: PSNR before and after ``inner_steps``, and
        after as many Adam steps at 1e-3 (a fit's default) from the paper's random init."""
        index = torch.arange(self.eval_images)
        targets = self._targets(self.test_set, index)
        init: LearnedInit = model
        _, errors = init.fit(self.coords, targets)
        steps = init.inner_steps
        if self._random is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                fresh = build_model("siren", **model_spec(init.siren)["kwargs"]).to(self.device)
            _, ref = adapt(fresh, self.coords, targets, steps, 1e-3, True)
            self._random = float(ref[-1].mean())
        return {
            "test_psnr_0": float(_psnr(errors[0]).mean()),
            f"test_psnr_{steps}": float(_psnr(errors[-1]).mean()),
            f"random_init_psnr_{steps}": self._random,
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        """``fits.png``: held-out images | the init itself | after ``inner_steps`` steps."""
        init: LearnedInit = model
        index = torch.arange(self.eval_images)
        targets = self._targets(self.test_set, index)
        fitted, _ = init.fit(self.coords, targets)
        shape = (len(index), *self.test_set.shape, self.test_set.channels)
        with torch.no_grad():
            start = init(self.coords).expand(len(index), -1, -1).reshape(shape).cpu().numpy()
            after = fitted(self.coords).reshape(shape).cpu().numpy()
        truth = targets.reshape(shape).cpu().numpy()
        save_image(run_dir / "fits.png", contact_sheet(truth, start, after))
        save_image(run_dir / "init.png", start[0])
        scores = [psnr(a, t) for a, t in zip(after, truth, strict=True)]
        (run_dir / "test_psnr.txt").write_text(
            f"held-out PSNR after {init.inner_steps} learned-rate steps from the init: "
            f"{np.mean(scores):.2f} dB (mean of {len(scores)})\n"
        )

    def meta(self) -> dict[str, Any]:
        return {
            "init_for": list(INIT_FOR),
            "shape": list(self.train_set.shape),
            "channels": self.train_set.channels,
            "dataset": self._label,
        }


def _psnr(mse: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(4.0 / mse.detach().clamp_min(1e-30))


def train_init(cfg: TrainInitConfig):
    """CLI entry: ``sirenkit train init``."""
    from ..training.run import run

    return run(cfg)
