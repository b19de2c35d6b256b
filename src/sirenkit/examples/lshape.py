"""Poisson's equation -Laplacian(u) = 1 on the L-shape [-1, 1]^2 minus (0, 1] x (0, 1], with
u = 0 on its boundary (DeepXDE's Poisson L-shape example)."""

import sirenkit as sk

lshape = sk.domains.Polygon([[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]])
problem = sk.Problem(
    [
        sk.Constraint(lshape, lambda f: f.lap + 1, points=1200),
        sk.Constraint(lshape.boundary, lambda f: f.u, points=120),
    ],
    names=("x", "y"),
)
field = sk.Siren(2, 32, 2, 1, w0=5.0)
steps, then_lbfgs = 1000, 2000

path = sk.problems.data_path("pde/Poisson_Lshape.npz")
reference = None
if path is not None:  # y_ref is NaN in the removed quadrant: Reference drops those points
    reference = sk.Reference.load(path, points="X_test", values="y_ref", domain=lshape)
