"""Shared fixtures: tiny images and fast settings so the whole suite stays quick."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: the suite's networks are tiny, and a second thread only adds
    synchronisation (measured up to ~40x slower on a busy 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _bfloat16_pays(monkeypatch):
    """Runs that ask for bfloat16 get it whatever this machine's hardware: the tests check what
    the modes compute, not whether they pay here (a run measures that, training/precision.py;
    the test of the fallback patches it the other way)."""
    from sirenkit.training import loop

    monkeypatch.setattr(loop, "bfloat16_speedup", lambda device: 2.0)


@pytest.fixture
def tiny_image() -> np.ndarray:
    """A 24x20 RGB test pattern in [-1, 1] (smooth gradient plus a bright square)."""
    y, x = np.mgrid[0:24, 0:20] / 20.0
    img = np.stack([np.sin(3 * x), np.cos(2 * y), x * y], axis=-1).astype(np.float32)
    img[6:12, 5:11] = 0.9
    return np.clip(img, -1, 1)
