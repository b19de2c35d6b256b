"""The paper's wave equation, with the builder `sirenkit solve wave` uses
(:func:`sirenkit.physics.wave.wave_problem`; the command also grows the time window as it
trains): u_tt = c^2 Laplacian(u) on [-1, 1]^2 for t in [0, 0.5], from a Gaussian pulse at rest;
the reference is the free-space solution (the pulse does not reach the border by t = 0.5)."""

import numpy as np

import sirenkit as sk
from sirenkit.physics.analytic import pulse_solution
from sirenkit.physics.media import VelocityMap
from sirenkit.physics.wave import wave_problem

duration, width = 0.5, 0.1
problem = wave_problem(
    VelocityMap("uniform"),
    duration=duration,
    pulse_center=(0.0, 0.0),
    pulse_width=width,
    points=1024,
    initial_points=1024,
    initial_weight=10.0,
)
field = sk.Siren(3, 128, 2, 1, w0=15.0)
steps = 2000

times, xs = np.linspace(0, duration, 5), np.linspace(-1, 1, 41)
points = np.stack(np.meshgrid(times, xs, xs, indexing="ij"), -1).reshape(-1, 3)
r = np.linalg.norm(points[:, 1:], axis=1)
values = np.concatenate([pulse_solution(r[points[:, 0] == t], t, width) for t in times])
reference = sk.Reference(points, values)
