"""Multi-process data-parallel training: ``torchrun --nproc_per_node=N -m sirenkit ...``.

torchrun starts N copies of the command with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``MASTER_ADDR``/``MASTER_PORT`` set; :func:`session` turns them into a process group (NCCL for
CUDA devices, gloo otherwise). The shared loop then

* wraps the model in :class:`~torch.nn.parallel.DistributedDataParallel` (gradients averaged
  across ranks at every step);
* has every rank draw the *global* batch from the same seeded generator and keep its own slice
  (:func:`shard_batch`): the union of the shards is exactly the batch a single process would
  draw, so N processes follow the single-process run with the same ``--batch-size`` (up to
  floating-point summation order), and the one generator state in a checkpoint is every rank's;
* lets only rank 0 write the run folder, metrics, progress bar and checkpoints (which hold the
  unwrapped module, so ``sirenkit.load`` is unaffected).

Batches are sharded along the first dimension of every tensor they hold, so a task's batch
must be example-major (shared tensors such as a coordinate grid belong on the task instead).
With a global batch that is not a multiple of N the shards differ by one example and the
averaged gradient weighs examples slightly unequally. A batch with a ``shard(rank, world)``
method slices itself: a problem's (``sirenkit solve``, the PDE and SDF commands) slices every
constraint's points, and keeps whole a constraint with fewer points than ranks (every rank
then computes it and the average is unchanged). The L-BFGS phase's one fixed batch is not
sharded: every rank evaluates it whole (the same loss and gradient on every rank).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistContext:
    """This process's place in the process group."""

    rank: int
    world: int
    local_rank: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def current() -> DistContext | None:
    """The active process group (None when training in one process)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    rank = dist.get_rank()
    return DistContext(rank, dist.get_world_size(), int(os.environ.get("LOCAL_RANK", rank)))


def is_main() -> bool:
    """True in a single process and on rank 0: the process that writes files."""
    ctx = current()
    return ctx is None or ctx.main


@contextmanager
def session(device: str) -> Iterator[DistContext | None]:
    """Join the process group described by torchrun's environment, if there is one.

    Without ``WORLD_SIZE`` > 1 (a plain ``sirenkit`` call), or with a group the caller already
    initialised, nothing is set up or torn down. A group created here is closed on exit,
    after a barrier so that no rank leaves while rank 0 is still writing.

    Arguments:
        device: the ``--device`` flag; CUDA devices use NCCL (one GPU per local rank), anything
            else gloo.
    """
    from .loop import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world < 2 or (dist.is_available() and dist.is_initialized()):
        yield current()
        return
    if resolve_device(device).type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    try:
        yield current()
        dist.barrier()
    finally:
        dist.destroy_process_group()


def local_device(device: torch.device, ctx: DistContext | None) -> torch.device:
    """Under a process group each rank drives its own GPU (``cuda:LOCAL_RANK``)."""
    if ctx is not None and device.type == "cuda":
        return torch.device("cuda", ctx.local_rank)
    return device


def wrap(model: nn.Module, ctx: DistContext | None, device: torch.device) -> nn.Module:
    """``model`` in DistributedDataParallel under a process group, else ``model`` itself."""
    if ctx is None:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def shard_batch(batch: Any, ctx: DistContext | None) -> Any:
    """This rank's slice (along dim 0) of every tensor in a (nested tuple/list/dict) batch, or
    the batch's own ``shard(rank, world)``."""
    if ctx is None:
        return batch
    shard = getattr(batch, "shard", None)
    if callable(shard):  # a batch that knows its own layout (a problem's: one set per constraint)
        return shard(ctx.rank, ctx.world)
    if isinstance(batch, torch.Tensor):
        return torch.tensor_split(batch, ctx.world)[ctx.rank]
    if isinstance(batch, dict):
        return {k: shard_batch(v, ctx) for k, v in batch.items()}
    if isinstance(batch, tuple | list):
        return type(batch)(shard_batch(v, ctx) for v in batch)
    return batch


def mean_over_ranks(values: dict[str, torch.Tensor], ctx: DistContext | None):
    """Average logged scalars over ranks (one all-reduce); unchanged in a single process."""
    if ctx is None or not values:
        return values
    keys = sorted(values)
    stacked = torch.stack([values[k].detach().float().reshape(()) for k in keys])
    dist.all_reduce(stacked)
    stacked /= ctx.world
    return dict(zip(keys, stacked.unbind(), strict=True))


def average_gradients(params: Sequence[torch.Tensor], ctx: DistContext | None) -> None:
    """Average the gradients of parameters outside the DDP module (a task's own) over ranks,
    as DDP does for the network's; nothing in a single process."""
    grads = [p.grad for p in params if p.grad is not None]
    if ctx is None or not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= ctx.world
    for g, part in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
        g.copy_(part.view_as(g))


def broadcast(obj: Any, ctx: DistContext | None) -> Any:
    """Rank 0's ``obj`` on every rank (e.g. the run folder it created)."""
    if ctx is None:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
