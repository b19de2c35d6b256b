"""Batched fitting (``fit images``) against fitting the same images one by one.

Fashion-MNIST images at 32x32, one 5-layer 64-wide SIREN each. Both sides run the same recipe
(Adam 1e-3, cosine decay to 1e-5, full batch, ``--steps`` steps) from the *same* initial
weights (the one-by-one networks are network ``i`` of the batched model before training), so
they end at the same PSNR up to floating-point summation order, which the table shows. The
batched side is the library's training path (``training.loop.train`` on ``ImagesTask``); the
one-by-one side is the tuned loop a strong user would write around the library's ``Siren``.
The sides are interleaved: the training loop's callback fits the next one-by-one images every
few batched steps, and each side is charged its own CPU seconds (``time.process_time``), one
thread each. For 1024 images the one-by-one side is estimated from the first 64 (fits of
equal-size images cost the same; the table says so).

A second reference is the authors' recipe (the Colab: Adam 1e-4, constant), one by one on a
few images: the steps it needs to reach the batched fits' final PSNR (capped), which is a
recipe difference, not an implementation one.

A third table compares the two ways to batch the networks (stacked ``baddbmm`` with the fused
sine backward, the same with plain autograd, ``torch.func.vmap`` over ``functional_call``).

    python -m benchmarks.many [--counts 64 1024] [--steps 100] [--write-docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.func import functional_call, stack_module_state, vmap

from benchmarks import hardware
from benchmarks.common import load, machine, table, write_doc_block, write_json
from benchmarks.hardware import best_seconds, gemm_peak, layer_widths, step_flops
from sirenkit.nets import batched as batched_module
from sirenkit.nets.batched import BatchedSiren
from sirenkit.nets.registry import model_from_config
from sirenkit.nets.siren import Siren
from sirenkit.signals.datasets import load_dataset
from sirenkit.tasks.images import FitImagesConfig, ImagesTask
from sirenkit.training.config import TrainConfig
from sirenkit.training.loop import train
from sirenkit.training.schedule import learning_rate

DOC = Path(__file__).resolve().parents[1] / "docs" / "many.md"
SUBSET = 64
"""One-by-one fits measured for the larger counts (the rest is estimated from them)."""


def _psnr(mse: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-30))


def fit_one(siren: Siren, coords, target, cfg: TrainConfig) -> float:
    """The tuned one-by-one loop: full batch, Adam, the library's schedule; final PSNR.

    PyTorch's fused Adam (one kernel for all of a network's tensors): measured 2.45 against
    2.69 ms per step with the default per-tensor loop, so the stronger reference."""
    opt = torch.optim.Adam(siren.parameters(), lr=cfg.lr, fused=True)
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = learning_rate(cfg, step)
        loss = ((siren(coords) - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(_psnr(((siren(coords).clamp(-1, 1) - target) ** 2).mean()))


def steps_to(siren: Siren, coords, target, lr: float, goal: float, cap: int) -> int | None:
    """Steps of constant-``lr`` Adam until the PSNR reaches ``goal`` (None: not in ``cap``)."""
    opt = torch.optim.Adam(siren.parameters(), lr=lr)
    for step in range(cap):
        loss = ((siren(coords) - target) ** 2).mean()
        if float(_psnr(loss.detach())) >= goal:
            return step
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return None


def compare(count: int, steps: int, data) -> dict:
    """Batched fit of ``count`` images interleaved with one-by-one fits of (up to) 64 of them."""
    task = ImagesTask(data.__class__(data.images[:count], data.name), "bench")
    mcfg = FitImagesConfig().model
    torch.manual_seed(0)
    model = model_from_config(mcfg, task.shape)
    starts = [model.network(i) for i in range(min(count, SUBSET))]
    cfg = TrainConfig(
        steps=steps,
        log_every=steps,
        eval_every=0,
        checkpoint_every=0,
        progress=False,
        device="cpu",
    )
    coords = task.coords
    per_block = max(1, len(starts) * 10 // steps)  # one-by-one fits per 10 batched steps
    done: list[float] = []
    clock = {"batched": 0.0, "single": 0.0, "mark": time.process_time()}

    def interleave(step: int, _model) -> None:
        now = time.process_time()
        clock["batched"] += now - clock["mark"]
        if step % 10 == 0 or step == steps:
            todo = len(starts) - len(done) if step == steps else per_block
            for siren in starts[len(done) : len(done) + todo]:
                done.append(fit_one(siren, coords, task.pixels[len(done)], cfg))
        clock["mark"] = time.process_time()
        clock["single"] += clock["mark"] - now

    with tempfile.TemporaryDirectory() as tmp:
        clock["mark"] = time.process_time()
        train(task, model, cfg, Path(tmp), callbacks=[interleave])
    with torch.no_grad():
        pred = task.predict(model)
    truth = task.pixels.reshape(pred.shape).numpy()
    err = ((pred.clip(-1, 1) - truth) ** 2).reshape(count, -1).mean(1)
    batched_psnr = _psnr(torch.from_numpy(err))
    n_single = len(done)
    single_s = clock["single"] * count / n_single
    return {
        "images": count,
        "steps": steps,
        "batched_s": clock["batched"],
        "single_s": single_s,
        "single_measured": n_single,
        "batched_psnr": float(batched_psnr.mean()),
        "batched_psnr_subset": float(batched_psnr[:n_single].mean()),
        "single_psnr_subset": sum(done) / n_single,
        "batched_ips": count / clock["batched"],
        "single_ips": count / single_s,
        "ratio": single_s / clock["batched"],
    }


def authors_recipe(data, goal: float, images: int, cap: int) -> dict:
    """Steps and CPU seconds the Colab recipe (Adam 1e-4 constant) needs to reach ``goal``."""
    task = ImagesTask(data.__class__(data.images[:images], data.name), "bench")
    torch.manual_seed(0)
    model = model_from_config(FitImagesConfig().model, task.shape)
    t0 = time.process_time()
    reached = [
        steps_to(model.network(i), task.coords, task.pixels[i], 1e-4, goal, cap)
        for i in range(images)
    ]
    seconds = time.process_time() - t0
    return {"images": images, "reached": reached, "seconds": seconds, "cap": cap}


def batching_forms(data, count: int = 64, steps: int = 20, rounds: int = 4) -> dict:
    """CPU ms per image-step of three batched forms, interleaved in ``rounds`` blocks."""
    target = data.values(slice(0, count)).reshape(count, -1, 1)
    task = ImagesTask(data.__class__(data.images[:count], data.name), "bench")
    coords = task.coords
    torch.manual_seed(0)
    net = BatchedSiren(count, 2, 64, 3, 1)
    template = net.network(0).to("meta")
    params, _ = stack_module_state([net.network(i) for i in range(count)])
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    call = vmap(lambda p, x: functional_call(template, p, (x,)), in_dims=(0, None))
    sides = {
        "grouped closed-form loss and gradients (kept)": (
            lambda: net.squared_error(coords, target)[0],
            net.parameters(),
        ),
        "stacked baddbmm, fused sine backward": (lambda: net(coords), net.parameters()),
        "stacked baddbmm, plain autograd": (lambda: _plain(net, coords), net.parameters()),
        "torch.func vmap over functional_call": (lambda: call(params, coords), params.values()),
    }
    opts = {k: torch.optim.Adam(list(p), lr=1e-3) for k, (_, p) in sides.items()}
    spent = dict.fromkeys(sides, 0.0)
    for _ in range(rounds):
        for name, (forward, _) in sides.items():
            t0 = time.process_time()
            for _ in range(steps // rounds):
                out = forward()
                loss = out if out.dim() == 0 else ((out - target) ** 2).mean(dim=(1, 2)).sum()
                opts[name].zero_grad(set_to_none=True)
                loss.backward()
                opts[name].step()
            spent[name] += time.process_time() - t0
    return {k: 1e3 * v / (count * (steps // rounds) * rounds) for k, v in spent.items()}


def bound(single_step: float, points: int = 1024, hidden: int = 64, layers: int = 5) -> dict:
    """The most any implementation of the step can gain over the one-by-one loop here.

    A step's matrix work (:func:`benchmarks.hardware.step_flops`) cannot run faster than this
    thread's GEMM peak (best 2048x2048 ``sgemm``), and its sines (forward) and cosines
    (backward), one per hidden value and layer, not faster than ``torch.sin`` on an
    L2-resident ``points x hidden`` tensor. ``single_step`` is the one-by-one CPU seconds per
    network-step measured by :func:`compare`."""
    hardware._clock = hardware.CLOCKS["cpu"]  # CPU seconds: the machine is shared
    flops = step_flops(points, layer_widths(hidden, layers))
    peak = gemm_peak(repeats=7)
    z, out = torch.randn(points, hidden), torch.empty(points, hidden)
    sine = best_seconds(lambda: torch.sin(z, out=out), 50) / z.numel()
    transcendental = 2 * (layers - 1) * points * hidden * sine
    floor = flops / peak + transcendental
    return {
        "step_mflop": flops / 1e6,
        "gemm_peak_gflops": peak / 1e9,
        "single_gflops": flops / single_step / 1e9,
        "sine_ns": sine * 1e9,
        "single_ms": single_step * 1e3,
        "floor_ms": floor * 1e3,
        "matmul_floor_ms": flops / peak * 1e3,
        "max_gain": single_step / floor,
        "max_gain_free_sines": single_step * peak / flops,
        "gflops_for_5x": 5 * flops / single_step / 1e9,
    }


def _plain(net: BatchedSiren, coords: torch.Tensor) -> torch.Tensor:
    """The batched forward with the fused sine backward switched off."""
    active = batched_module._functorch_active
    batched_module._functorch_active = lambda: True
    try:
        return net(coords)
    finally:
        batched_module._functorch_active = active


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--counts", type=int, nargs="+", default=[64, 1024])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--authors-images", type=int, default=4)
    ap.add_argument("--form-steps", type=int, default=20)
    ap.add_argument("--authors-cap", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = load_dataset("fashion-mnist", 32, max(*args.counts, SUBSET))
    print(machine(), "|", load(), flush=True)

    forms = batching_forms(data, steps=args.form_steps)
    form_rows = [{"form": k, "ms per image-step": v} for k, v in forms.items()]
    print(table(form_rows, ["form", "ms per image-step"]), flush=True)

    rows = []
    for count in args.counts:
        r = compare(count, args.steps, data)
        rows.append(r)
        print(r, "|", load(), flush=True)
    single_step = rows[0]["single_s"] / (rows[0]["images"] * args.steps)
    limit = bound(single_step)
    print(limit, flush=True)
    goal = rows[0]["batched_psnr_subset"]
    authors = authors_recipe(data, goal, args.authors_images, args.authors_cap)
    print(authors, flush=True)

    out = []
    for r in rows:
        est = "" if r["single_measured"] == r["images"] else f" (est. from {r['single_measured']})"
        out.append(
            {
                "images": r["images"],
                "batched CPU s": r["batched_s"],
                "one-by-one CPU s": f"{r['single_s']:.4g}{est}",
                "batched img/s": r["batched_ips"],
                "one-by-one img/s": r["single_ips"],
                "speed-up": f"{r['ratio']:.2f}x",
                "PSNR batched / one-by-one (same images)": (
                    f"{r['batched_psnr_subset']:.2f} / {r['single_psnr_subset']:.2f}"
                ),
            }
        )
    cols = list(out[0])
    reached = [s for s in authors["reached"] if s is not None]
    authors_line = (
        f"The authors' recipe (Adam 1e-4, constant), one by one from the same initial weights, "
        f"on the first {authors['images']} images: "
        + (
            f"{len(reached)} of {authors['images']} reach {goal:.1f} dB (the batched fits' "
            f"final PSNR at {args.steps} steps) within {authors['cap']} steps "
            f"(steps: {authors['reached']}), {authors['seconds'] / authors['images']:.2f} CPU s "
            "per image until then or the cap"
        )
        + f"; batched sirenkit: {rows[0]['batched_s'] / rows[0]['images']:.3f} CPU s per image."
    )
    body = "\n\n".join(
        [
            f"Fashion-MNIST 32x32, 5x64 SIREN per image, {args.steps} steps of Adam 1e-3 with a "
            "cosine decay, full batch, same initial weights on both sides; CPU seconds of one "
            "thread each, sides interleaved.",
            table(out, cols),
            authors_line,
            "Ways to batch the networks (64 images, 20 interleaved steps, CPU ms per image-step):",
            table(form_rows, ["form", "ms per image-step"]),
            "The bound: what any implementation can gain over the one-by-one loop on this "
            "thread (its step's matrix FLOPs at the best 2048x2048 sgemm rate, plus one sine "
            "and one cosine per hidden value at `torch.sin`'s best rate):",
            table(
                [
                    {
                        "step MFLOP": limit["step_mflop"],
                        "GEMM peak GFLOP/s": limit["gemm_peak_gflops"],
                        "one-by-one ms / GFLOP/s": (
                            f"{limit['single_ms']:.3g} / {limit['single_gflops']:.3g}"
                        ),
                        "5x needs GFLOP/s": limit["gflops_for_5x"],
                        "sine ns": limit["sine_ns"],
                        "floor ms (matmul only)": (
                            f"{limit['floor_ms']:.3g} ({limit['matmul_floor_ms']:.3g})"
                        ),
                        "max gain (free sines)": (
                            f"{limit['max_gain']:.2f}x ({limit['max_gain_free_sines']:.2f}x)"
                        ),
                    }
                ],
                [
                    "step MFLOP",
                    "GEMM peak GFLOP/s",
                    "one-by-one ms / GFLOP/s",
                    "5x needs GFLOP/s",
                    "sine ns",
                    "floor ms (matmul only)",
                    "max gain (free sines)",
                ],
            ),
        ]
    )
    print(body)
    write_json(
        args.json,
        {"rows": rows, "authors": authors, "forms": forms, "bound": limit, "load": load()},
    )
    if args.write_docs:
        cmd = "python -m benchmarks.many " + " ".join(
            a for a in sys.argv[1:] if a != "--write-docs"
        )
        write_doc_block(DOC, "many", body, cmd.strip())


if __name__ == "__main__":
    main()
