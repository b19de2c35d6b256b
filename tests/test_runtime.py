import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import sirenkit
from sirenkit.runtime import keep_freed_memory

# Two 80 MiB blocks in turn, filled, in a thread other than the main one: the second must
# reuse the first's pages instead of faulting in fresh ones (a per-thread arena cannot hold a
# block this large, so before the fix it was mapped anew every time).
CODE = """
import resource, threading
import numpy as np
from sirenkit.runtime import keep_freed_memory

faults = []

def work():
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        block = np.ones(80 * 2**20 // 8)
        del block
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)

with keep_freed_memory() as on:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
print(on, *faults)
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_large_blocks_freed_in_a_thread_are_reused():
    src = str(Path(sirenkit.__file__).parents[1])  # this checkout's, not the installed one
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env
    )
    on, first, second = out.stdout.split()
    assert on == "True"
    assert int(second) < int(first) / 10, (first, second)


def test_disabled_changes_nothing():
    with keep_freed_memory(enabled=False) as on:
        assert on is False


# The command line's process, as the OpenMP runtime sees it when torch loads: after main()
# has parsed a command that imports torch.
POLICY = """
import os, sys
from sirenkit.cli.main import main
main(["models"])
assert "torch" in sys.modules
print(os.environ.get("OMP_WAIT_POLICY"))
"""


@pytest.mark.parametrize(("given", "seen"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_the_command_line_lets_waiting_openmp_threads_sleep_unless_told(given, seen):
    """Spinning threads on busy cores made a small problem 12x slower (runtime.py)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    src = str(Path(sirenkit.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", POLICY], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[-1] == seen
