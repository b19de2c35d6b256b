"""The paper's Helmholtz problem, posed as `sirenkit solve helmholtz` poses it by default
(:func:`sirenkit.physics.helmholtz.helmholtz_problem`): Laplacian(u) + k^2 u = -f for a Gaussian
point source at the origin, k = 20, on [-1, 1]^2 with a perfectly matched layer of width 0.5;
u is complex: outputs (real, imag)."""

import numpy as np

import sirenkit as sk
from sirenkit.physics.analytic import hankel_solution
from sirenkit.physics.helmholtz import helmholtz_problem
from sirenkit.physics.helmholtz_fd import HelmholtzProblem
from sirenkit.physics.pml import PML
from sirenkit.physics.source import GaussianSource

source = GaussianSource(center=(0.0, 0.0), width=0.03)
setup = HelmholtzProblem(k=20.0, sources=[source], pml=PML(thickness=0.5, a0=5.0))
# 2048 points per step, a quarter of them inside the layer
problem = helmholtz_problem(
    setup, points=2048, physical_fraction=0.25, source_points=0, form="stretched"
)
field = sk.Siren(2, 64, 2, 2, w0=20.0)
steps = 3000

# In the physical domain, away from the source, the field is the free-space (Hankel) one.
inner = setup.pml.inner
grid = np.stack(np.meshgrid(*[np.linspace(-inner, inner, 41)] * 2, indexing="ij"), -1)
grid = grid.reshape(-1, 2)
grid = grid[np.linalg.norm(grid, axis=1) > 5 * source.width]
exact = hankel_solution(grid, setup.k, source)
reference = sk.Reference(grid, np.stack([exact.real, exact.imag], 1))
