"""The paper's wave equation: u_tt = c^2 Laplacian(u) on [-1, 1]^2 for t in [0, 0.5], from a
Gaussian pulse at rest (residual :func:`sirenkit.physics.wave.wave_residual`); the reference is
the free-space solution (the pulse does not reach the border by t = 0.5)."""

import numpy as np
import torch

import sirenkit as sk
from sirenkit.physics.analytic import pulse_solution
from sirenkit.physics.media import VelocityMap
from sirenkit.physics.wave import gaussian_pulse, wave_residual

duration, width = 0.5, 0.1
medium = VelocityMap("uniform")


def wave(f):
    second = torch.cat([f.d("t", "t"), f.d("x", "x"), f.d("y", "y")], 1)
    return wave_residual(f.x, second, medium)


space_time = sk.domains.Box([0, -1, -1], [duration, 1, 1])
start = space_time.face("t", 0)
problem = sk.Problem(
    [
        sk.Constraint(space_time, wave, points=1024),
        sk.Constraint(
            start,
            lambda f: f.u[:, 0] - gaussian_pulse(f.x[:, 1:], (0, 0), width),
            points=512,
            weight=10,
        ),
        sk.Constraint(start, lambda f: f.d("t"), points=512, weight=10),
    ],
    names=("t", "x", "y"),
)
field = sk.Siren(3, 128, 2, 1, w0=15.0)
steps = 2000

times, xs = np.linspace(0, duration, 5), np.linspace(-1, 1, 41)
points = np.stack(np.meshgrid(times, xs, xs, indexing="ij"), -1).reshape(-1, 3)
r = np.linalg.norm(points[:, 1:], axis=1)
values = np.concatenate([pulse_solution(r[points[:, 0] == t], t, width) for t in times])
reference = sk.Reference(points, values)
