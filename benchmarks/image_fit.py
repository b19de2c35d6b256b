"""Image fitting: sirenkit's defaults against the authors' Colab configuration.

Cameraman at 256x256, 5-layer 256-wide SIREN, both measured in the same run on the same
machine. Prints seconds per step, PSNR at steps 100/200/500, and training seconds to 30 dB.

    python -m benchmarks.image_fit [--steps 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import machine, table, write_json
from benchmarks.reference import ReferenceSiren
from sirenkit.metrics import psnr
from sirenkit.signals import grid, load_image
from sirenkit.tasks.image import FitImageConfig, ImageTask
from sirenkit.training import run

CHECKPOINTS = (100, 200, 500)


def reference_fit(image, steps: int, eval_every: int, seed: int = 0) -> list[dict]:
    """The Colab loop: Adam(lr=1e-4), full batch, MSE; PSNR evaluated off the clock."""
    torch.manual_seed(seed)
    model = ReferenceSiren()
    coords = grid(image.shape[:2])
    target = torch.from_numpy(image.reshape(-1, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    records, elapsed = [], 0.0
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        out, _ = model(coords)
        loss = ((out - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        elapsed += time.perf_counter() - t0
        if step % eval_every == 0 or step in CHECKPOINTS:
            with torch.no_grad():
                p = psnr(model(coords)[0].reshape(image.shape), image)
            records.append({"step": step, "time": elapsed, "psnr": p})
    return records


def sirenkit_fit(steps: int | None, eval_every: int, out: Path) -> tuple[list[dict], int]:
    cfg = FitImageConfig(source="camera", size=256, out=out)
    if steps is not None:
        cfg.train.steps = steps
    cfg.train.eval_every = eval_every
    cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    result = run(cfg, ImageTask.from_config)
    lines = (result.run_dir / "metrics.jsonl").read_text().splitlines()
    records = [r for r in map(json.loads, lines) if r.get("eval")]
    return records, cfg.train.steps


def summarise(name: str, records: list[dict], steps: int) -> dict:
    by_step = {r["step"]: r for r in records}
    row = {"config": name, "steps": steps, "s/step": records[-1]["time"] / records[-1]["step"]}
    for s in CHECKPOINTS:
        row[f"PSNR@{s}"] = by_step[s]["psnr"] if s in by_step else None
    for target in (30.0, 40.0):
        hit = next((r for r in records if r["psnr"] >= target), None)
        row[f"s to {target:.0f} dB"] = hit["time"] if hit else None
        row[f"steps to {target:.0f} dB"] = hit["step"] if hit else None
    row["final PSNR"] = records[-1]["psnr"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=500, help="reference steps (paper: 500)")
    ap.add_argument("--sirenkit-steps", type=int, default=None, help="default: sirenkit's")
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    image = load_image("camera", 256)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        ours, our_steps = sirenkit_fit(args.sirenkit_steps, args.eval_every, Path(tmp))
    rows = [summarise("sirenkit defaults", ours, our_steps)]
    ref = reference_fit(image, args.steps, args.eval_every)
    rows.append(summarise("authors' Colab (Adam 1e-4, full batch)", ref, args.steps))
    cols = [
        "config",
        "steps",
        "s/step",
        *[f"PSNR@{s}" for s in CHECKPOINTS],
        "s to 30 dB",
        "steps to 30 dB",
        "s to 40 dB",
        "final PSNR",
    ]
    print(table(rows, cols))
    a, b = rows[0]["s to 30 dB"], rows[1]["s to 30 dB"]
    if a and b:
        print(f"time to 30 dB: sirenkit {a:.1f} s vs reference {b:.1f} s -> {b / a:.1f}x faster")
    print(f"s/step ratio (reference / sirenkit): {rows[1]['s/step'] / rows[0]['s/step']:.2f}")
    write_json(args.json, {"machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
