"""Process settings that make CPU training faster without changing any result.

OpenMP threads that wait for work spin by default. On a machine whose cores other processes
also use, a spinning thread takes the core from the thread it waits for, and every parallel
region waits for a thread that is not running: a small problem (a PDE on 130 points, two
threads, load average 5) trained 12x slower than with waiting threads asleep
(``OMP_WAIT_POLICY=PASSIVE``), to the same result. The command line sets that policy before
torch starts, unless the environment already names one (:func:`sleeping_openmp_threads`).

PyTorch allocates CPU tensors with ``malloc``. glibc serves blocks above its mmap threshold
(at most 32 MiB) with a fresh ``mmap`` each time and returns them on ``free``, so every
activation of a full-batch step on a 256x256 image (64 MiB at width 256) is page-faulted in
anew: about as costly as the sine pass that fills it (docs/speed.md). Keeping freed memory
in the heap lets the next step reuse it; the process then holds on to its peak memory until
it exits, which is what a training run does anyway.

Threads get their own malloc arenas, whose heaps hold at most 64 MiB: a block that size or
larger, allocated in any thread but the main one, was mapped and unmapped on every step
whatever the settings above (a full-batch step at 256x256 cost 1.57x the CPU in a thread,
measured). So within the block every thread allocates from the main arena.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import platform
import sys
from collections.abc import Iterator

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_GLIBC_MMAP_MAX_DEFAULT = 65536
_GLIBC_TRIM_DEFAULT = 128 * 1024


def sleeping_openmp_threads() -> bool:
    """Make OpenMP threads sleep while they wait (``OMP_WAIT_POLICY=PASSIVE``) unless the
    environment sets a policy; the OpenMP runtime reads it when torch is first imported, so
    this must come before. Returns whether the policy is passive for this process."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@contextlib.contextmanager
def keep_freed_memory(enabled: bool = True) -> Iterator[bool]:
    """Within the block, freed host memory stays in the process for reuse (glibc only).

    Arguments:
        enabled: False makes this a no-op (for comparisons).

    Yields:
        Whether the setting is in effect (False off Linux/glibc, where nothing changes).
    """
    libc = _glibc() if enabled else None
    if libc is None:
        yield False
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, 2**30)
    libc.mallopt(_M_ARENA_MAX, 1)  # threads started from here on share the main arena
    try:
        yield True
    finally:
        libc.mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX_DEFAULT)
        libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_TRIM_DEFAULT)
        libc.mallopt(_M_ARENA_MAX, 8 * (os.cpu_count() or 1))  # glibc's default limit
