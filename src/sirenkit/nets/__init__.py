"""Networks: SIREN and (registered by name) the baselines it is compared against."""

from .config import ModelConfig
from .registry import TaskShape, build_model, list_models, model_from_config, model_spec
from .siren import SineLayer, Siren

__all__ = [
    "ModelConfig",
    "SineLayer",
    "Siren",
    "TaskShape",
    "build_model",
    "list_models",
    "model_from_config",
    "model_spec",
]
