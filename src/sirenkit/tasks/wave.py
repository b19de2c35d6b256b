"""Solving the 2-D acoustic wave equation from an initial pulse with a network.

The problem is a constraint set (:func:`sirenkit.physics.wave.wave_problem`): the network maps
``(t, x0, x1)`` to the pressure ``u``; the loss is the mean squared residual of
``u_tt - c^2 (u_x0x0 + u_x1x1)`` at random space-time points, plus the initial conditions
``u(0) = exp(-|x - x_c|^2 / (2 s^2))`` and ``u_t(0) = 0``. As in the paper, the time window
the residual sees grows during training (``--window-start``, ``--window-until``), so the
solution is learnt outward from the initial condition. Scored against a leapfrog reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError, require_positive
from ..metrics import relative_l2
from ..nets.config import ModelConfig
from ..nets.registry import TaskShape
from ..physics.media import MediumOptions, VelocityMap
from ..physics.wave import gaussian_pulse, space_time, wave_problem
from ..physics.wave_fd import leapfrog
from ..problems import ProblemTask, Reference
from ..problems.problem import Batch
from ..render import in_chunks, model_device
from ..training.config import RunOptions, TrainConfig
from ..training.task import points_per_step
from ..viz.animation import save_gif
from ..viz.figures import Panel, save_panels


@dataclass
class SolveWaveConfig(RunOptions):
    """Solve the 2-D wave equation from a Gaussian pulse with a network supervised by the PDE
    residual and the initial conditions; score it against a leapfrog reference."""

    duration: float = 0.5
    """Final time T (the network covers t in [0, T])."""
    pulse_width: float = 0.1
    """Standard deviation s of the initial Gaussian pulse."""
    pulse_center: tuple[float, float] = (0.0, 0.0)
    """Centre of the pulse."""
    initial_points: int = 512
    """Points at t = 0 in every batch (half of them within 3 s of the pulse)."""
    initial_weight: float = 10.0
    """Weight of the initial-condition terms against the residual."""
    window_start: float = 0.1
    """Time window at step 0, as a fraction of T (1: no growing window)."""
    window_until: float = 0.6
    """Fraction of the training steps after which the window covers all of [0, T]."""
    reference_grid: int = 64
    """Nodes per side of the leapfrog reference on [-1, 1]^2 (also the scoring grid)."""
    frames: int = 11
    """Snapshots in time where the network is scored and drawn (animation frames)."""
    media: MediumOptions = field(default_factory=MediumOptions)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=128, layers=4))
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000, lr=1e-3, batch_size=1024, eval_every=500, checkpoint_every=500
        )
    )

    def setup(self) -> WaveTask:
        points_per_step(WaveTask.name, self.train.batch_size, self.train.batch_growth_every)
        return WaveTask(
            self.media.build(),
            points=self.train.batch_size,
            duration=self.duration,
            pulse_width=self.pulse_width,
            pulse_center=self.pulse_center,
            initial_points=self.initial_points,
            initial_weight=self.initial_weight,
            window_start=self.window_start,
            window_until=self.window_until,
            total_steps=self.train.steps,
            reference_grid=self.reference_grid,
            frames=self.frames,
        )


class WaveTask(ProblemTask):
    """``(t, x0, x1) -> u`` from the wave equation and the initial conditions."""

    name = "wave"

    def __init__(
        self,
        medium: VelocityMap,
        *,
        points: int,
        total_steps: int,
        duration: float = SolveWaveConfig.duration,
        pulse_width: float = SolveWaveConfig.pulse_width,
        pulse_center: tuple[float, float] = SolveWaveConfig.pulse_center,
        initial_points: int = SolveWaveConfig.initial_points,
        initial_weight: float = SolveWaveConfig.initial_weight,
        window_start: float = SolveWaveConfig.window_start,
        window_until: float = SolveWaveConfig.window_until,
        reference_grid: int = SolveWaveConfig.reference_grid,
        frames: int = SolveWaveConfig.frames,
    ) -> None:
        require_positive("--batch-size", points)
        require_positive("--duration", duration)
        require_positive("--pulse-width", pulse_width)
        require_positive("--frames", frames)
        if not 0 < window_start <= 1 or not 0 <= window_until <= 1:
            raise SirenkitError("--window-start must be in (0, 1] and --window-until in [0, 1]")
        if reference_grid < 8:
            raise SirenkitError(f"--reference-grid must be at least 8, got {reference_grid}")
        problem = wave_problem(
            medium,
            duration=duration,
            pulse_center=pulse_center,
            pulse_width=pulse_width,
            points=points,
            initial_points=max(2, initial_points),
            initial_weight=initial_weight,
        )
        super().__init__(problem, w0=30.0, label=medium.kind)
        self.headline = "rel_l2"
        self.medium = medium
        self.duration = duration
        self.width = pulse_width
        self.center = pulse_center
        self.window_start = window_start
        self.window_until = window_until
        self.total_steps = total_steps
        self.n = reference_grid
        self.times = np.linspace(0, duration, frames) if frames > 1 else np.array([duration])
        self.reference_field = leapfrog(self.initial, medium, self.times, n=reference_grid)
        axis = torch.linspace(-1, 1, reference_grid)
        self.space = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)

    def initial(self, points: np.ndarray | torch.Tensor):
        """The initial pulse at ``points`` ``(P, 2)`` (numpy or torch)."""
        return gaussian_pulse(points, self.center, self.width)

    @property
    def shape(self) -> TaskShape:
        return TaskShape(3, 1, None, w0=30.0)

    def window(self, step: int) -> float:
        """End of the time window the residual sees at ``step`` (grows linearly to T)."""
        ramp = self.window_until * self.total_steps
        frac = 1.0 if ramp <= 0 else min(1.0, step / ramp)
        return self.duration * (self.window_start + (1 - self.window_start) * frac)

    def batch(self, step: int, generator: torch.Generator, batch_size: int | None) -> Batch:
        """The problem's points, the residual's drawn within the time window of ``step``."""
        self.problem.constraints[0].domain = space_time(self.window(step))
        return self.problem.sample(generator).to(self.device)

    def as_reference(self) -> Reference:
        """The leapfrog snapshots as points ``(t, x0, x1)`` and values, for
        :func:`sirenkit.solve` and problem files."""
        t = torch.from_numpy(self.times).float().repeat_interleave(len(self.space))
        pts = torch.cat([t[:, None], self.space.repeat(len(self.times), 1)], dim=1)
        return Reference(pts, self.reference_field.reshape(-1))

    def predict(self, model: nn.Module) -> np.ndarray:
        """The network's field at the snapshot times on the reference grid, ``(T, n, n)``."""
        dev = model_device(model)
        out = []
        with torch.no_grad():
            for t in self.times:
                tt = torch.full((self.space.shape[0], 1), float(t))
                pts = torch.cat([tt, self.space], dim=1).to(dev)
                out.append(in_chunks(model, pts).reshape(self.n, self.n).cpu().numpy())
        return np.stack(out).astype(np.float64)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pred = self.predict(model)
        return {
            "rel_l2": relative_l2(pred, self.reference_field),
            "mse": float(np.mean((pred - self.reference_field) ** 2)),
            "rel_l2_final": relative_l2(pred[-1], self.reference_field[-1]),
        }

    def write_outputs(self, model: nn.Module, run_dir: Path) -> None:
        pred = self.predict(model)
        ref = self.reference_field
        vmax = float(np.abs(ref).max()) or 1.0
        err = np.abs(pred - ref)
        save_gif(
            run_dir / "wave.gif",
            [pred, ref, err],
            cmaps=["RdBu_r", "RdBu_r", "viridis"],
            limits=[(-vmax, vmax), (-vmax, vmax), (0, vmax)],
        )
        picks = sorted({0, len(self.times) // 2, len(self.times) - 1})
        panels = []
        for i in picks:
            panels.append(Panel(f"network, t={self.times[i]:.2f}", pred[i], "RdBu_r", -vmax, vmax))
            panels.append(Panel(f"leapfrog, t={self.times[i]:.2f}", ref[i], "RdBu_r", -vmax, vmax))
            panels.append(Panel(f"|error|, t={self.times[i]:.2f}", err[i], "viridis", 0, vmax))
        save_panels(run_dir / "frames.png", panels, cols=3)
        per_frame = [relative_l2(p, r) for p, r in zip(pred, ref, strict=True)]
        self._error_plot(run_dir / "error_vs_time.png", per_frame)
        np.savez_compressed(run_dir / "fields.npz", network=pred, reference=ref, times=self.times)

    def _error_plot(self, path: Path, per_frame: list[float]) -> None:
        from ..viz.figures import pyplot

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(self.times, per_frame, "o-")
        ax.set_xlabel("t")
        ax.set_ylabel("relative L2 error vs leapfrog")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    def meta(self) -> dict[str, Any]:
        return {"duration": self.duration, "medium": self.medium.kind}


def solve_wave_command(cfg: SolveWaveConfig):
    """CLI entry: ``sirenkit solve wave``."""
    from ..training.run import run

    return run(cfg)
