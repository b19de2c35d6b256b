"""Poisson's equation -Laplacian(u) = 1 on the L-shape [-1, 1]^2 minus (0, 1] x (0, 1], with
u = 0 on its boundary (DeepXDE's Poisson L-shape example).

The boundary condition is exact (a hard constraint): the field is the network times a factor
that vanishes on the whole boundary, ``(1 - x^2)(1 - y^2)`` on the outer edges times
``r^(2/3) sin(2 phi / 3)`` on the two edges meeting at the re-entrant corner. That second factor
is the solution's own singular part there (``phi`` is the angle from the edge ``x = 0, y > 0``
into the domain), so the network only fits a bounded, smooth quotient (docs/pde.md: measured).
"""

import math

import torch

import sirenkit as sk

lshape = sk.domains.Polygon([[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]])


def corner(p):
    """r^(2/3) sin(2 phi / 3): zero on both edges at the re-entrant corner, harmonic inside."""
    x, y = p[:, :1], p[:, 1:]
    phi = torch.remainder(torch.atan2(y, x) - math.pi / 2, 2 * math.pi)
    return (x * x + y * y) ** (1 / 3) * torch.sin(2 * phi / 3)


def zero_on_boundary(p, net):
    x, y = p[:, :1], p[:, 1:]
    return (1 - x * x) * (1 - y * y) * corner(p) * net


problem = sk.Problem(
    [sk.Constraint(lshape, lambda f: f.lap + 1, points=1200)],
    names=("x", "y"),
    transform=zero_on_boundary,
)
field = sk.Siren(2, 32, 2, 1, w0=5.0)
steps, then_lbfgs = 500, 500

path = sk.problems.data_path("pde/Poisson_Lshape.npz")
reference = None
if path is not None:  # y_ref is NaN in the removed quadrant: Reference drops those points
    reference = sk.Reference.load(path, points="X_test", values="y_ref", domain=lshape)
