import numpy as np
import pytest

from sirenkit.errors import SirenkitError
from sirenkit.signals.poisson import MaskedPoisson, harmonic_extension, seamless_clone


def test_harmonic_extension_keeps_harmonic_functions_and_the_border():
    y, x = np.mgrid[0:12, 0:15].astype(float)
    f = (0.3 * x - 0.2 * y + 0.01 * (x**2 - y**2))[..., None]
    np.testing.assert_allclose(harmonic_extension(f), f, atol=1e-10)
    noisy = f + np.random.default_rng(0).normal(size=f.shape)
    out = harmonic_extension(noisy)
    np.testing.assert_array_equal(out[0], noisy[0])
    np.testing.assert_array_equal(out[:, -1], noisy[:, -1])


@pytest.mark.parametrize("mixed", [False, True])
def test_cloning_an_image_into_itself_changes_nothing(mixed):
    img = np.random.default_rng(1).random((10, 12, 3))
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:8, 3:12] = True  # touches the right border
    np.testing.assert_allclose(seamless_clone(img, img, mask, mixed=mixed), img, atol=1e-10)


def test_cloning_a_constant_shift_keeps_the_target():
    # a source that differs from the target by a constant has the same gradients
    img = np.random.default_rng(2).random((9, 9, 1))
    mask = np.zeros((9, 9), dtype=bool)
    mask[3:6, 3:6] = True
    np.testing.assert_allclose(seamless_clone(img, img + 5.0, mask), img, atol=1e-10)


def test_degenerate_masks_are_rejected():
    with pytest.raises(SirenkitError, match="empty"):
        MaskedPoisson(np.zeros((4, 4), dtype=bool))
    with pytest.raises(SirenkitError, match="whole"):
        MaskedPoisson(np.ones((4, 4), dtype=bool))
