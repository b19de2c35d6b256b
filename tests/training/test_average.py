import copy
import json

import pytest
import torch

from sirenkit import load
from sirenkit.errors import SirenkitError
from sirenkit.nets.registry import model_from_config
from sirenkit.training import run
from sirenkit.training.average import WARMUP
from sirenkit.training.run import check_train_config
from tests.training.test_run import tiny_config


def weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_the_fit_ends_on_the_running_average_of_its_trained_weights(tmp_path):
    """--average: the optimiser steps the trained weights exactly as without it, callbacks and
    the final network (returned and checkpointed) hold their running average, warm-up
    included; evaluations take the average too (they differ from the plain run's)."""
    cfg = tiny_config(tmp_path)
    task = cfg.setup()
    torch.manual_seed(0)
    start = model_from_config(cfg.model, task.shape)
    trained, seen = [weights(start)], []
    keep_trained = [lambda s, m: trained.append(weights(m))]
    plain = run(cfg, callbacks=keep_trained, model=copy.deepcopy(start))
    cfg.train.average = 0.8
    out = run(cfg, callbacks=[lambda s, m: seen.append(weights(m))], model=copy.deepcopy(start))
    expected = trained[0]
    for t, w in enumerate(trained[1:], start=1):
        keep = min(0.8, (1 + t) / (WARMUP + t))
        expected = [(keep * a + (1 - keep) * b) for a, b in zip(expected, w, strict=True)]
        for a, b in zip(seen[t - 1], expected, strict=True):
            torch.testing.assert_close(a, b)
    assert len(seen) == 12 and not torch.equal(seen[-1][0], trained[-1][0])
    for p, e in zip(out.model.parameters(), expected, strict=True):
        torch.testing.assert_close(p.detach(), e)
    for p, q in zip(load(out.run_dir).parameters(), out.model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert out.final["psnr"] != pytest.approx(plain.final["psnr"], abs=1e-6)
    evals = [r for r in map(json.loads, (out.run_dir / "metrics.jsonl").open()) if r.get("eval")]
    at_4 = copy.deepcopy(start)
    with torch.no_grad():
        for p, w in zip(at_4.parameters(), seen[3], strict=True):
            p.copy_(w)
    assert evals[0]["step"] == 4
    assert evals[0]["psnr"] == pytest.approx(task.evaluate(at_4.eval())["psnr"], abs=1e-4)


def test_bad_average_settings_are_errors(tmp_path):
    for value in (1.0, -0.1, 2.0):
        cfg = tiny_config(tmp_path, average=value)
        with pytest.raises(SirenkitError, match="--average"):
            check_train_config(cfg)
    with pytest.raises(SirenkitError, match="--then-lbfgs"):
        check_train_config(tiny_config(tmp_path, average=0.9, then_lbfgs=5))
