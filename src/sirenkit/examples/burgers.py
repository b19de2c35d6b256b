"""Burgers' equation, u_t + u u_x = (0.01 / pi) u_xx on x in [-1, 1], t in [0, 0.99], with
u(x, 0) = -sin(pi x) and u(-1, t) = u(1, t) = 0 (DeepXDE's Burgers example; docs/pde.md)."""

import math

import numpy as np
import torch

import sirenkit as sk

nu = 0.01 / math.pi
space_time = sk.domains.Box([-1, 0], [1, 0.99])


def burgers(f):
    return f.d("t") + f.u * f.d("x") - nu * f.d("x", "x")


def start(f):
    return f.u + torch.sin(math.pi * f.coord("x"))


problem = sk.Problem(
    [
        sk.Constraint(space_time, burgers, points=2540),
        sk.Constraint(space_time.faces("x"), lambda f: f.u, points=80),
        sk.Constraint(space_time.face("t", 0), start, points=160),
    ],
    names=("x", "t"),
)
# A small SIREN with a low first-layer frequency, Adam, then L-BFGS (docs/pde.md: measured).
# The problem is odd in x (invariant under (x, u) -> (-x, -u)): the field imposes it exactly,
# u(x, t) = (N(x, t) - N(-x, t)) / 2, a hard constraint that pins the shock at x = 0.
field = sk.nets.Symmetric(sk.Siren(2, 32, 2, 1, w0=5.0), axes=0, parity=-1)
steps, then_lbfgs = 1000, 3000

path = sk.problems.data_path("pde/Burgers.npz")
reference = None
if path is not None:
    with np.load(path) as d:
        reference = sk.Reference.grid([d["x"], d["t"]], d["usol"])
