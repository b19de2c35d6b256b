"""The derivative benchmark's measuring functions measure: a step's time is its CPU work, and
the peak memory of a step in a fresh process covers at least the activations it must hold."""

from benchmarks.derivatives import ENGINES, WIDTH, _in_fresh_process, step_times


def test_step_times_are_the_time_of_real_steps():
    times = step_times(dim=2, loss_kind="laplacian", points=256, steps=1, threads=1)
    assert set(times) == set(ENGINES)
    assert all(t["wall_s"] > 0 and t["cpu_s"] > 0 for t in times.values())


def test_peak_memory_of_a_step_covers_its_activations():
    points = 8192
    mib = _in_fresh_process(
        what="memory", dim=2, loss_kind="laplacian", engine="closed_form", points=points, threads=1
    )
    # The forward alone keeps a (points, WIDTH) float32 pre-activation per sine layer (four):
    # a measured peak below that is not the step's memory.
    floor = 4 * points * WIDTH * 4 / 2**20
    assert floor < mib < 40 * floor
