"""The derivative benchmark's measuring functions run (tiny batch; no figures asserted)."""

from benchmarks.derivatives import ENGINES, peak_memory, step_times


def test_step_times_and_peak_memory_run_on_a_tiny_batch():
    times = step_times(dim=2, loss_kind="laplacian", points=16, steps=1, threads=1)
    assert set(times) == set(ENGINES)
    assert all(t["wall_s"] > 0 and t["cpu_s"] >= 0 for t in times.values())
    assert peak_memory(dim=3, loss_kind="gradient", engine="closed_form", points=16) >= 0
