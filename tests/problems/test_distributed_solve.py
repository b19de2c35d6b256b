"""A problem under data-parallel training: each rank trains on its slice of every
constraint's points, and two processes follow one."""

from __future__ import annotations

import json
import math
import time

import torch
import torch.multiprocessing as mp

import sirenkit as sk
from sirenkit.problems.problem import Batch
from sirenkit.training.distributed import DistContext, shard_batch
from tests.ddp import become_rank, free_port


def _problem() -> sk.Problem:
    line = sk.domains.Box([-1], [1])
    return sk.Problem(
        [
            sk.Constraint(
                line, lambda f: f.d("x", "x") + math.pi**2 * torch.sin(math.pi * f.x), points=64
            ),
            sk.Constraint(line.faces("x"), lambda f: f.u, points=2),
            # one point: fewer than the ranks, so every rank keeps it whole
            sk.Constraint(sk.domains.PointSet([[0.5]], [[1.0]]), lambda f: f.u - f.data),
        ],
        names=("x",),
    )


def _solve(out: str, name: str):
    torch.manual_seed(0)
    net = sk.Siren(1, 16, 1, 1, w0=3.0)
    return sk.solve(_problem(), net, steps=6, out=out, name=name, progress=False, seed=3)


def _worker(rank: int, world: int, port: int, out: str) -> None:
    become_rank(rank, world, port)
    run = _solve(out, "ddp")
    torch.save(run.model.state_dict(), f"{out}/rank{rank}.pt")


def _stop_worker(rank: int, world: int, port: int, out: str) -> None:
    """Rank 0 alone wants to stop after its second step (each rank judges its own shard)."""
    from sirenkit.problems.task import ProblemTask

    become_rank(rank, world, port)
    asked = [0]

    def should_stop(self, model) -> str | None:
        asked[0] += 1
        return "rank 0 has seen enough" if rank == 0 and asked[0] >= 3 else None

    ProblemTask.should_stop = should_stop
    run = _solve(out, "stop")
    torch.save(run.model.state_dict(), f"{out}/stop{rank}.pt")


def _rate_worker(rank: int, world: int, port: int, out: str) -> None:
    """Each rank's task would pick its own rate (it judges its own shard)."""
    from sirenkit.problems.task import ProblemTask

    become_rank(rank, world, port)
    ProblemTask.learning_rate = lambda self, scheduled: scheduled / (1 + rank)
    run = _solve(out, "rate")
    torch.save(run.model.state_dict(), f"{out}/rate{rank}.pt")


def test_a_problem_batch_is_sliced_per_constraint_and_small_ones_stay_whole():
    points = [torch.arange(10.0)[:, None], torch.tensor([[1.0]]), torch.arange(4.0)[:, None]]
    data = [None, torch.tensor([[2.0]]), torch.arange(4.0)[:, None] * 10]
    batch = Batch(points, data, [None, None, torch.rand(4)])  # the last: adaptive, not picked yet
    a, b = (shard_batch(batch, DistContext(r, 2, 0)) for r in (0, 1))
    assert torch.equal(torch.cat([a.points[0], b.points[0]]), points[0])
    assert len(a.points[0]) == len(b.points[0]) == 5
    for part in (a, b):
        assert torch.equal(part.points[1], points[1]) and torch.equal(part.data[1], data[1])
        assert torch.equal(part.points[2], points[2]) and torch.equal(part.data[2], data[2])
    sliced = Batch(points[2:], data[2:], [None]).shard(1, 2)
    assert torch.equal(sliced.points[0][:, 0], torch.tensor([2.0, 3.0]))
    assert torch.equal(sliced.data[0][:, 0], torch.tensor([20.0, 30.0]))  # data follow points


def test_two_processes_solve_as_one(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    single = _solve(str(tmp_path), "single").model.state_dict()
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
        torch.testing.assert_close(r0[k], single[k], rtol=1e-4, atol=1e-5)


def test_rank_0_decides_when_every_rank_stops(tmp_path):
    """A rank that left the loop alone would leave the others waiting on its gradients."""
    ranks = mp.spawn(_stop_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=False)
    deadline = time.monotonic() + 120
    while not ranks.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ranks.processes:
                p.kill()
            raise AssertionError("the ranks did not stop together: one hangs")
    r0, r1 = (torch.load(tmp_path / f"stop{r}.pt") for r in (0, 1))
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    (run_dir,) = [p.parent for p in tmp_path.glob("*stop*/summary.json")]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 2 and "rank 0 has seen enough" in summary["stopped"]


def test_rank_0s_learning_rate_holds_on_every_rank(tmp_path):
    mp.spawn(_rate_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rate{r}.pt") for r in (0, 1))
    assert all(torch.equal(r0[k], r1[k]) for k in r0)  # the copies did not drift apart
