"""The interleaved benchmark harness builds every side from the same seed: the sides run in
threads that share torch's global generator, so a side drawing its initial weights while
another seeds or draws would start from weights no rerun reproduces."""

import time

import torch
from benchmarks.image_fit import Clock, Turns, interleave


def test_every_side_draws_its_start_from_seed_0_alone():
    n, draws = 3, 60
    turns = Turns(n)
    clocks = {f"side{i}": Clock(turns, i, lambda: 0.0, 1.0, lambda: 1e9, 1) for i in range(n)}

    def side(name: str) -> dict:
        values = []
        for _ in range(draws):  # a network's layers, built one after another
            values.append(float(torch.rand(())))
            time.sleep(0.0005)  # let another thread run in between, as construction does
        clock = clocks[name]
        clock.start()
        clock.finish(0)
        return {"values": values}

    extra = interleave(turns, clocks, side)
    torch.manual_seed(0)
    expected = [float(torch.rand(())) for _ in range(draws)]
    for name in clocks:
        assert extra[name]["values"] == expected, name
