"""Two CPU processes (gloo) against one process with the same global batch."""

from __future__ import annotations

import torch
import torch.multiprocessing as mp

from sirenkit import load
from sirenkit.nets.registry import model_from_config
from sirenkit.training import run
from sirenkit.training.distributed import DistContext, shard_batch
from tests.ddp import become_rank, free_port
from tests.tasks.prior_fixtures import tiny_config


def _worker(rank: int, world: int, port: int, cfg, out: str) -> None:
    become_rank(rank, world, port)
    result = run(cfg)
    weights = {k: v.detach() for k, v in result.model.state_dict().items()}
    torch.save(weights, f"{out}/rank{rank}.pt")


def test_shard_batch_splits_every_tensor_along_the_first_dim():
    batch = (torch.arange(10), {"m": torch.ones(10, 3)})
    a = shard_batch(batch, DistContext(0, 2, 0))
    b = shard_batch(batch, DistContext(1, 2, 0))
    assert torch.equal(torch.cat([a[0], b[0]]), batch[0])
    assert a[1]["m"].shape == (5, 3)
    assert shard_batch(batch, None) is batch


def test_two_processes_match_one_process(tmp_path):
    cfg = tiny_config(tmp_path, steps=5, batch_size=4, checkpoint_every=0)
    cfg.name = "ddp"
    cfg.target_pixels = 20  # the sampled loss pixels are sharded with their images
    mp.spawn(_worker, args=(2, free_port(), cfg, str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt")
    r1 = torch.load(tmp_path / "rank1.pt")
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    # rank 0 alone wrote the run folder; its checkpoint holds the unwrapped module
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.name.startswith("ddp")]
    saved = load(run_dir).state_dict()
    assert all(torch.equal(saved[k], r0[k]) for k in r0)

    cfg.name = "single"
    single = run(cfg).model.state_dict()
    for k in r0:
        torch.testing.assert_close(r0[k], single[k], rtol=1e-4, atol=1e-5)
    torch.manual_seed(cfg.train.seed)
    init = model_from_config(cfg.model, cfg.setup().shape).state_dict()
    assert max(float((init[k] - r0[k]).abs().max()) for k in r0) > 1e-3  # it did train


def _average_worker(rank: int, world: int, port: int, out: str) -> None:
    import torch.distributed as dist

    from sirenkit.training.distributed import average_gradients

    become_rank(rank, world, port)
    dist.init_process_group("gloo")
    p = torch.nn.Parameter(torch.zeros(3))
    p.grad = torch.full((3,), float(rank + 1))
    average_gradients([p], DistContext(rank, world, rank))
    torch.save(p.grad, f"{out}/grad{rank}.pt")
    dist.destroy_process_group()


def test_a_tasks_own_parameters_get_the_gradient_averaged_over_ranks(tmp_path):
    """DDP averages the network's gradients; a task's unknowns are averaged the same way."""
    mp.spawn(_average_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        assert torch.equal(torch.load(tmp_path / f"grad{rank}.pt"), torch.full((3,), 1.5))
