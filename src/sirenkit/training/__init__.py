"""Training: the shared loop, configs, schedules, checkpoints and run folders."""

from .checkpoint import load, read_checkpoint, save_checkpoint
from .config import RunOptions, TrainConfig
from .loop import Interrupted, TrainResult, TrainState, resolve_device, train
from .run import RunOutcome, run
from .schedule import learning_rate

__all__ = [
    "Interrupted",
    "RunOptions",
    "RunOutcome",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "learning_rate",
    "load",
    "read_checkpoint",
    "resolve_device",
    "run",
    "save_checkpoint",
    "train",
]
