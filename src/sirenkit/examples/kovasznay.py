"""Kovasznay's flow: the steady Navier-Stokes equations for the velocity (u, v) and pressure p
at Re = 20 on [-0.5, 1] x [-0.5, 1.5], the velocity given on the boundary; its closed form
(Kovasznay 1948, DeepXDE's example) is the reference. Several outputs, read by name."""

import math

import torch

import sirenkit as sk

nu = 1 / 20
lam = 1 / (2 * nu) - math.sqrt(1 / (4 * nu**2) + 4 * math.pi**2)
box = sk.domains.Box([-0.5, -0.5], [1, 1.5])


def exact(x):
    e, y = torch.exp(lam * x[:, :1]), 2 * math.pi * x[:, 1:]
    u, v = 1 - e * torch.cos(y), lam / (2 * math.pi) * e * torch.sin(y)
    return torch.cat([u, v, 0.5 * (1 - e * e)], 1)


def navier_stokes(f):
    u, v, p = f["u"], f["v"], f["p"]
    return torch.cat(
        [
            u.u * u.d("x") + v.u * u.d("y") + p.d("x") - nu * u.lap,
            u.u * v.d("x") + v.u * v.d("y") + p.d("y") - nu * v.lap,
            u.d("x") + v.d("y"),
        ],
        1,
    )


problem = sk.Problem(
    [
        sk.Constraint(box, navier_stokes, points=2601),
        sk.Constraint(box.boundary, lambda f: f.u - exact(f.x), points=400),
    ],
    names=("x", "y"),
    outputs=("u", "v", "p"),
)
reference = exact
field = sk.Siren(2, 64, 3, 3, w0=3.0)
steps, then_lbfgs = 1000, 500
