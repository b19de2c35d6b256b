"""Problems posed as constraints on domains: the SIREN paper's equation 1 as the API.

Find the field ``u`` such that ``C_m(x, u, grad u, ...) = 0`` on domains ``Omega_m``::

    import math, torch, sirenkit as sk

    nu = 0.01 / math.pi
    space_time = sk.domains.Box([-1, 0], [1, 0.99])
    problem = sk.Problem([
        sk.Constraint(space_time, lambda f: f.d("t") + f.u * f.d("x") - nu * f.d("x", "x"),
                      points=2540),
        sk.Constraint(space_time.faces("x"), lambda f: f.u, points=80),
        sk.Constraint(space_time.face("t", 0),
                      lambda f: f.u + torch.sin(math.pi * f.x[:, :1]), points=160),
    ], names=("x", "t"))
    run = sk.solve(problem, sk.Siren(2, 64, 2, 1, w0=5), steps=3000, then_lbfgs=500)
"""

from . import domains
from .field import ComplexField, Field
from .problem import Constraint, Problem, Reference
from .solve import SolveConfig, data_path, examples, solve, solve_command
from .task import ProblemTask

__all__ = [
    "ComplexField",
    "Constraint",
    "Field",
    "Problem",
    "ProblemTask",
    "Reference",
    "SolveConfig",
    "data_path",
    "domains",
    "examples",
    "solve",
    "solve_command",
]
