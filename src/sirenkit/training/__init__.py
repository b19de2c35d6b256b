"""Training: the shared loop, configs, schedules, checkpoints and run folders.

Imported on first use (see :mod:`sirenkit`): ``training.config`` is read by every command's
flags without torch.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "checkpoint": ["load", "read_checkpoint", "save_checkpoint"],
        "config": ["RunOptions", "TrainConfig"],
        "loop": ["Interrupted", "TrainResult", "TrainState", "resolve_device", "train"],
        "run": ["RunOutcome", "run"],
        "schedule": ["learning_rate"],
    },
)
