"""Shared fixtures: tiny images and fast settings so the whole suite stays quick."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _fast_torch():
    torch.set_num_threads(2)
    yield


@pytest.fixture
def tiny_image() -> np.ndarray:
    """A 24x20 RGB test pattern in [-1, 1] (smooth gradient plus a bright square)."""
    y, x = np.mgrid[0:24, 0:20] / 20.0
    img = np.stack([np.sin(3 * x), np.cos(2 * y), x * y], axis=-1).astype(np.float32)
    img[6:12, 5:11] = 0.9
    return np.clip(img, -1, 1)


@pytest.fixture
def one_thread():
    """One torch thread: tiny networks run faster without thread synchronisation on a busy CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
