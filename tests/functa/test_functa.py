"""Modulated SIRENs, meta-training (one and two processes), encode and decode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from PIL import Image

from sirenkit.cli import main
from sirenkit.errors import SirenkitError
from sirenkit.functa.cli import read_modulations
from sirenkit.functa.model import ModulatedSiren
from sirenkit.functa.task import TrainFunctaConfig
from sirenkit.signals.grid import grid
from sirenkit.training import run
from tests.ddp import become_rank, free_port
from tests.tasks.prior_fixtures import write_folder


def tiny_config(tmp_path, **train) -> TrainFunctaConfig:
    cfg = TrainFunctaConfig(
        dataset=str(write_folder(tmp_path / "images")),
        size=8,
        test_fraction=0.25,
        eval_images=4,
        out=tmp_path / "runs",
    )
    cfg.model.hidden = 8
    cfg.model.layers = 3
    cfg.model.latent = 4
    cfg.model.inner_lr = 0.1
    cfg.train.steps = 4
    cfg.train.batch_size = 4
    cfg.train.progress = False
    cfg.train.eval_every = 0
    cfg.train.checkpoint_every = 0
    cfg.train.log_every = 2
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def test_zero_modulations_are_the_base_siren():
    torch.manual_seed(0)
    m = ModulatedSiren(2, 16, 2, 3, latent=5)
    torch.nn.init.normal_(m.to_shifts.weight)  # a map that does something
    x = grid((6, 7))
    out = m(x, torch.zeros(2, 5))
    assert out.shape == (2, 42, 3)
    torch.testing.assert_close(out[0], m.siren(x), rtol=0, atol=1e-6)
    torch.testing.assert_close(out[1], m.siren(x), rtol=0, atol=1e-6)
    assert (m(x, torch.ones(1, 5))[0] - m.siren(x)).abs().max() > 1e-2  # latents matter


def test_inner_steps_fit_the_signal():
    torch.manual_seed(0)
    m = ModulatedSiren(2, 16, 2, 1, latent=8, inner_lr=0.1)
    x = grid((8, 8))
    target = torch.sin(3 * x[:, :1]).expand(2, -1, -1) * torch.tensor([[[0.5]], [[-0.5]]])

    def err(steps):
        z = m.fit_latents(x, target, steps)
        with torch.no_grad():
            return float(((m(x, z) - target) ** 2).mean())

    assert err(5) < 0.95 * err(0)  # a step uphill (or none) fails this


def _worker(rank: int, world: int, port: int, cfg, out: str) -> None:
    become_rank(rank, world, port)
    weights = {k: v.detach() for k, v in run(cfg).model.state_dict().items()}
    torch.save(weights, f"{out}/rank{rank}.pt")


def test_two_processes_meta_train_like_one(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg.name = "ddp"
    mp.spawn(_worker, args=(2, free_port(), cfg, str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt")
    r1 = torch.load(tmp_path / "rank1.pt")
    cfg.name = "single"
    single = run(cfg).model.state_dict()
    torch.manual_seed(cfg.train.seed)
    init = ModulatedSiren(2, 8, 1, 1, latent=4, inner_lr=0.1).state_dict()
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
        torch.testing.assert_close(r0[k], single[k], rtol=1e-4, atol=1e-5)
    assert max(float((init[k] - single[k]).abs().max()) for k in init) > 1e-3  # it trained


def test_train_encode_decode_round_trip(tmp_path, capsys):
    cfg = tiny_config(tmp_path, steps=3)
    run_dir = run(cfg).run_dir
    assert (run_dir / "reconstructions.png").exists()
    npz = tmp_path / "mods.npz"
    images = str(tmp_path / "images")
    args = ["encode", "--model", str(run_dir), "--dataset", images, "--limit", "6"]
    assert main([*args, "--out", str(npz)]) == 0
    data = read_modulations(npz)
    assert data["modulations"].shape == (6, 4)
    assert main([*args, "--out", str(npz)]) == 2  # exists: refused
    assert "--force" in capsys.readouterr().err
    assert main(["decode", str(npz), "--out", str(tmp_path / "dec")]) == 0
    out = tmp_path / "dec"
    assert (out / "contact_sheet.png").exists()
    # each decoded image is its modulation's rendering: its PSNR against the original is the
    # one encode measured (up to 8-bit rounding)
    originals = sorted((tmp_path / "images").glob("*.png"))[:6]
    for i, src in enumerate(originals):
        a = np.asarray(Image.open(out / f"{i:06d}.png"), np.float64) / 127.5 - 1
        b = np.asarray(Image.open(src).resize((8, 8), Image.Resampling.LANCZOS)) / 127.5 - 1
        got = 10 * np.log10(4 / np.mean((a - b) ** 2))
        assert abs(got - float(data["psnr"][i])) < 0.5, (i, got, data["psnr"][i])
    assert main(["decode", str(npz), "--size", "20", "--limit", "2"]) == 0
    (big,) = tmp_path.glob("mods-decoded*")
    assert Image.open(big / "000001.png").size == (20, 20)


def test_encode_refuses_other_runs_and_files(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(SirenkitError, match="not written by"):
        read_modulations(bad)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(SirenkitError, match="not a readable"):
        read_modulations(tmp_path / "junk.npz")


def _encode_worker(rank: int, world: int, port: int, args: list[str]) -> None:
    become_rank(rank, world, port)
    assert main(args) == 0


def test_two_processes_encode_like_one(tmp_path):
    run_dir = run(tiny_config(tmp_path, steps=2)).run_dir
    args = ["encode", "--model", str(run_dir), "--dataset", str(tmp_path / "images")]
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    assert main([*args, "--out", str(one)]) == 0
    mp.spawn(_encode_worker, args=(2, free_port(), [*args, "--out", str(two)]), nprocs=2)
    a, b = read_modulations(one), read_modulations(two)
    assert a["modulations"].shape == (16, 4)  # every image, in order, once
    np.testing.assert_allclose(a["modulations"], b["modulations"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["psnr"], b["psnr"], rtol=1e-5)
