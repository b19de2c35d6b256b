from benchmarks.row_blocks import gemm_flops, measure

import sirenkit.nets.siren as siren_module
from sirenkit import Siren


def test_both_ways_are_timed_and_the_setting_is_restored(monkeypatch):
    monkeypatch.setattr(siren_module, "BLOCK_ROWS_PER_THREAD", 16)
    rows = measure(1, [("training", 64, True), ("inference", 64, False)], rounds=1)
    assert [r["pass"] for r in rows] == ["training", "inference"]
    assert all(r["whole CPU s"] > 0 and r["blocks CPU s"] > 0 for r in rows)
    assert siren_module.BLOCK_ROWS_PER_THREAD == 16


def test_product_flops_count_every_matrix_product_of_the_pass():
    model = Siren(2, 8, 1, 3)  # weights 8x2, 8x8, 3x8
    assert gemm_flops(model, 10, backward=False) == 2 * 10 * (16 + 64 + 24)
    # weight gradients of all three, input gradients of the last two
    assert gemm_flops(model, 10, backward=True) == 2 * 10 * (2 * (16 + 64 + 24) + 64 + 24)
