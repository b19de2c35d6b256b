from benchmarks.optimiser_step import measure


def test_each_part_of_the_step_is_timed_for_both_orthogonalisations():
    costs = measure(points=64, rounds=1)
    assert set(costs) == {
        "forward and backward",
        "optimiser step, orthogonalised in bfloat16",
        "optimiser step, orthogonalised in float32",
    }
    assert all(v > 0 for v in costs.values())
