"""Burgers' equation, u_t + u u_x = (0.01 / pi) u_xx on x in [-1, 1], t in [0, 0.99], with
u(x, 0) = -sin(pi x) and u(-1, t) = u(1, t) = 0 (DeepXDE's Burgers example)."""

import math

import numpy as np
import torch

import sirenkit as sk

nu = 0.01 / math.pi


def burgers(f):
    return f.d("t") + f.u * f.d("x") - nu * f.d("x", "x")


space_time = sk.domains.Box([-1, 0], [1, 0.99])
problem = sk.Problem(
    [
        sk.Constraint(space_time, burgers, points=2540),
        sk.Constraint(space_time.faces("x"), lambda f: f.u, points=80),
        sk.Constraint(
            space_time.face("t", 0), lambda f: f.u + torch.sin(math.pi * f.x[:, :1]), points=160
        ),
    ],
    names=("x", "t"),
)
field = sk.Siren(2, 64, 2, 1, first_omega_0=5.0)
steps, then_lbfgs = 3000, 0

path = sk.problems.data_path("pde/Burgers.npz")
reference = None
if path is not None:
    with np.load(path) as d:
        reference = sk.Reference.grid([d["x"], d["t"]], d["usol"])
