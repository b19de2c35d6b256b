"""sirenkit: implicit neural representations with periodic activation functions (SIREN).

The public API; everything else is reachable through the subpackages (``sirenkit.nets``,
``sirenkit.derivatives``, ``sirenkit.problems``, ``sirenkit.signals``, ``sirenkit.tasks``,
``sirenkit.training``).
"""

__version__ = "0.1.0"

from .derivatives import (
    FieldDerivatives,
    divergence,
    gradient,
    hessian,
    jacobian,
    laplacian,
    value_and_derivatives,
)
from .errors import SirenkitError
from .geometry.meshing import extract_mesh
from .metrics import psnr, ssim
from .nets import ModelConfig, SineLayer, Siren, build_model, list_models
from .nets.hypernet import HyperNetwork, SirenPrior
from .problems import Constraint, Problem, Reference, domains, solve
from .render import render
from .signals import grid, load_image, save_image
from .signals.audio import load_audio, save_audio
from .signals.video import load_video, save_video
from .training import TrainConfig, load

__all__ = [
    "Constraint",
    "FieldDerivatives",
    "HyperNetwork",
    "ModelConfig",
    "Problem",
    "Reference",
    "SineLayer",
    "Siren",
    "SirenPrior",
    "SirenkitError",
    "TrainConfig",
    "__version__",
    "build_model",
    "divergence",
    "domains",
    "extract_mesh",
    "gradient",
    "grid",
    "hessian",
    "jacobian",
    "laplacian",
    "list_models",
    "load",
    "load_audio",
    "load_image",
    "load_video",
    "psnr",
    "render",
    "save_audio",
    "save_image",
    "save_video",
    "solve",
    "ssim",
    "value_and_derivatives",
]
