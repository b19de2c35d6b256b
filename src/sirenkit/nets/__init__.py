"""Networks: SIREN and (registered by name) the baselines it is compared against.

Imported on first use (see :mod:`sirenkit`): ``nets.config`` is read by every command's flags
without torch.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "config": ["ModelConfig"],
        "registry": [
            "TaskShape",
            "build_model",
            "list_models",
            "model_from_config",
            "model_spec",
        ],
        "siren": ["SineLayer", "Siren"],
        "symmetric": ["Symmetric"],
    },
)
