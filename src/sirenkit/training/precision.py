"""Whether bfloat16 arithmetic pays on this device, measured rather than assumed.

The image recipe's bfloat16 phases (``--bfloat16-steps``, ``--precision bfloat16`` and
``bfloat16-backward``) are faster only where the hardware multiplies bfloat16 natively (this
project's CPU has AVX512-BF16: a 256-wide product ran 2.5x faster). Elsewhere (many laptop
CPUs, older GPUs) the same products are emulated and can be slower than float32: the recipe
would cost more for a lower-precision result. So a run measures the ratio once and trains in
float32 where bfloat16 does not pay, and says so.
"""

from __future__ import annotations

import functools
import time

import torch

MIN_SPEEDUP = 1.2
"""bfloat16 products must be at least this much faster than float32 ones to be used."""


def _best_seconds(fn, device: torch.device, repeats: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return best


@functools.cache
def bfloat16_speedup(device: torch.device) -> float:
    """How many times faster a (4096 x 256) @ (256 x 256) product runs in bfloat16 than in
    float32 on ``device`` (best of five each, about 0.1 s on a CPU); 0 where bfloat16
    products fail."""
    a = torch.randn(4096, 256, device=device)
    b = torch.randn(256, 256, device=device)
    try:
        a16, b16 = a.bfloat16(), b.bfloat16()
        low = _best_seconds(lambda: a16 @ b16, device)
    except RuntimeError:
        return 0.0
    return _best_seconds(lambda: a @ b, device) / low
