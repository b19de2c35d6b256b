"""The bfloat16 probe: measured, and cheap where bfloat16 is emulated."""

from __future__ import annotations

import time

import torch

from sirenkit.training.precision import _best_seconds


def test_timing_gives_up_after_a_call_slower_than_the_limit():
    """Emulated bfloat16 is some 30x slower than float32: one timed call proves it, so the
    probe does not time five (2.5 s of a one-minute fit on an AVX2 CPU)."""
    calls = []

    def slow() -> None:
        calls.append(1)
        time.sleep(0.02)

    cpu = torch.device("cpu")
    assert _best_seconds(slow, cpu, give_up=0.01) >= 0.02
    assert len(calls) == 2  # the untimed warm-up and one timed call
    calls.clear()
    _best_seconds(slow, cpu)
    assert len(calls) == 6
