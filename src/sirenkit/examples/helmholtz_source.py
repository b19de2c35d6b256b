"""The paper's Helmholtz problem: Laplacian(u) + k^2 u = -f for a Gaussian point source at the
origin, k = 20, on [-1, 1]^2 with a perfectly matched layer of width 0.5 (the residual is
:func:`sirenkit.physics.helmholtz.helmholtz_residual`); u is complex: outputs (real, imag)."""

import numpy as np
import torch

import sirenkit as sk
from sirenkit.physics.analytic import hankel_solution
from sirenkit.physics.helmholtz import helmholtz_residual
from sirenkit.physics.pml import PML
from sirenkit.physics.source import GaussianSource

k = 20.0
pml = PML(thickness=0.5, a0=5.0)
source = GaussianSource(center=(0.0, 0.0), width=0.03)


def helmholtz(f):
    u = f.complex
    du = torch.stack([u.d("x"), u.d("y")], -1)
    d2u = torch.stack([u.d("x", "x"), u.d("y", "y")], -1)
    ones = torch.ones(len(f.x), device=f.x.device)
    return helmholtz_residual(
        f.x, u.u, du, d2u, k=k, slowness2=ones, source=source(f.x)[:, None], pml=pml
    )


square = sk.domains.Box([-1, -1], [1, 1])
physical = sk.domains.Box([-pml.inner] * 2, [pml.inner] * 2)
problem = sk.Problem(
    [sk.Constraint(square, helmholtz, points=1536), sk.Constraint(physical, helmholtz, points=512)],
    names=("x", "y"),
    outputs=2,
)
field = sk.Siren(2, 64, 2, 2, w0=20.0)
steps = 3000

# In the physical domain, away from the source, the field is the free-space (Hankel) one.
grid = np.stack(np.meshgrid(*[np.linspace(-pml.inner, pml.inner, 41)] * 2, indexing="ij"), -1)
grid = grid.reshape(-1, 2)
grid = grid[np.linalg.norm(grid, axis=1) > 5 * source.width]
exact = hankel_solution(grid, k, source)
reference = sk.Reference(grid, np.stack([exact.real, exact.imag], 1))
