"""A :class:`~.problem.Problem` as a :class:`~sirenkit.training.task.Task`: the shared loop
trains it (progress bar, run folder, metrics.jsonl, checkpoints, resume, L-BFGS finish)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError
from ..nets.registry import TaskShape
from ..training.task import Task
from .problem import Batch, Problem, Reference, model_dtype, unknown_values

OVERFIT = 10.0
"""A constraint whose RMS residual at fresh points is this many times the one at the L-BFGS
phase's fixed points holds at those points only: the run says so."""

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
    follows_model_dtype: ClassVar[bool] = True

    def __init__(
        self,
        problem: Problem,
        reference: Reference | None = None,
        *,
        w0: float = PROBLEM_W0,
        label: str | None = None,
    ) -> None:
        if reference is not None:
            reference.check(problem)
        self.problem, self.reference, self.w0 = problem, reference, w0
        self._label = label or problem.name
        self.device = torch.device("cpu")
        self.headline = "rel_l2" if reference is not None else "loss"
        self._fixed: Batch | None = None
        self._saved: dict[str, Any] | None = None
        self._checked = not problem.unknowns
        self._rms: dict[str, float] | None = None
        """The last evaluation's RMS residuals (the final one's go to residual.json)."""
        self._warned = False

    @property
    def shape(self) -> TaskShape:
        return TaskShape(self.problem.dim, self.problem.outputs, w0=self.w0)

    @property
    def label(self) -> str:
        return self._label

    def to(self, device: torch.device) -> ProblemTask:
        self.device = torch.device(device)
        for p in self.problem.unknowns.values():  # in place: the residuals hold these objects
            p.data = p.data.to(self.device)
        return self

    def parameters(self) -> list[nn.Parameter]:
        return list(self.problem.unknowns.values())

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
        state = {}
        if self.problem.unknowns:
            state["unknowns"] = {k: p.detach().clone() for k, p in self.problem.unknowns.items()}
        fixed = self._fixed
        if fixed is not None and all(u is None for u in fixed.noise):
            state |= {"points": list(fixed.points), "data": list(fixed.data)}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """A checkpoint's state, or ``{}``: a fresh run, whose unknowns start from the values
        the problem was given (not where an earlier run on the same problem left them)."""
        self._saved = state if "points" in state else None
        self._fixed, self._warned = None, False
        values = state.get("unknowns", self.problem.start)
        with torch.no_grad():
            for k, p in self.problem.unknowns.items():
                # in the saved dtype: a run whose L-BFGS phase went on in float64 resumes so
                p.data = values[k].detach().to(p.device).clone()

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        total, logs = self.problem.loss(model, batch)
        if not self._checked:  # once: an unknown no residual uses would silently stay put
            grads = torch.autograd.grad(
                total, self.parameters(), retain_graph=True, allow_unused=True
            )
            unused = [k for k, g in zip(self.problem.unknowns, grads, strict=True) if g is None]
            if unused:
                raise SirenkitError(
                    f"unknown {unused[0]!r} appears in no residual (use the Parameter object "
                    "itself in a constraint's residual)"
                )
            self._checked = True
        return total, logs

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """The error against the reference when there is one, and every constraint's RMS
        residual at fresh points: a problem without a reference still ends with figures."""
        out = {} if self.reference is None else self.reference.errors(self.problem, model)
        out.update({k: float(v) for k, v in unknown_values(self.problem.unknowns).items()})
        self._rms = residual_rms(self.problem, model)
        out.update({f"rms_{k}": v for k, v in self._rms.items()})
        self._check_fixed_points(model)
        return out

    def _check_fixed_points(self, model: nn.Module) -> None:
        """Say (once a run) when the field satisfies a constraint at the L-BFGS phase's fixed
        points only: with too few points, L-BFGS fits a field that is wrong between them (an
        eigenproblem on 128 points ended with RMS residual 4.6 at fresh points against 0.03 at
        its own; 1024 points found the eigenvalue)."""
        fixed = self._fixed
        if fixed is None or self._warned or self._rms is None:
            return
        for i, c in enumerate(self.problem.constraints):
            if fixed.noise[i] is not None:  # its points are not picked yet
                continue
            with torch.no_grad():
                r = self.problem.residual(c, model, fixed.points[i], fixed.data[i])
            own = _rms(r)
            fresh = self._rms[c.name]
            if fresh > OVERFIT * max(own, 1e-12):
                print(
                    f"sirenkit: constraint {c.name}: RMS residual {fresh:.3g} at fresh points "
                    f"but {own:.3g} at the {len(r)} points L-BFGS fits: the field holds there "
                    "only; give the constraint more points (points=...)",
                    file=sys.stderr,
                )
                self._warned = True
                return

    def meta(self) -> dict[str, Any]:
        return {
            "names": list(self.problem.names),
            "outputs": self.problem.outputs,
            "output_names": list(self.problem.labels),
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        from .figures import write_solution_figures

        write_solution_figures(self.problem, model, run_dir, self.reference, self._rms)


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
        out[c.name] = _rms(r)
    return out


def _rms(r: torch.Tensor) -> float:
    """Root mean square of a (possibly complex) residual."""
    return float(np.sqrt(float((r.abs() ** 2).mean())))
