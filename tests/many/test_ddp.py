"""torchrun: two CPU processes (gloo) give the single-process result, for batched fitting (the
images sharded across ranks) and for meta-training an init (the meta-batch sharded)."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sirenkit.nets.registry import model_from_config
from sirenkit.tasks.init import TrainInitConfig
from sirenkit.training import run
from sirenkit.training.config import TrainConfig
from tests.ddp import become_rank, free_port
from tests.many.fixtures import image_folder, images_config


def _configs(tmp_path):
    """The two runs' configs over the image folder the test wrote before spawning (ranks
    only read it)."""
    folder = tmp_path / "imgs"
    fit = images_config(tmp_path, str(folder))
    fit.train.steps, fit.train.checkpoint_every = 4, 0
    init = TrainInitConfig(dataset=str(folder), size=8, out=tmp_path / "runs")
    init.model.hidden, init.model.layers, init.model.inner_steps = 12, 3, 2
    init.test_fraction, init.eval_images = 0.2, 1
    init.train = TrainConfig(steps=3, lr=1e-3, batch_size=4, eval_every=0, progress=False)
    return fit, init


def _worker(rank: int, world: int, port: int, tmp_path) -> None:
    become_rank(rank, world, port)
    dist.init_process_group("gloo")
    try:
        for cfg in _configs(tmp_path):
            cfg.name = f"ddp-{cfg.setup().name}"
            state = run(cfg).model.state_dict()
            torch.save(state, tmp_path / f"{cfg.name}-rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_processes_match_one(tmp_path):
    image_folder(tmp_path / "imgs", 6, (8, 8))
    mp.spawn(_worker, args=(2, free_port(), tmp_path), nprocs=2, join=True)
    for cfg in _configs(tmp_path):
        name = cfg.setup().name
        r0 = torch.load(tmp_path / f"ddp-{name}-rank0.pt")
        r1 = torch.load(tmp_path / f"ddp-{name}-rank1.pt")
        cfg.name = f"single-{name}"
        single = run(cfg).model.state_dict()
        for k in r0:
            assert torch.equal(r0[k], r1[k]), (name, k)
            torch.testing.assert_close(r0[k], single[k], rtol=1e-4, atol=1e-6)
        torch.manual_seed(cfg.train.seed)
        init = model_from_config(cfg.model, cfg.setup().shape).state_dict()
        moved = max(float((init[k] - r0[k]).abs().max()) for k in r0)
        assert moved > 1e-4, name  # it did train
