"""What every two-process test needs: a free loopback port and a process that joins as a rank."""

from __future__ import annotations

import os
import socket

import torch


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def become_rank(rank: int, world: int, port: int) -> None:
    """Set the environment torchrun would give process ``rank`` of ``world`` (one thread each,
    so two ranks on two cores do not oversubscribe them)."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
    )
    torch.set_num_threads(1)
