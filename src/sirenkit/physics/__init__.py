"""PDE physics: residuals, media, the perfectly matched layer, sources and references.

Everything a PDE task needs besides the network: the residuals its loss is made of (Poisson
supervision, Helmholtz with a PML, the wave equation), velocity maps, the complex coordinate
stretch of the PML, the Gaussian point source, and independent solutions to score a network
against (finite differences for Helmholtz and the wave equation, Hankel functions for a
uniform medium). Tasks define problems from these pieces; no residual lives in a task.
"""

from .analytic import hankel_solution, pulse_solution
from .helmholtz_fd import HelmholtzProblem, solve_helmholtz
from .media import VelocityMap
from .pml import PML
from .source import GaussianSource
from .wave_fd import leapfrog

__all__ = [
    "PML",
    "GaussianSource",
    "HelmholtzProblem",
    "VelocityMap",
    "hankel_solution",
    "leapfrog",
    "pulse_solution",
    "solve_helmholtz",
]
