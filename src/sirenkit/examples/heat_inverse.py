"""An inverse problem: the heat equation u_t = a u_xx on x in [0, 1], t in [0, 1] with the
diffusivity a unknown, found from 200 noisy observations of u alone (no initial or boundary
condition given). The observations are the exact solution exp(-a pi^2 t) sin(pi x) for a = 0.4
at random points, plus noise of 1 % of its peak (DeepXDE's diffusion inverse examples)."""

import math

import torch
from torch import nn

import sirenkit as sk

a = nn.Parameter(torch.tensor(0.1))  # a guess; trained with the field, logged as `a`
space_time = sk.domains.Box([0, 0], [1, 1])


def heat(f):
    return f.d("t") - a * f.d("x", "x")


def observed(f):
    return f.u - f.data


def exact(x):
    return torch.exp(-0.4 * math.pi**2 * x[:, 1:]) * torch.sin(math.pi * x[:, :1])


seen = torch.rand(200, 2, generator=torch.Generator().manual_seed(0))
noise = 0.01 * torch.randn(200, 1, generator=torch.Generator().manual_seed(1))
problem = sk.Problem(
    [
        sk.Constraint(space_time, heat, points=2540),
        sk.Constraint(sk.domains.PointSet(seen, exact(seen) + noise), observed),
    ],
    names=("x", "t"),
    unknowns={"a": a},
)
reference = exact
field = sk.Siren(2, 32, 2, 1, w0=3.0)
steps, then_lbfgs = 1000, 500
