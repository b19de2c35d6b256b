"""The heat equation u_t = a u_xx on x in [0, 1], t in [0, 1], with u(x, 0) = sin(pi x) and
u(0, t) = u(1, t) = 0; exact solution exp(-a pi^2 t) sin(pi x) (DeepXDE's heat example)."""

import math

import torch

import sirenkit as sk

a = 0.4
space_time = sk.domains.Box([0, 0], [1, 1])
problem = sk.Problem(
    [
        sk.Constraint(space_time, lambda f: f.d("t") - a * f.d("x", "x"), points=2540),
        sk.Constraint(space_time.faces("x"), lambda f: f.u, points=80),
        sk.Constraint(
            space_time.face("t", 0), lambda f: f.u - torch.sin(math.pi * f.coord("x")), points=160
        ),
    ],
    names=("x", "t"),
)


def reference(x):
    return torch.exp(-a * math.pi**2 * x[:, 1:]) * torch.sin(math.pi * x[:, :1])


field = sk.Siren(2, 32, 2, 1, w0=3.0)
steps, then_lbfgs = 1000, 200
