import pytest
import torch

from sirenkit import Siren
from sirenkit.nets.registry import model_from_config
from sirenkit.signals.audio import synthetic_audio
from sirenkit.tasks.audio import AudioTask, FitAudioConfig
from sirenkit.training import TrainConfig, run
from sirenkit.training.optim import Muon, MuonAdam, _orthogonalised, param_groups
from tests.tasks.common import assert_resume_matches_full_run
from tests.training.test_run import tiny_config


def _one_step(lr: float) -> tuple[Siren, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A Siren(2, 32, 2, 1), its gradients on a random batch and each parameter's first step
    by MuonAdam, the learning rate set on its groups as the loop's schedule sets it."""
    torch.manual_seed(0)
    net = Siren(2, 32, 2, 1)
    x, y = torch.rand(256, 2) * 2 - 1, torch.rand(256, 1)
    ((net(x) - y) ** 2).mean().backward()
    grads = {n: p.grad.clone() for n, p in net.named_parameters()}
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = MuonAdam(net.parameters(), lr=1.0, betas=(0.9, 0.999))
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()
    steps = {n: p.detach() - before[n] for n, p in net.named_parameters()}
    return net, grads, steps


def test_muon_takes_the_hidden_matrices_and_adam_the_rest_at_the_schedules_rate():
    lr = 1e-3
    net, grads, steps = _one_step(lr)
    hidden = {"net.1.weight", "net.2.weight"}  # the two 32 x 32 matrices
    for name, step in steps.items():
        if name in hidden:
            # orthogonalised: the step's singular values at most about Moonshot's RMS-matched
            # size 0.2 lr sqrt(32) (Newton-Schulz leaves most in 0.5-1.5 of it; only the
            # gradient's tiniest directions stay small), where Adam's sign-like first step
            # has a leading one 12-23 times that
            s = torch.linalg.svdvals(step) / (0.2 * lr * 32**0.5)
            assert float(s.max()) < 1.6 and float(s.median()) > 0.5, (name, s)
        else:
            # Adam's first step: lr times the gradient's sign
            torch.testing.assert_close(step, -lr * grads[name].sign(), atol=lr * 1e-3, rtol=0)
    assert {n for n, p in net.named_parameters() if p.ndim == 2} - hidden == {
        "net.0.weight",
        "net.3.weight",
    }
    # a network without a hidden matrix wide enough is Adam's alone (Muon refuses no params)
    narrow = MuonAdam(Siren(2, 8, 2, 1).parameters(), lr=lr, betas=(0.9, 0.999))
    assert list(narrow.parts) == ["adam"]
    # complex weights (WIRE's) are Adam's: Muon refuses them
    wire = torch.nn.Parameter(torch.randn(32, 32, dtype=torch.cfloat))
    assert list(MuonAdam([wire], lr=lr, betas=(0.9, 0.999)).parts) == ["adam"]


def test_a_muon_run_steps_with_muon_and_resumes_to_the_same_end(tmp_path):
    def cfg():
        c = tiny_config(tmp_path, optimizer="muon", bfloat16_steps=4)
        c.model.hidden = 32
        return c

    out = run(cfg())
    saved = torch.load(out.run_dir / "checkpoint.pt", weights_only=False)["optimizer"]
    assert saved["muon"]["state"] and saved["adam"]["state"]
    assert_resume_matches_full_run(cfg)


def test_muon_in_bfloat16_is_torchs_and_in_float32_the_same_update_in_float32(monkeypatch):
    """torch's Muon orthogonalises in bfloat16 always, which a CPU without bfloat16
    instructions emulates some 30x slower: sirenkit's steps the same way in float32 there.
    Its iteration is torch's (bit for bit in bfloat16), and its float32 step is torch's step
    with torch's iteration made float32."""
    from torch.optim import _muon

    g = torch.randn(32, 48, generator=torch.Generator().manual_seed(0))
    coefficients = (_muon.DEFAULT_A, _muon.DEFAULT_B, _muon.DEFAULT_C)
    for shape in (g, g.T):
        ours = _orthogonalised(shape, coefficients, 5, 1e-7, torch.bfloat16)
        torchs = _muon._zeropower_via_newtonschulz(shape, coefficients, 5, 1e-7)
        assert torch.equal(ours, torchs.to(ours.dtype))

    def fit(optimizer: type, **kwargs) -> list[torch.Tensor]:
        torch.manual_seed(0)
        weights = [torch.nn.Parameter(torch.randn(32, 48)), torch.nn.Parameter(torch.randn(48, 32))]
        opt = optimizer(
            weights, lr=1e-2, weight_decay=0.0, adjust_lr_fn="match_rms_adamw", **kwargs
        )
        for _ in range(3):
            opt.zero_grad()
            sum(((w.sin() - 0.3) ** 2).sum() for w in weights).backward()
            opt.step()
        return [w.detach().clone() for w in weights]

    assert all(map(torch.equal, fit(Muon), fit(torch.optim.Muon)))
    in_float32 = fit(Muon, ns_dtype=torch.float32)
    assert not all(map(torch.equal, in_float32, fit(Muon)))
    monkeypatch.setattr(
        _muon,
        "_zeropower_via_newtonschulz",
        lambda g, c, n, eps: _orthogonalised(g, c, n, eps, torch.float32),
    )
    assert all(map(torch.equal, in_float32, fit(torch.optim.Muon)))


def test_param_groups_give_the_first_layer_its_w0_scaled_rate():
    torch.manual_seed(0)
    siren = Siren(1, 32, 2, 1, w0=300.0)
    groups = param_groups(siren, (), 30.0)
    first = siren.net[0]
    assert groups[0]["lr_scale"] == pytest.approx(0.1)  # 30 / 300
    assert [id(p) for p in groups[0]["params"]] == [id(first.weight), id(first.bias)]
    assert "lr_scale" not in groups[1] and len(groups[1]["params"]) == 6
    # off, or a network without a first-layer w0: every parameter in one group, as before
    assert len(param_groups(siren, (), None)) == 1
    relu = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    assert [len(g["params"]) for g in param_groups(relu, (), 30.0)] == [4]


@pytest.mark.parametrize("optimizer", ["adam", "muon"])
def test_the_loop_steps_the_first_layer_at_lr_times_first_lr_w0_over_w0(tmp_path, optimizer):
    """Adam's first step is the rate times the gradient's sign: lr on the other Adam
    parameters, lr x 30 / 300 on the first layer (w0 300); under Muon too (Adam's part)."""
    cfg = FitAudioConfig(source="synthetic", out=tmp_path)
    cfg.model.hidden, cfg.model.layers, cfg.model.w0 = 32, 4, 300.0
    cfg.train = TrainConfig(steps=1, lr=1e-3, schedule="constant", first_lr_w0=30.0)
    cfg.train.optimizer, cfg.train.progress = optimizer, False
    task = AudioTask(synthetic_audio(rate=1000, seconds=0.2))
    torch.manual_seed(cfg.train.seed)  # the run's initial network
    net = model_from_config(cfg.model, task.shape)
    task.loss(net, task.batch(0, torch.Generator(), None))[0].backward()
    out = run(cfg, task)
    hidden = {"net.1.weight", "net.2.weight"} if optimizer == "muon" else set()
    for (name, p), q in zip(net.named_parameters(), out.model.parameters(), strict=True):
        if name in hidden:
            continue
        rate = 1e-4 if name.startswith("net.0.") else 1e-3
        step = q.detach() - p.detach()
        torch.testing.assert_close(step, -rate * p.grad.sign(), atol=rate * 0.02, rtol=0)
