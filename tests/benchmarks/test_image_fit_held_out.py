"""The image benchmark's held-out photographs load from the installed dependencies and are not
among the photographs the recipe was chosen on."""

import pytest
from benchmarks.image_fit import HELD_OUT, PHOTOGRAPHS, image_source

from sirenkit.signals import load_image


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_held_out_photograph_loads_at_512(name):
    assert name not in PHOTOGRAPHS
    img = load_image(image_source(name), 512)
    assert max(img.shape[:2]) == 512 and img.min() >= -1 and img.max() <= 1
    assert img.std() > 0.1  # a photograph, not a blank or a mask


def test_other_names_pass_through():
    assert image_source("camera") == "camera"
    assert image_source("some/file.png") == "some/file.png"
