"""Whether bfloat16 arithmetic pays on this device, measured rather than assumed.

The image recipe's bfloat16 phases (``--bfloat16-steps``, ``--precision bfloat16`` and
``bfloat16-backward``) are faster only where the hardware multiplies bfloat16 natively (the
CPU of this project's sessions 1-18 had AVX512-BF16: a 256-wide product ran 2.5x faster).
Elsewhere (the AVX2 CPU of session 19, many laptops, older GPUs) the same products are
emulated, some 30x slower than float32: the recipe would cost more for a lower-precision
result. So a run measures the ratio once and, where bfloat16 does not pay, trains in float32
(its precision phases, and Muon's orthogonalisation, which torch runs in bfloat16 whatever
the precision: ``training/optim.py``), and says so."""

from __future__ import annotations

import functools
import math
import time

import torch

MIN_SPEEDUP = 1.2
"""bfloat16 products must be at least this much faster than float32 ones to be used."""


def _best_seconds(fn, device: torch.device, repeats: int = 5, give_up: float = math.inf) -> float:
    """The fastest of ``repeats`` timed calls of ``fn`` after one untimed; it stops early, with
    the time so far, once a call takes more than ``give_up`` seconds (emulated bfloat16 on a
    CPU without its instructions is some 30x slower: no need to time it five times)."""
    fn()
    best = math.inf
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
        if best > give_up:
            break
    return best


@functools.cache
def bfloat16_speedup(device: torch.device) -> float:
    """How many times faster a (4096 x 256) @ (256 x 256) product runs in bfloat16 than in
    float32 on ``device`` (best of five each, about 0.1 s on a CPU; a bfloat16 product
    already 4x slower than float32's best ends the timing); 0 where bfloat16 products fail."""
    a = torch.randn(4096, 256, device=device)
    b = torch.randn(256, 256, device=device)
    high = _best_seconds(lambda: a @ b, device)
    try:
        a16, b16 = a.bfloat16(), b.bfloat16()
        low = _best_seconds(lambda: a16 @ b16, device, give_up=4 * high)
    except RuntimeError:
        return 0.0
    return high / low
