"""A :class:`~.problem.Problem` as a :class:`~sirenkit.training.task.Task`: the shared loop
trains it (progress bar, run folder, metrics.jsonl, checkpoints, resume, L-BFGS finish)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError
from ..nets.registry import TaskShape
from ..training.task import Task
from .problem import Batch, Problem, Reference, model_dtype

PROBLEM_W0 = 3.0
"""First-layer w0 of a SIREN that a problem gets when it names none. PDE solutions are smooth at
the scale of the [-1, 1] domain; the image default 30 starts with many oscillations per unit and,
fitted through derivatives, stays there: on u'' = -pi^2 sin(pi x), u(+-1) = 0 (64x4 SIREN, 300
Adam steps) the relative L2 error is 1.0 at w0 30, 0.32 at 10, 0.02 at 5, 8e-4 at 3, 2e-3 at 1."""


class ProblemTask(Task):
    """Train a network so that every constraint of ``problem`` holds.

    Arguments:
        problem: the constraints.
        reference: the exact or reference solution, to report the relative L2 error.
        w0: first-layer frequency of a SIREN built for it by name (``--model siren``).
        label: run-folder name part (default: the problem's name).
    """

    name: ClassVar[str] = "solve"

    def __init__(
        self,
        problem: Problem,
        reference: Reference | None = None,
        *,
        w0: float = PROBLEM_W0,
        label: str | None = None,
    ) -> None:
        self.problem, self.reference, self.w0 = problem, reference, w0
        self._label = label or problem.name
        self.device = torch.device("cpu")
        self.headline = "rel_l2" if reference is not None else "loss"
        self._fixed: Batch | None = None
        self._saved: dict[str, Any] | None = None

    @property
    def shape(self) -> TaskShape:
        return TaskShape(self.problem.dim, self.problem.outputs, w0=self.w0)

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> ProblemTask:
        self.device = torch.device(device)
        return self

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Batch:
        if batch_size is not None:
            raise SirenkitError(
                "--batch-size does not apply to a problem: each constraint draws its own "
                "points=N per step"
            )
        return self.problem.sample(generator).to(self.device)

    def fixed_batch(self, generator: torch.Generator) -> Batch:
        """The one batch of the L-BFGS phase (adaptive constraints pick theirs by residual at
        its first use; a resumed run gets the points picked before, from the checkpoint)."""
        if self._saved is not None:
            n = len(self._saved["points"])
            self._fixed = Batch(self._saved["points"], self._saved["data"], [None] * n)
        else:
            self._fixed = self.problem.sample(generator, adaptive=True)
        self._fixed = self._fixed.to(self.device)
        return self._fixed

    def state_dict(self) -> dict[str, Any]:
        fixed = self._fixed
        if fixed is None or any(u is not None for u in fixed.noise):
            return {}
        return {"points": list(fixed.points), "data": list(fixed.data)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._saved = state or None

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.problem.loss(model, batch)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """The error against the reference when there is one, and every constraint's RMS
        residual at fresh points: a problem without a reference still ends with figures."""
        out = (
            {} if self.reference is None else {"rel_l2": self.reference.error(self.problem, model)}
        )
        out.update({f"rms_{k}": v for k, v in residual_rms(self.problem, model).items()})
        return out

    def meta(self) -> dict[str, Any]:
        return {"names": list(self.problem.names), "outputs": self.problem.outputs}

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        from .figures import write_solution_figures

        write_solution_figures(self.problem, model, run_dir, self.reference)


def residual_rms(problem: Problem, model: nn.Module, points: int = 4096) -> dict[str, float]:
    """Root mean square residual of every constraint at fresh points (for the summary)."""
    gen = torch.Generator().manual_seed(4321)
    device, dtype = next(model.parameters()).device, model_dtype(model)
    out = {}
    for c in problem.constraints:
        x, d = c.domain.draw(
            c.points if c.points is None else min(points, 4 * c.points), gen, problem.names
        )
        x = x.to(device, dtype)
        d = None if d is None else d.to(device, dtype)
        with torch.no_grad():
            r = problem.residual(c, model, x, d)
        out[c.name] = float(np.sqrt(float((r.abs() ** 2).mean())))
    return out
