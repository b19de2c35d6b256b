import json

import pytest
import torch

from sirenkit import load
from sirenkit.tasks.image import FitImageConfig
from sirenkit.training import Interrupted, learning_rate, run
from sirenkit.training.config import TrainConfig, from_dict, to_dict


def tiny_config(tmp_path, **train) -> FitImageConfig:
    cfg = FitImageConfig(source="camera", size=16, out=tmp_path / "runs")
    cfg.model.hidden = 24
    cfg.model.layers = 3
    cfg.train = TrainConfig(
        steps=12,
        lr=1e-3,
        log_every=2,
        eval_every=4,
        checkpoint_every=4,
        progress=False,
        batch_size=64,
        **train,
    )
    return cfg


def test_run_writes_a_complete_folder_and_improves(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg.train.steps = 60
    out = run(cfg)
    names = {p.name for p in out.run_dir.iterdir()}
    assert {
        "checkpoint.pt",
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "history.png",
        "reconstruction.png",
        "derivatives.png",
    } <= names
    records = [json.loads(line) for line in (out.run_dir / "metrics.jsonl").open()]
    evals = [r for r in records if r.get("eval")]
    assert evals[-1]["psnr"] > evals[0]["psnr"] + 3
    summary = json.loads((out.run_dir / "summary.json").read_text())
    assert summary["steps"] == 60 and summary["psnr"] == pytest.approx(out.final["psnr"])
    # the checkpoint reloads to the same function
    model = load(out.run_dir)
    x = torch.rand(10, 2) * 2 - 1
    torch.testing.assert_close(model(x), out.model(x))


def test_runs_never_share_a_folder(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg.train.steps = 2
    a = run(cfg).run_dir
    b = run(cfg).run_dir
    assert a != b and a.exists() and b.exists()


def test_seeded_runs_are_reproducible(tmp_path):
    cfg = tiny_config(tmp_path)
    a = run(cfg).model
    b = run(cfg).model
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_interrupted_run_resumes_to_the_same_end(tmp_path):
    full = run(tiny_config(tmp_path))

    def stop_at_5(step, model):
        if step == 5:
            raise KeyboardInterrupt

    cfg = tiny_config(tmp_path)
    with pytest.raises(Interrupted) as info:
        run(cfg, callbacks=[stop_at_5])
    assert info.value.step == 5
    resumed_cfg = FitImageConfig(resume=info.value.run_dir)
    resumed = run(resumed_cfg)
    assert resumed.run_dir == info.value.run_dir
    for p, q in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)
    steps = [json.loads(line)["step"] for line in (resumed.run_dir / "metrics.jsonl").open()]
    assert steps == sorted(steps)  # records after the checkpoint were dropped, not repeated


def test_a_run_written_with_an_option_since_removed_is_not_resumed(tmp_path):
    from sirenkit.errors import SirenkitError

    def stop_at_5(step, model):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run(tiny_config(tmp_path), callbacks=[stop_at_5])
    path = info.value.run_dir / "config.json"
    saved = json.loads(path.read_text())
    saved["train"]["inner_steps"] = 3  # an option an older sirenkit had
    path.write_text(json.dumps(saved))
    with pytest.raises(SirenkitError, match="written with --inner-steps, which this sirenkit"):
        run(FitImageConfig(resume=info.value.run_dir))
    assert json.loads(path.read_text()) == saved  # the folder is left as it was


def test_schedules():
    cfg = TrainConfig(steps=101, lr=1.0, schedule="cosine", final_lr_factor=0.1, warmup=10)
    assert learning_rate(cfg, 0) == pytest.approx(0.1)
    assert learning_rate(cfg, 10) == pytest.approx(1.0)
    assert learning_rate(cfg, 100) == pytest.approx(0.1)
    cfg.schedule = "exponential"
    assert learning_rate(cfg, 100) == pytest.approx(0.1)
    cfg.schedule = "constant"
    assert learning_rate(cfg, 50) == 1.0


def test_hold_keeps_the_peak_then_decays_over_the_rest():
    cfg = TrainConfig(steps=101, lr=1.0, final_lr_factor=0.1, hold=0.5)
    assert learning_rate(cfg, 0) == learning_rate(cfg, 50) == pytest.approx(1.0)
    assert 0.1 < learning_rate(cfg, 75) < 1.0
    assert learning_rate(cfg, 100) == pytest.approx(0.1)


def test_adam_takes_the_configured_betas(tmp_path):
    from sirenkit.errors import SirenkitError

    cfg = tiny_config(tmp_path, betas=(0.8, 0.95))
    cfg.train.steps = 2
    out = run(cfg)
    saved = torch.load(out.run_dir / "checkpoint.pt", weights_only=False)
    assert tuple(saved["optimizer"]["param_groups"][0]["betas"]) == (0.8, 0.95)
    with pytest.raises(SirenkitError, match="--betas must be two numbers in"):
        run(tiny_config(tmp_path, betas=(0.9, 1.0)))


def test_config_round_trip(tmp_path):
    cfg = tiny_config(tmp_path)
    back = from_dict(FitImageConfig, json.loads(json.dumps(to_dict(cfg))))
    assert back == cfg


def test_bfloat16_precision_follows_float32_with_float32_parameters(tmp_path):
    final = {}
    for precision in ("float32", "bfloat16"):
        cfg = tiny_config(tmp_path, precision=precision)
        cfg.train.steps = 60
        out = run(cfg)
        assert all(p.dtype == torch.float32 for p in out.model.parameters())
        final[precision] = out.final["psnr"]
    assert final["bfloat16"] > 14.5  # from 11.5 dB at step 0
    assert abs(final["bfloat16"] - final["float32"]) < 0.5


def test_unknown_precision_is_a_clear_error(tmp_path):
    from sirenkit.errors import SirenkitError

    cfg = tiny_config(tmp_path, precision="fp16")
    with pytest.raises(
        SirenkitError, match="--precision must be one of float32, bfloat16, bfloat16-backward"
    ):
        run(cfg)


def test_bfloat16_backward_is_on_in_the_float32_training_steps_only(tmp_path):
    """The loop turns the mode on around the loss of each step after the bfloat16-autocast
    phase, never during it, and never outside the step (evaluation, callbacks); the fit
    follows float32's, and a resumed run ends exactly as an uninterrupted one."""
    from sirenkit.nets.siren import _BFLOAT16_BACKWARD
    from tests.tasks.common import assert_resume_matches_full_run

    def cfg(precision="bfloat16-backward"):
        c = tiny_config(tmp_path, precision=precision, bfloat16_steps=4)
        c.model.hidden = 32
        return c

    task = cfg().setup()
    loss, during, after = task.loss, [], []

    def recording_loss(model, batch):
        during.append(_BFLOAT16_BACKWARD.get())
        return loss(model, batch)

    task.loss = recording_loss
    out = run(cfg(), task, callbacks=[lambda step, model: after.append(_BFLOAT16_BACKWARD.get())])
    assert during == [False] * 4 + [True] * 8
    assert not any(after) and _BFLOAT16_BACKWARD.get() is False
    reference = run(cfg("float32"))
    low = [p.detach() for p in out.model.parameters()]
    exact = [p.detach() for p in reference.model.parameters()]
    assert not all(torch.equal(p, q) for p, q in zip(low, exact, strict=True))
    assert abs(out.final["psnr"] - reference.final["psnr"]) < 0.1
    assert_resume_matches_full_run(cfg)


def test_where_bfloat16_is_not_faster_muon_orthogonalises_in_float32(tmp_path, monkeypatch, capsys):
    """torch's Muon orthogonalises in bfloat16, emulated some 30x slower on a CPU without
    bfloat16 instructions: there the loop has it orthogonalise in float32 (a float32 run
    measures, since Muon computes in bfloat16 whatever the precision)."""
    from sirenkit.training import loop

    def muon_run():
        c = tiny_config(tmp_path, optimizer="muon")
        c.model.hidden = 32
        return run(c)

    monkeypatch.setattr(loop, "bfloat16_speedup", lambda device: 0.8)
    slow = muon_run()
    assert "float32 instead for Muon's orthogonalisation" in capsys.readouterr().err
    monkeypatch.setattr(loop, "bfloat16_speedup", lambda device: 2.0)
    fast = muon_run()
    assert "not faster" not in capsys.readouterr().err
    assert not all(
        torch.equal(p, q)
        for p, q in zip(slow.model.parameters(), fast.model.parameters(), strict=True)
    )


def test_where_bfloat16_is_not_faster_the_run_trains_in_float32_and_says_so(
    tmp_path, monkeypatch, capsys
):
    """On hardware that emulates bfloat16 the recipe's bfloat16 phases would cost more: the
    run is then the float32 run, bit for bit, and the saved config keeps what was asked."""
    from sirenkit.training import loop
    from sirenkit.training.precision import bfloat16_speedup

    asked = tiny_config(tmp_path, precision="bfloat16-backward", bfloat16_steps=4)
    assert bfloat16_speedup(torch.device("cpu")) > 0  # measured on this machine
    monkeypatch.setattr(loop, "bfloat16_speedup", lambda device: 0.8)
    slow = run(asked)
    assert "bfloat16 products are not faster than float32 on this cpu (0.80x)" in (
        capsys.readouterr().err
    )
    saved = json.loads((slow.run_dir / "config.json").read_text())["train"]
    assert saved["precision"] == "bfloat16-backward" and saved["bfloat16_steps"] == 4
    exact = run(tiny_config(tmp_path))
    for p, q in zip(slow.model.parameters(), exact.model.parameters(), strict=True):
        assert torch.equal(p, q)
    monkeypatch.setattr(loop, "bfloat16_speedup", lambda device: 2.0)
    fast = run(tiny_config(tmp_path, precision="bfloat16-backward", bfloat16_steps=4))
    assert "not faster" not in capsys.readouterr().err
    assert not all(
        torch.equal(p, q)
        for p, q in zip(fast.model.parameters(), exact.model.parameters(), strict=True)
    )
