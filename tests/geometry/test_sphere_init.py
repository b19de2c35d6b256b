"""The sphere initialisation: a SIREN that is a sphere's SDF before any training."""

from __future__ import annotations

import pytest
import torch

from sirenkit.derivatives import value_and_derivatives
from sirenkit.errors import SirenkitError
from sirenkit.geometry.sphere_init import sphere_init
from sirenkit.nets.siren import Siren


@pytest.mark.parametrize(("hidden", "layers", "high"), [(64, 3, 0.5), (32, 1, 0.0)])
def test_sphere_init_is_a_sphere_sdf_near_its_surface(hidden, layers, high):
    torch.manual_seed(0)
    model = sphere_init(Siren(3, hidden, layers, 1), radius=0.5, high=high)
    x = torch.nn.functional.normalize(torch.randn(4000, 3), dim=1)
    x = x * torch.empty(4000, 1).uniform_(0.3, 0.7)
    exact = x.norm(dim=1) - 0.5
    d = value_and_derivatives(model, x, gradient=True, create_graph=False)
    f, g = d.value[:, 0].detach(), d.gradient[:, 0].detach()
    r2 = x.pow(2).sum(1)
    assert (f - (r2 - 0.25)).abs().max() < 0.03  # (|x|^2 - r^2) / (2r), with r = 0.5
    assert (f - exact)[exact.abs() < 0.05].abs().max() < 0.01  # |x| - r near the sphere
    assert ((f < 0) == (exact < 0))[exact.abs() > 0.02].all()  # negative inside
    cos = torch.nn.functional.cosine_similarity(g, x, dim=1)
    assert cos.min() > 0.99  # gradient along the outward radius
    on = exact.abs() < 0.02
    assert (g[on].norm(dim=1) - 1).abs().max() < 0.1  # unit gradient on the sphere
    assert float(model(torch.zeros(1, 3)).detach()) == pytest.approx(-0.25, abs=0.01)  # -r / 2


def test_random_siren_is_not_a_sphere_and_bad_networks_are_refused():
    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(500, 3), dim=1) * 0.5
    with torch.no_grad():
        assert Siren(3, 64, 3, 1)(x).abs().max() > 0.02  # what the test above rules out
    with pytest.raises(SirenkitError, match="SIREN"):
        sphere_init(torch.nn.Linear(3, 1))
    with pytest.raises(SirenkitError, match="radius"):
        sphere_init(Siren(3, 16, 1, 1), radius=0)
