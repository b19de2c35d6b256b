import numpy as np
import pytest
import torch

from sirenkit.errors import SirenkitError
from sirenkit.physics import (
    PML,
    GaussianSource,
    HelmholtzProblem,
    VelocityMap,
    hankel_solution,
    solve_helmholtz,
)
from sirenkit.physics.helmholtz import helmholtz_residual
from sirenkit.physics.helmholtz_fd import sample_grid

K = 10.0
SOURCE = GaussianSource(width=0.05)


def _error_vs_hankel(field: np.ndarray, pml: PML) -> float:
    n = field.shape[-1]
    axis = np.linspace(-1, 1, n)
    pts = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    keep = (np.abs(pts).max(-1) <= pml.inner) & (np.linalg.norm(pts, axis=-1) > 5 * SOURCE.width)
    exact = hankel_solution(pts[keep], K, SOURCE)
    return float(np.linalg.norm(field.ravel()[keep] - exact) / np.linalg.norm(exact))


def test_fd_converges_to_hankel_solution_at_second_order():
    problem = HelmholtzProblem(k=K, sources=[SOURCE])
    errors = [_error_vs_hankel(solve_helmholtz(problem, n)[0], problem.pml) for n in (41, 81)]
    assert errors[1] < 0.05
    assert errors[0] / errors[1] > 3  # second order: ~4x per halving of h


def test_pml_damps_outgoing_waves():
    with_pml = HelmholtzProblem(k=K, sources=[SOURCE])
    without = HelmholtzProblem(k=K, sources=[SOURCE], pml=PML(thickness=0.5, a0=0.0))
    n = 81
    field = solve_helmholtz(with_pml, n)[0]
    inner = np.abs(field[n // 4 : 3 * n // 4 + 1, n // 4 : 3 * n // 4 + 1]).max()
    # the field dies out across the layer: tiny next to the outer edge
    assert np.abs(field[2]).max() < 1e-2 * inner
    # and the physical domain sees (almost) no reflection, unlike a closed box
    assert _error_vs_hankel(field, with_pml.pml) < 0.5 * _error_vs_hankel(
        solve_helmholtz(without, n)[0], without.pml
    )
    assert _error_vs_hankel(solve_helmholtz(without, n)[0], without.pml) > 0.2


def test_residual_of_fd_solution_is_small_in_the_layer_and_outside():
    """The pointwise residual (the network's loss) agrees with the discrete operator."""
    problem = HelmholtzProblem(k=K, sources=[SOURCE], medium=VelocityMap("disc", speed=1.5))
    n = 101
    u = solve_helmholtz(problem, n)[0]
    h = 2 / (n - 1)
    du0, du1 = np.gradient(u, h)
    d2u0 = np.gradient(du0, h, axis=0)
    d2u1 = np.gradient(du1, h, axis=1)
    axis = torch.linspace(-1, 1, n, dtype=torch.float64)
    pts = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a)).reshape(-1, 1)

    res = helmholtz_residual(
        pts,
        t(u),
        torch.stack([t(du0), t(du1)], -1),
        torch.stack([t(d2u0), t(d2u1)], -1),
        k=K,
        slowness2=problem.medium.squared_slowness(pts),
        source=SOURCE(pts)[:, None],
        pml=problem.pml,
    ).reshape(n, n)
    # away from the disc's jump and the grid edge the residual is a small fraction of k^2 |u|
    r = np.linalg.norm(pts.numpy(), axis=-1).reshape(n, n)
    smooth = (np.abs(r - 0.2) > 0.1) & (np.abs(pts.numpy()).max(-1).reshape(n, n) < 0.9)
    scale = K**2 * np.abs(u[smooth]).mean()
    assert np.abs(res.numpy()[smooth]).mean() < 0.05 * scale


def test_media_and_sampling():
    disc = VelocityMap("disc", speed=2.0, size=0.3)
    g = disc.on_grid(21)
    assert g[10, 10] == 2.0 and g[0, 0] == 1.0
    img = np.linspace(-1, 1, 16)[None, :].repeat(16, 0)
    imap = VelocityMap("image", image=img, image_range=(1.0, 2.0), extent=0.5)
    v = imap.velocity(torch.tensor([[0.0, -0.5], [0.0, 0.5], [0.9, 0.0]]))
    assert torch.allclose(v, torch.tensor([1.0, 2.0, 1.0]), atol=1e-5)
    field = np.arange(9.0).reshape(1, 3, 3) * (1 + 1j)
    assert np.allclose(sample_grid(field, np.array([[0.0, 0.0], [-1.0, -1.0]]))[:, 0], [4 + 4j, 0])
    with pytest.raises(SirenkitError):
        VelocityMap("sphere")
    with pytest.raises(SirenkitError):
        solve_helmholtz(HelmholtzProblem(), 3)


def test_stretched_residual_is_the_divergence_form_over_the_stretch_factors():
    pml = PML()
    gen = torch.Generator().manual_seed(0)
    pts = pml.sample(64, gen, physical_fraction=0.25).double()
    u = torch.randn(64, 1, dtype=torch.complex128, generator=gen)
    du = torch.randn(64, 1, 2, dtype=torch.complex128, generator=gen)
    d2u = torch.randn(64, 1, 2, dtype=torch.complex128, generator=gen)
    kw = {"k": K, "slowness2": torch.ones(64, dtype=torch.float64), "source": u * 0, "pml": pml}
    stretched = helmholtz_residual(pts, u, du, d2u, **kw)
    divergence = helmholtz_residual(pts, u, du, d2u, form="divergence", **kw)
    e0, _ = pml.stretch(pts[:, 0])
    e1, _ = pml.stretch(pts[:, 1])
    assert torch.allclose(divergence, stretched * (e0 * e1)[:, None])
    inside = pml.physical(pts)
    assert torch.allclose(stretched[inside], divergence[inside])
    assert inside[:16].all() and not inside[16:].all()  # the first quarter lies inside
    with pytest.raises(ValueError, match="form"):
        helmholtz_residual(pts, u, du, d2u, form="other", **kw)
