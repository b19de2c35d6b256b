"""The SDF constraint set: each recipe's loss is the formula its docs state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sirenkit.physics.sdf import sdf_problem


def _constant(c: float) -> torch.nn.Module:
    """``f = c`` everywhere: ``|f| = |c|``, ``grad f = 0`` (so ``1 - cos = 1``, Eikonal 1)."""
    lin = torch.nn.Linear(3, 1)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.constant_(lin.bias, c)
    return lin


def _cloud(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    d = np.random.default_rng(0).normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return 0.5 * d, d


WEIGHTS = {"weight_surface": 3e3, "weight_normal": 1e2, "weight_eikonal": 5e1}


def test_paper_recipe_averages_masked_terms_over_the_whole_batch():
    c = 0.02
    problem = sdf_problem(*_cloud(), **WEIGHTS, weight_off_surface=1e2, alpha=100.0)
    loss, logs = problem.loss(_constant(c), problem.sample(torch.Generator().manual_seed(0)))
    # the authors' sum over half the batch / batch size: half the weight of a mean
    want = 3e3 * c / 2 + 1e2 * np.exp(-100 * c) / 2 + 1e2 * 1 / 2 + 5e1 * 1
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    assert float(logs["loss_normal"]) == pytest.approx(1.0)  # unweighted mean
    assert float(logs["loss_off_surface"]) == pytest.approx(np.exp(-100 * c), rel=1e-5)


def test_distance_recipe_regresses_the_targets_with_or_without_gradients():
    c, pts, normals = 0.02, *_cloud()
    x = np.random.default_rng(1).uniform(-1, 1, (300, 3))
    d = np.linalg.norm(x, axis=1) - 0.5
    for gradients, extra in ((True, 1e2 + 5e1), (False, 0.0)):
        problem = sdf_problem(
            pts, normals, **WEIGHTS, gradients=gradients, pool=(x, d), weight_distance=1e3
        )
        batch = problem.sample(torch.Generator().manual_seed(0))
        loss, _ = problem.loss(_constant(c), batch)
        drawn = batch.data[1][:, 0].double().numpy()
        want = 3e3 * c + 1e3 * np.abs(c - drawn).mean() + extra
        assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
