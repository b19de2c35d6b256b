"""The contract between a fitting problem and the shared training loop.

A task owns its data and knows what to minimise, what to measure and what to write; the
trainer (:mod:`sirenkit.training.loop`) owns optimisation, logging, checkpoints and resuming.
Adding a signal type or a PDE means writing one :class:`Task`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import SirenkitError
from ..nets.registry import TaskShape


class Task(ABC):
    """A fitting problem for one coordinate network."""

    name: ClassVar[str]
    """Short task name ('image'); stored in checkpoints and used for run-folder names."""
    headline: ClassVar[str] = "loss"
    """Scalar from :meth:`loss` shown on the progress bar next to the loss (e.g. 'psnr')."""
    reported: ClassVar[tuple[str, ...]] = ()
    """Final metrics (from :meth:`evaluate`) a command's closing line shows, in order; those
    absent from a run are left out. Empty: the headline, then the first others."""

    views: ClassVar[tuple[str, ...]] = ()
    """What ``sirenkit view`` shows of this task's runs beyond curves, fields, meshes and files:
    ``image`` (the reconstruction, zoomable), ``audio`` (players), ``video`` (frames), ``sdf``
    (slices through the network). Recorded in every run's config.json, so the viewer needs no
    list of tasks."""

    follows_model_dtype: ClassVar[bool] = False
    """The loss evaluates any batch in the network's dtype, so the trainer may cast the
    network to float64 mid-run (``TrainConfig.lbfgs_float64_after``)."""

    renderer: ClassVar[str | None] = None
    """How ``sirenkit render`` re-renders a run of this task: ``'module:function'``, called as
    ``function(render_config, checkpoint, path) -> Path``. Stored in every checkpoint, so the
    command needs no list of tasks; None: the task's runs are not rendered."""

    @classmethod
    def report(cls, final: dict[str, Any]) -> dict[str, float]:
        """The final metrics worth one line: :attr:`reported`, or the headline and three more."""
        numbers = {k: v for k, v in final.items() if isinstance(v, int | float)}
        if cls.reported:
            return {k: numbers[k] for k in cls.reported if k in numbers}
        keys = [cls.headline] if cls.headline in numbers else []
        keys += [k for k in numbers if k != cls.headline]
        return {k: numbers[k] for k in keys[:4]}

    @property
    @abstractmethod
    def shape(self) -> TaskShape:
        """Input/output sizes (and resolution, default w0) the network must have."""

    @property
    def label(self) -> str:
        """Short description of the signal for run-folder names ('camera')."""
        return self.name

    def parameters(self) -> list[nn.Parameter]:
        """Tensors of the task itself trained with the network (a problem's unknown
        coefficients): optimised with it, averaged over ranks, and kept in the checkpoint
        through :meth:`state_dict`. None by default."""
        return []

    def init_model(self, model: nn.Module) -> None:  # noqa: B027
        """Change a freshly built network's initialisation in place (e.g. start an SDF from
        a sphere); not called when resuming. The default keeps the network's own."""

    def to(self, device: torch.device) -> Task:
        """Move the task's tensors to ``device``; tasks holding tensors override this."""
        return self

    @abstractmethod
    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Any:
        """The training batch of ``step``; random draws must use ``generator`` (reproducible).

        ``batch_size`` None means the task's natural full batch.
        """

    @abstractmethod
    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Scalar loss and detached scalar tensors to log (converted only when logged)."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Full-quality metrics of the current model (run every ``eval_every`` steps)."""
        return {}

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:  # noqa: B027
        """Write the final pictures, files and figures into ``run_dir``."""

    def meta(self) -> dict[str, Any]:
        """JSON-able facts stored in the checkpoint (e.g. image shape) for later rendering."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Training state the task keeps between steps (e.g. an error-driven sampler's errors),
        saved in every checkpoint so that a resumed run continues exactly."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027
        """Restore what :meth:`state_dict` returned; ``{}`` is the state of a fresh run (the
        trainer passes it at the start of every run that is not resumed)."""

    def learning_rate(self, scheduled: float) -> float:
        """The learning rate of the next step, given the schedule's: a task may lower it from
        how its fit goes (e.g. when the training quality flattens); asked before every step."""
        return scheduled

    def should_stop(self, model: nn.Module) -> str | None:
        """Why training may end before its last step (e.g. a target quality was reached), or
        None to go on; asked after every step, with ``model`` the network as the run would
        end now (the average of the weights, if the run keeps one), on which a task may
        confirm what its training estimate says."""
        return None


def points_per_step(task: str, batch_size: int | None, growth_every: int = 0) -> int:
    """The batch size of a task that draws a new random batch (points, images) every step.

    Such a task has no full batch to fall back on, so ``--batch-size`` must be a number and
    cannot grow into the full batch (``--batch-growth-every 0``). Configs call this in
    ``setup()`` (before any work) and tasks in ``batch()``.
    """
    if batch_size is None or growth_every > 0:
        raise SirenkitError(
            f"{task} draws a new random batch every step and has no full batch: give "
            "--batch-size a number and leave --batch-growth-every at 0"
        )
    return batch_size
