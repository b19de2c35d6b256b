"""One thread: these tests use tiny tensors, where a second (contended) thread only spins."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread(_fast_torch):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
