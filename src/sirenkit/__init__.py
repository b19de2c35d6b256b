"""sirenkit: implicit neural representations with periodic activation functions (SIREN).

The public API; everything else is reachable through the subpackages (``sirenkit.nets``,
``sirenkit.derivatives``, ``sirenkit.problems``, ``sirenkit.signals``, ``sirenkit.tasks``,
``sirenkit.training``).

Names are imported on first use (PEP 562, through scientific Python's ``lazy_loader``):
``import sirenkit`` and ``sirenkit --help`` stay free of torch (about two CPU seconds), and
``sirenkit.Siren`` imports what it needs.
"""

import lazy_loader

__version__ = "0.1.0"

__getattr__, __dir__, _names = lazy_loader.attach(
    __name__,
    submodules=[
        "compare",
        "compress",
        "derivatives",
        "errors",
        "examples",
        "functa",
        "geometry",
        "metrics",
        "nets",
        "physics",
        "problems",
        "runtime",
        "signals",
        "tasks",
        "training",
        "viewer",
        "viz",
    ],
    submod_attrs={
        "derivatives": [
            "FieldDerivatives",
            "divergence",
            "gradient",
            "hessian",
            "jacobian",
            "laplacian",
            "value_and_derivatives",
        ],
        "errors": ["SirenkitError"],
        "geometry.meshing": ["extract_mesh"],
        "metrics": ["psnr", "ssim"],
        "nets": ["ModelConfig", "SineLayer", "Siren", "build_model", "list_models"],
        "nets.hypernet": ["HyperNetwork", "SirenPrior"],
        "problems": ["Constraint", "Problem", "Reference", "domains", "solve"],
        "render": ["render"],  # the function shadows its module, as before
        "signals": ["grid", "load_image", "save_image"],
        "signals.audio": ["load_audio", "save_audio"],
        "signals.video": ["load_video", "save_video"],
        "training": ["TrainConfig", "load"],
    },
)
__all__ = ["__version__", *_names]
