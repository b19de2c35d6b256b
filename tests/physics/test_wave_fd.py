import numpy as np

from sirenkit.physics import VelocityMap, leapfrog, pulse_solution

WIDTH = 0.15


def _pulse(points: np.ndarray) -> np.ndarray:
    return np.exp(-(points**2).sum(-1) / (2 * WIDTH**2))


def test_pulse_solution_starts_at_the_initial_condition():
    r = np.linspace(0, 1, 11)
    assert np.allclose(pulse_solution(r, 0.0, WIDTH), np.exp(-(r**2) / (2 * WIDTH**2)), atol=1e-6)


def _exact(n: int, t: float, speed: float = 1.0) -> np.ndarray:
    axis = np.linspace(-1, 1, n)
    r = np.hypot(*np.meshgrid(axis, axis, indexing="ij"))
    radii = np.linspace(0, 1.5, 400)
    return np.interp(r, radii, pulse_solution(radii, t, WIDTH, speed))


def test_leapfrog_converges_to_the_free_space_solution():
    times = [0.0, 0.3, 0.6]
    errors = []
    for n in (41, 81):
        frames = leapfrog(_pulse, VelocityMap(), times, n=n)
        exact = _exact(n, times[-1])
        errors.append(np.linalg.norm(frames[-1] - exact) / np.linalg.norm(exact))
    assert errors[1] < 0.03
    assert errors[0] / errors[1] > 3


def test_leapfrog_follows_the_medium_speed():
    slow = VelocityMap("block", speed=0.5, size=10.0)  # speed 0.5 everywhere
    frames = leapfrog(_pulse, slow, [0.0, 0.6], n=61)
    exact_slow = _exact(61, 0.6, speed=0.5)
    err = np.linalg.norm(frames[-1] - exact_slow) / np.linalg.norm(exact_slow)
    assert err < 0.05
    exact_fast = _exact(61, 0.6)
    assert np.linalg.norm(frames[-1] - exact_fast) / np.linalg.norm(exact_fast) > 0.5
