"""Side-by-side comparisons: several networks, one signal, one training budget.

``sirenkit compare image [PATH] --models siren,relu,...`` trains each network with the shared
driver (one run folder per model inside one comparison folder) and writes a table, a
convergence plot and the paper's Figure 1 panels for all of them.
"""

from .config import CompareImageConfig, CompareOptions
from .run import Comparison, ModelResult, compare, compare_command
from .targets import TASKS, Comparable

__all__ = [
    "TASKS",
    "Comparable",
    "CompareImageConfig",
    "CompareOptions",
    "Comparison",
    "ModelResult",
    "compare",
    "compare_command",
]
