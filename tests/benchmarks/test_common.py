"""The machine line every published figure carries."""

from __future__ import annotations

from pathlib import Path

import torch
from benchmarks.common import machine


def test_the_machine_line_names_the_vector_instructions_and_bfloat16():
    """Two CPUs of one model name (an AVX512-BF16 EPYC and an AVX2 one) time the image
    recipe differently: the line that captions a figure must tell them apart."""
    line = machine()
    assert f"({torch.backends.cpu.get_cpu_capability()}" in line
    if Path("/proc/cpuinfo").exists():
        assert "bfloat16 instructions" in line
