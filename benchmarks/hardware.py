"""A lower bound on a SIREN training step on this machine, and how close each step comes to it.

The bound is the step's work at the machine's measured peak rates, whatever the order or
orientation of its products:

- **matrix work**: the step's FLOPs (per linear layer ``(i, o)`` on ``n`` points: forward
  ``2 n i o``, weight gradient ``2 n i o`` and, for every layer but the first, input gradient
  ``2 n i o``) at the **GEMM peak**, the best of several large square ``sgemm`` (``torch.mm``
  of 2048 x 2048 float32 matrices into a preallocated output) at the same thread count;
- **element-wise work**: the bytes of the unfused passes every sine layer needs at least
  (forward: read the pre-activation, write the sine; backward: read the incoming gradient and
  the pre-activation, write the outgoing gradient: 5 passes of ``n x width`` float32) at the
  **memory bandwidth**, the best of several copies of a 256 MiB tensor into a preallocated one.

The step of ``sirenkit fit image`` after its bfloat16 phase (``--precision bfloat16-backward``)
takes the backward products of its hidden sine layers in bfloat16; its bound counts those
FLOPs at the **bfloat16 GEMM peak** (the same square product in bfloat16) and the rest as
above, so it stays a bound for the step it is held against.

A step can only come close to this bound, never beat it: a step/bound ratio below 1 means the
bound is wrong. sirenkit's step and the authors' Colab step (:mod:`benchmarks.reference`) run
in one process under the same process settings (both with :func:`keep_freed_memory`, as
``sirenkit fit image`` runs, and both without), interleaved round by round so that a change
of the machine's load hits all alike. Times are per full-batch step (all ``n`` points, the same
work on every step).

    python -m benchmarks.hardware [--points 65536] [--hidden 256] [--layers 5] [--threads 1]
        [--clock cpu|wall] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import machine, table, write_json
from benchmarks.reference import ReferenceSiren
from sirenkit import Siren
from sirenkit.nets.siren import LOW_BACKWARD_MIN_WIDTH, bfloat16_backward
from sirenkit.runtime import keep_freed_memory
from sirenkit.signals import grid

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
"""``wall`` is what a user waits; ``cpu`` (this process's CPU seconds, page faults included)
is the figure that survives a machine shared with other work, when run with one thread."""
_clock = CLOCKS["wall"]

GEMM_SIDE = 2048
"""Side of the square float32 matrices whose best ``torch.mm`` time gives the GEMM peak."""
COPY_BYTES = 256 * 2**20
"""Size of the tensor whose best copy gives the memory bandwidth (well beyond any cache)."""
ELEMENTWISE_PASSES = 5
"""Float32 passes over ``n x width`` per sine layer: forward reads z and writes sin z; the
backward reads the incoming gradient and z and writes the outgoing gradient."""


def median_seconds(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
    """Median time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = _clock()
        fn()
        times.append(_clock() - t0)
    return statistics.median(times)


def best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Fastest of ``repeats`` timed calls after one untimed: a peak rate is the best seen."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = _clock()
        fn()
        best = min(best, _clock() - t0)
    return best


def layer_widths(hidden: int, layers: int, n_in: int = 2, n_out: int = 1) -> list[tuple[int, int]]:
    """``(in, out)`` of every linear map of a ``layers``-layer SIREN."""
    widths = [n_in] + [hidden] * (layers - 1) + [n_out]
    return list(itertools.pairwise(widths))


def low_backward_flops(n: int, shapes: list[tuple[int, int]]) -> float:
    """The part of :func:`step_flops` that ``bfloat16-backward`` takes in bfloat16: the input
    and weight gradients of the hidden sine layers (input at least
    :data:`~sirenkit.nets.siren.LOW_BACKWARD_MIN_WIDTH` wide; the first layer and the linear
    output layer stay float32)."""
    hidden = shapes[1:-1]
    return sum(2.0 * n * i * o * 2 for i, o in hidden if i >= LOW_BACKWARD_MIN_WIDTH)


def step_flops(n: int, shapes: list[tuple[int, int]]) -> float:
    """Matrix FLOPs of one training step on ``n`` points (forward + backward).

    Every layer does its forward product and its weight gradient; every layer but the first
    also passes the gradient to its input (the coordinates need none). The count does not
    depend on how the products are oriented or ordered.
    """
    return sum(2.0 * n * i * o * (2 if k == 0 else 3) for k, (i, o) in enumerate(shapes))


def elementwise_bytes(n: int, hidden: int, sine_layers: int) -> float:
    """Bytes of the element-wise passes of one step (:data:`ELEMENTWISE_PASSES` per sine layer)."""
    return float(ELEMENTWISE_PASSES * sine_layers * n * hidden * 4)


def gemm_peak(repeats: int = 5, side: int = GEMM_SIDE, dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of the best of ``repeats`` square products in ``dtype`` at the current thread
    count."""
    a, b = torch.randn(side, side, dtype=dtype), torch.randn(side, side, dtype=dtype)
    out = torch.empty(side, side, dtype=dtype)
    return 2.0 * side**3 / best_seconds(lambda: torch.mm(a, b, out=out), repeats)


def memory_bandwidth(repeats: int = 5, nbytes: int = COPY_BYTES) -> float:
    """Bytes/s of the best of ``repeats`` copies (read + write) of ``nbytes`` of float32."""
    src, dst = torch.rand(nbytes // 4), torch.empty(nbytes // 4)
    return 2.0 * nbytes / best_seconds(lambda: dst.copy_(src), repeats)


def training_step(
    model: torch.nn.Module, coords: torch.Tensor, low_backward: bool = False
) -> Callable[[], None]:
    """One full-batch Adam step on an MSE loss, as the training loop does it (with
    ``low_backward``, as it does under ``--precision bfloat16-backward``)."""
    target = torch.rand(coords.shape[0], 1) * 2 - 1
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        with bfloat16_backward(low_backward):
            out = model(coords)
        out = out[0] if isinstance(out, tuple) else out
        loss = torch.mean((out - target) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def peak_step_memory(step: Callable[[], None]) -> float | None:
    """Peak resident memory a step adds, in MiB (Linux; None elsewhere).

    Resets the kernel's high-water mark (``/proc/self/clear_refs``), runs the step and reads
    ``VmHWM`` against the resident size before it. Run before :func:`keep_freed_memory` is
    ever used, so that freed memory has really left the process.
    """
    status, refs = Path("/proc/self/status"), Path("/proc/self/clear_refs")

    def kib(key: str) -> int:
        line = next(x for x in status.read_text().splitlines() if x.startswith(key))
        return int(line.split()[1])

    try:
        step()
        refs.write_text("5")
        before = kib("VmRSS")
        step()
        return (kib("VmHWM") - before) / 1024
    except (OSError, StopIteration, ValueError):
        return None


def measure(
    points: int = 65536,
    hidden: int = 256,
    layers: int = 5,
    repeats: int = 5,
    clock: str = "wall",
    rounds: int = 2,
) -> dict:
    """The bound, sirenkit's step and the reference's step, measured in this process.

    ``clock`` picks the timer (:data:`CLOCKS`); each of ``rounds`` rounds times every side
    (``repeats // rounds`` steps each, median) in turn, and a side's figure is its best round.

    Returns:
        A dict of seconds per full-batch step (``bound``, ``bound_matmul``,
        ``bound_elementwise``, ``sirenkit_step``, ``reference_step`` with freed memory kept,
        the ``*_default_malloc`` pair without), the measured peaks and the per-step work.
    """
    global _clock
    _clock = CLOCKS[clock]
    side = round(points**0.5)
    coords = grid((side, points // side))
    n = coords.shape[0]
    shapes = layer_widths(hidden, layers)
    torch.manual_seed(0)
    ours = training_step(Siren(2, hidden, layers - 2, 1), coords)
    ours_low = training_step(Siren(2, hidden, layers - 2, 1), coords, low_backward=True)
    reference = training_step(ReferenceSiren(2, hidden, layers - 2, 1), coords)
    # Memory first: with freed memory kept, a step's high-water mark would not move.
    ours_mib, ref_mib = peak_step_memory(ours), peak_step_memory(reference)
    flops, nbytes = step_flops(n, shapes), elementwise_bytes(n, hidden, layers - 1)
    low_flops = low_backward_flops(n, shapes)
    sides = {"ours": ours, "ours_low": ours_low, "reference": reference}
    times: dict[str, list[float]] = {f"{k}_{m}": [] for k in sides for m in ("kept", "plain")}
    peaks: dict[str, list[float]] = {"gemm": [], "gemm_bf16": [], "bandwidth": []}
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        peaks["gemm"].append(gemm_peak(per_round + 2))
        peaks["gemm_bf16"].append(gemm_peak(per_round + 2, dtype=torch.bfloat16))
        peaks["bandwidth"].append(memory_bandwidth(per_round + 2))
        for malloc in ("kept", "plain"):
            with keep_freed_memory(malloc == "kept"):
                for name, step in sides.items():
                    times[f"{name}_{malloc}"].append(median_seconds(step, per_round, warmup=1))
    gemm, bandwidth = max(peaks["gemm"]), max(peaks["bandwidth"])
    gemm_bf16 = max(peaks["gemm_bf16"])
    bound_mm, bound_ew = flops / gemm, nbytes / bandwidth
    bound_low = (flops - low_flops) / gemm + low_flops / gemm_bf16 + bound_ew
    return {
        "points": n,
        "hidden": hidden,
        "layers": layers,
        "threads": torch.get_num_threads(),
        "clock": clock,
        "step_gflop": flops / 1e9,
        "step_elementwise_gb": nbytes / 1e9,
        "gemm_gflops": gemm / 1e9,
        "gemm_bf16_gflops": gemm_bf16 / 1e9,
        "low_backward_gflop": low_flops / 1e9,
        "bound_low_backward": bound_low,
        "sirenkit_step_low_backward": min(times["ours_low_kept"]),
        "bandwidth_gbs": bandwidth / 1e9,
        "bound_matmul": bound_mm,
        "bound_elementwise": bound_ew,
        "bound": bound_mm + bound_ew,
        "sirenkit_step": min(times["ours_kept"]),
        "reference_step": min(times["reference_kept"]),
        "sirenkit_step_default_malloc": min(times["ours_plain"]),
        "reference_step_default_malloc": min(times["reference_plain"]),
        "freed_memory_kept": _kept_available(),
        "sirenkit_step_peak_mib": ours_mib,
        "reference_step_peak_mib": ref_mib,
    }


def _kept_available() -> bool:
    with keep_freed_memory() as kept:
        return kept


def work_note(m: dict) -> str:
    """What one step does and the peaks it is held against, for a table's note."""
    return (
        f"{m['points']} points, {m['layers']}x{m['hidden']} SIREN, full batch; per step "
        f"{m['step_gflop']:.1f} GFLOP at the best-of-several {GEMM_SIDE}^2 sgemm peak "
        f"{m['gemm_gflops']:.0f} GFLOP/s ({m['bound_matmul']:.3f} s) + "
        f"{m['step_elementwise_gb']:.2f} GB element-wise at the best copy bandwidth "
        f"{m['bandwidth_gbs']:.1f} GB/s ({m['bound_elementwise']:.3f} s); "
        f"{m['threads']} thread(s), {m['clock']} clock"
    )


def cases(quick: bool) -> list[dict]:
    """Suite cases: sirenkit's and the Colab step against the bound and each other.

    One thread and process CPU time: the figures that hold on a machine shared with others.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m = measure(repeats=4 if quick else 8, clock="cpu")
    finally:
        torch.set_num_threads(threads)
    malloc = "both with freed memory kept" if m["freed_memory_kept"] else "default malloc"
    return [
        {
            "case": "full-batch step vs lower bound",
            "value": m["sirenkit_step"],
            "reference": m["bound"],
            "ratio": m["sirenkit_step"] / m["bound"],
            "unit": "s/step",
            "note": "reference = bound (a ratio < 1 would disprove it); " + work_note(m),
        },
        {
            "case": "bfloat16-backward step vs its lower bound",
            "value": m["sirenkit_step_low_backward"],
            "reference": m["bound_low_backward"],
            "ratio": m["sirenkit_step_low_backward"] / m["bound_low_backward"],
            "unit": "s/step",
            "note": f"fit image's step after its bfloat16 phase; {m['low_backward_gflop']:.1f} "
            f"of the GFLOP at the best bfloat16 product {m['gemm_bf16_gflops']:.0f} GFLOP/s; "
            f"{m['sirenkit_step'] / m['sirenkit_step_low_backward']:.2f}x cheaper than the "
            "float32 step",
        },
        {
            "case": "Colab step vs lower bound",
            "value": m["reference_step"],
            "reference": m["bound"],
            "ratio": m["reference_step"] / m["bound"],
            "unit": "s/step",
            "note": f"same process settings as sirenkit ({malloc})",
        },
        {
            "case": "full-batch step vs authors' Colab step",
            "value": m["sirenkit_step"],
            "reference": m["reference_step"],
            "ratio": m["sirenkit_step"] / m["reference_step"],
            "unit": "s/step",
            "note": f"{malloc}; default malloc for both: {m['sirenkit_step_default_malloc']:.3f}"
            f" vs {m['reference_step_default_malloc']:.3f} s (ratio "
            f"{m['sirenkit_step_default_malloc'] / m['reference_step_default_malloc']:.2f})",
        },
        {
            "case": "full-batch step peak memory vs Colab step",
            "value": m["sirenkit_step_peak_mib"],
            "reference": m["reference_step_peak_mib"],
            "ratio": _ratio(m["sirenkit_step_peak_mib"], m["reference_step_peak_mib"]),
            "unit": "MiB",
            "note": "resident-memory high-water mark added by one step (default malloc)",
        },
    ]


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=65536)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    m = measure(args.points, args.hidden, args.layers, args.repeats, args.clock)
    print(f"machine: {machine()}; clock: {args.clock}")
    print(work_note(m))
    rows = [
        {"what": "bound: matrix FLOPs at GEMM peak", "s": m["bound_matmul"]},
        {"what": "bound: element-wise bytes at bandwidth", "s": m["bound_elementwise"]},
        {"what": "lower bound", "s": m["bound"]},
        {"what": "lower bound, bfloat16 backward products", "s": m["bound_low_backward"]},
        {
            "what": "sirenkit step, bfloat16-backward, freed memory kept",
            "s": m["sirenkit_step_low_backward"],
            "x bound": m["sirenkit_step_low_backward"] / m["bound_low_backward"],
        },
    ]
    for name, key in (
        ("sirenkit step", "sirenkit_step"),
        ("authors' Colab step", "reference_step"),
    ):
        for suffix, how in (("", "freed memory kept"), ("_default_malloc", "default malloc")):
            s = m[key + suffix]
            rows.append({"what": f"{name}, {how}", "s": s, "x bound": s / m["bound"]})
    print(table(rows, ["what", "s", "x bound"]))
    print(
        f"peak memory of a step: sirenkit {m['sirenkit_step_peak_mib']} MiB, "
        f"Colab {m['reference_step_peak_mib']} MiB"
    )
    write_json(args.json, {"machine": machine(), **m})


if __name__ == "__main__":
    main()
