"""A residual's requests match analytic derivatives, each computed once per step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import sirenkit as sk
from sirenkit.problems.field import Field

NAMES = ("x", "t")


class Known(nn.Module):
    """u(x, t) = sin(2x) exp(t) + x^2 t, with its derivatives in closed form below."""

    def forward(self, z):
        x, t = z[:, :1], z[:, 1:]
        return torch.sin(2 * x) * torch.exp(t) + x**2 * t


def points(n=64):
    return torch.rand((n, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_derivatives_match_the_analytic_ones():
    z = points()
    x, t = z[:, :1], z[:, 1:]
    f = Field(Known(), z, NAMES)
    s, c, e = torch.sin(2 * x), torch.cos(2 * x), torch.exp(t)
    expect = {
        ("x",): 2 * c * e + 2 * x * t,
        ("t",): s * e + x**2,
        ("x", "x"): -4 * s * e + 2 * t,
        ("t", "t"): s * e,
        ("x", "t"): 2 * c * e + 2 * x,
        ("t", "x"): 2 * c * e + 2 * x,
        ("x", "x", "x"): -8 * c * e,
        ("x", "x", "t"): -4 * s * e + 2,
    }
    for axes, want in expect.items():
        torch.testing.assert_close(f.d(*axes), want, msg=str(axes))
    torch.testing.assert_close(f.d(0, 0), expect[("x", "x")])
    torch.testing.assert_close(f.lap, expect[("x", "x")] + expect[("t", "t")])
    torch.testing.assert_close(f.grad, torch.cat([expect[("x",)], expect[("t",)]], 1))
    h = f.hessian
    assert h.shape == (64, 2, 2)
    torch.testing.assert_close(h[:, 0, 1:], expect[("x", "t")])
    torch.testing.assert_close(f.coord("t"), t)


def test_closed_form_and_autograd_agree_and_each_quantity_is_computed_once():
    torch.manual_seed(0)
    siren = sk.Siren(2, 16, 1, 2, w0=3.0)
    z = points().float()
    wrapped = nn.Sequential(siren, nn.Identity(), nn.Identity())  # not a sine chain: autograd
    asked = ("x",), ("t", "t"), ("x", "t")
    for axes in asked:
        torch.testing.assert_close(
            Field(siren, z, NAMES).d(*axes), Field(wrapped, z, NAMES).d(*axes), atol=2e-5, rtol=1e-4
        )
    f = Field(siren, z, NAMES)
    f.d("x")
    f.d("x")
    _ = f.u
    assert f.engine_calls == 1
    f.d("x", "x")  # second order: one more pass, which also covers what came before
    f.d("t")
    assert f.engine_calls == 2
    _ = f.lap  # u_xx carried the x axis only: the Laplacian needs one more pass, this once
    assert f.engine_calls == 3
    # the next step starts from what this one asked for: one pass serves the whole residual
    g = Field(siren, z, NAMES, plan=f.asked)
    g.d("x")
    g.d("x", "x")
    _ = g.u, g.lap
    assert g.engine_calls == 1


def test_a_pure_second_derivative_costs_its_own_axis_only(monkeypatch):
    """``f.d("x", "x")`` alone asks the engine for the x entry of the Hessian diagonal (the
    closed form then carries one second-order row, not one per axis); anything needing the
    others (``u_tt``, the Laplacian) gets them, with the right values."""
    from sirenkit.problems import field as field_module

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()  # tanh chain
    z = points()
    asked = []
    plain = field_module.value_and_derivatives

    def spy(*a, **k):
        asked.append(k["hessian_diagonal"])
        return plain(*a, **k)

    monkeypatch.setattr(field_module, "value_and_derivatives", spy)
    exact = Field(net, z, NAMES).hessian[:, None]  # (N, 1, 2, 2), all second derivatives
    asked.clear()
    f = Field(net, z, NAMES)
    torch.testing.assert_close(f.d("x", "x"), exact[..., 0, 0])
    assert asked == [[0]] and f.asked == {"diag0"}
    g = Field(net, z, NAMES, plan=f.asked)  # the next step: one pass, x alone
    g.d("t")
    torch.testing.assert_close(g.d("x", "x"), exact[..., 0, 0])
    assert asked == [[0], [0]] and g.engine_calls == 1
    torch.testing.assert_close(g.d("t", "t"), exact[..., 1, 1])  # one more pass, both axes
    torch.testing.assert_close(g.lap, exact[..., 0, 0] + exact[..., 1, 1])
    assert asked[-1] == [0, 1] and g.engine_calls == 2  # the Laplacian came with them


def test_hard_constraint_transform_differentiates_the_composite():
    torch.manual_seed(0)
    siren = sk.Siren(2, 16, 1, 1, w0=3.0)
    z = points().float()

    def transform(x, y):
        return torch.sin(x[:, :1]) + x[:, 1:] * (1 - x[:, :1] ** 2) * y

    class Composite(nn.Module):
        def forward(self, x):
            return transform(x, siren(x))

    f = Field(siren, z, NAMES, transform=transform)
    g = Field(Composite(), z, NAMES)  # plain autograd of the composite function
    for axes in [(), ("x",), ("t",), ("x", "x"), ("t", "t"), ("x", "t"), ("x", "x", "t")]:
        torch.testing.assert_close(f.d(*axes), g.d(*axes), atol=2e-5, rtol=1e-4, msg=str(axes))
    torch.testing.assert_close(f.lap, g.lap, atol=2e-5, rtol=1e-4)


def test_complex_view_pairs_outputs():
    torch.manual_seed(0)
    siren = sk.Siren(2, 16, 1, 2)
    f = Field(siren, points().float(), NAMES)
    u = f.complex.u
    assert u.dtype == torch.complex64 and u.shape == (64, 1)
    torch.testing.assert_close(u.real, f.u[:, :1])
    torch.testing.assert_close(f.complex.lap.imag, f.lap[:, 1:])


def test_unknown_axis_is_a_one_line_error():
    f = Field(Known(), points(), NAMES)
    with pytest.raises(sk.SirenkitError, match=r"no axis 'y'; the problem's axes are: x, t"):
        f.d("y")
    with pytest.raises(sk.SirenkitError, match=r"f\.div needs one output per axis"):
        _ = Field(nn.Linear(2, 1).double(), points(), NAMES).div
