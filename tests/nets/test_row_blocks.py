"""A Siren runs a large CPU batch in row blocks, and autograd takes each block's backward pass
through every layer before the next block's (values and gradients: test_sine_function.py,
whose tests run in one pass and in blocks)."""

import pytest
import torch

import sirenkit.nets.siren as siren_module
from sirenkit import Siren
from sirenkit.nets.siren import SineFunction, block_rows


@pytest.fixture
def small_blocks(monkeypatch) -> int:
    """Blocks of 8 rows per thread, so that a 40-row batch takes several."""
    monkeypatch.setattr(siren_module, "BLOCK_ROWS_PER_THREAD", 8)
    return 8 * torch.get_num_threads()


@pytest.fixture
def model() -> Siren:
    torch.manual_seed(0)
    return Siren(2, 24, 2, 3).double()


@pytest.fixture
def x(small_blocks) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    return torch.rand(5 * small_blocks, 2, dtype=torch.float64, generator=gen) * 2 - 1


def test_a_large_cpu_batch_is_split(small_blocks, x):
    assert block_rows(x) == small_blocks
    assert block_rows(x[: 2 * small_blocks - 1]) is None  # fewer than two blocks: whole
    assert block_rows(x[None]) is None  # batched inputs run whole
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert block_rows(x) is None  # autocast bypasses SineFunction
        with torch.no_grad():
            assert block_rows(x) == small_blocks


def test_backward_takes_one_block_through_every_layer_at_a_time(model, x, monkeypatch):
    """The point of the blocks: their backward passes are not interleaved layer by layer (which
    would bring each block's activations back from memory once per layer)."""
    block_of_output: dict[int, int] = {}
    block_of_node: dict[int, int] = {}
    finished: list[int] = []
    forward, backward = SineFunction.forward, SineFunction.backward

    def record_forward(ctx, x, *args):
        # a layer's input is the previous layer's output, or new coordinates: a new block
        block = block_of_output.get(x.data_ptr(), len(set(block_of_output.values())))
        out = forward(ctx, x, *args)
        block_of_output[out.data_ptr()] = block_of_node[id(ctx)] = block
        return out

    def record_backward(ctx, g):
        finished.append(block_of_node[id(ctx)])
        return backward(ctx, g)

    monkeypatch.setattr(SineFunction, "forward", staticmethod(record_forward))
    monkeypatch.setattr(SineFunction, "backward", staticmethod(record_backward))
    (model(x) ** 2).sum().backward()
    layers = len(model.net) - 1
    assert finished == [b for b in reversed(range(5)) for _ in range(layers)]
