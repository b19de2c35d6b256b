import numpy as np
import torch

from sirenkit import grid
from sirenkit.signals.discrete import grid_gradient, grid_laplacian


def test_grid_is_ij_ordered_and_spans_minus_one_to_one():
    g = grid((3, 5))
    assert g.shape == (15, 2)
    assert torch.allclose(g[0], torch.tensor([-1.0, -1.0]))
    assert torch.allclose(g[4], torch.tensor([-1.0, 1.0]))  # last column of first row
    assert torch.allclose(g[-1], torch.tensor([1.0, 1.0]))
    img = np.arange(15).reshape(3, 5)
    # flattened order matches the array's: row index follows coordinate 0
    assert g[img.reshape(-1) == 6].tolist() == [[0.0, -0.5]]  # row 1, column 1
    assert grid((4,)).shape == (4, 1)
    assert grid((2, 3, 4)).shape == (24, 3)


def test_discrete_operators_are_in_grid_units():
    shape = (65, 33)
    c = grid(shape, dtype=torch.float64).numpy().reshape(*shape, 2)
    f = (c[..., 0] ** 2 + 3 * c[..., 1])[..., None]
    g = grid_gradient(f)
    assert g.shape == (*shape, 1, 2)
    np.testing.assert_allclose(g[1:-1, 1:-1, 0, 0], 2 * c[1:-1, 1:-1, 0], atol=1e-9)
    np.testing.assert_allclose(g[..., 0, 1], 3.0, atol=1e-9)
    lap = grid_laplacian(f)
    np.testing.assert_allclose(lap[1:-1, 1:-1, 0], 2.0, atol=1e-6)
