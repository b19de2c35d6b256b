"""``--log tensorboard``: a training callback mirroring the run into TensorBoard event files.

``metrics.jsonl`` stays the one record of a run; this callback copies each record that the loop
appended (train scalars as ``train/NAME``, full evaluations as ``eval/NAME``) into
``RUN/tb/`` as they come, and at the end the run folder's pictures (PNG) and sounds (WAV), so
``tensorboard --logdir runs`` shows every run. Needs the ``tensorboard`` extra.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ..errors import SirenkitError, optional_import

SKIPPED = ("step", "time", "eval")
"""Record fields that are not scalars to plot."""


def require_tensorboard() -> None:
    """Fail before any work when the extra is missing (one line naming it)."""
    optional_import("tensorboard", "tensorboard", "--log tensorboard")
    optional_import("torch.utils.tensorboard", "tensorboard", "--log tensorboard")


class TensorBoardLog:
    """Callback ``fn(step, model)`` for :func:`sirenkit.training.loop.train`; call
    :meth:`finish` once the run folder's outputs are written."""

    def __init__(self, run_dir: Path, log_every: int, start_step: int = 0) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir = Path(run_dir)
        self.log_every = log_every
        self.start_step = start_step
        # a resumed run drops the events past its checkpoint, as metrics.jsonl does
        self.writer = SummaryWriter(str(self.run_dir / "tb"), purge_step=start_step or None)
        self.offset = 0

    def __call__(self, step: int, model: nn.Module) -> None:
        if step % self.log_every == 0:
            self.mirror()

    def mirror(self) -> None:
        """Copy the records appended to metrics.jsonl since the last call."""
        path = self.run_dir / "metrics.jsonl"
        try:
            with path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            try:
                record: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            step = int(record.get("step", 0))
            if step <= self.start_step and self.start_step:
                continue
            group = "eval" if record.get("eval") else "train"
            for k, v in record.items():
                if k not in SKIPPED and isinstance(v, int | float) and not isinstance(v, bool):
                    self.writer.add_scalar(f"{group}/{k}", v, step)

    def finish(self, step: int) -> None:
        """Mirror the last records and add the run's pictures and sounds at ``step``."""
        from PIL import Image

        self.mirror()
        for png in sorted(self.run_dir.glob("*.png")):
            img = np.asarray(Image.open(png).convert("RGB"))
            self.writer.add_image(png.stem, img, step, dataformats="HWC")
        for wav in sorted(self.run_dir.glob("*.wav")):
            import soundfile

            samples, rate = soundfile.read(wav, dtype="float32", always_2d=True)
            import torch

            clip = torch.from_numpy(np.clip(samples[:, 0], -1, 1))[None]
            self.writer.add_audio(wav.stem, clip, step, sample_rate=int(rate))
        self.writer.close()


def open_log(
    kind: str, run_dir: Path, log_every: int, start_step: int = 0
) -> TensorBoardLog | None:
    """The logger ``TrainConfig.log`` names, or None for 'none'."""
    if kind == "none":
        return None
    if kind == "tensorboard":
        require_tensorboard()
        return TensorBoardLog(run_dir, log_every, start_step)
    raise SirenkitError(f"--log must be none or tensorboard, got {kind!r}")
