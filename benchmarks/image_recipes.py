"""Training recipes for an image compared on quality per unit of work (no timing noise).

Each variant trains the 5-layer 256-wide SIREN on one image and records the whole image's PSNR
(off the clock) against the work done, in full-batch equivalents (FBE: one full image's worth
of pixels through forward and backward; a bfloat16 step counts half, its measured cost on this
CPU), and the process CPU seconds. Work does not depend on the machine's load, so recipes can
be compared on a shared machine; ``benchmarks.image_fit`` then measures seconds.

    python -m benchmarks.image_recipes --image camera --size 128 --jsonl out.jsonl
    python -m benchmarks.image_recipes --render out.jsonl [--write-docs]
    python -m benchmarks.image_recipes --fits benchmarks/results/image_recipes_256/*.json

``--fits`` tabulates 256x256 runs of ``sirenkit fit image``'s options through the real loop
(``python -m benchmarks.image_fit --sides sirenkit --eval-every 2 --set min_gain=None ...
--json``), their work recomputed from the schedule each run used.

The variants' error-driven sampling is written out here (not ``ErrorSampler``) so that it can
also draw by the squared error (``power`` 1), which the library does not offer: it lost.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from benchmarks.common import write_doc_block
from sirenkit.nets.config import ModelConfig
from sirenkit.nets.registry import TaskShape, model_from_config
from sirenkit.runtime import keep_freed_memory
from sirenkit.signals import grid, load_image
from sirenkit.tasks.image import FitImageConfig
from sirenkit.training.schedule import batch_size_at

ROOT = Path(__file__).resolve().parents[1]
VARIANTS: dict[str, tuple[str, dict]] = {
    "full": ("full batch (the tuned baseline's recipe)", {"steps": 150, "T": 300}),
    "bf16_40": (
        "full batch, first 40 steps bfloat16",
        {"steps": 70, "T": 300, "bf16_steps": 40, "eval_every": 5},
    ),
    "uni25": (
        "uniform quarter batches",
        {"steps": 200, "T": 1200, "frac": 0.25, "mode": "uniform"},
    ),
    "uni12": (
        "uniform eighth batches",
        {"steps": 400, "T": 2400, "frac": 0.125, "mode": "uniform", "eval_every": 20},
    ),
    "err25": (
        "error-driven quarter batches, p ~ r^2, mix 0.8",
        {"steps": 200, "T": 1200, "frac": 0.25, "mode": "error", "power": 1.0, "alpha": 0.8},
    ),
    "errh25_a8": (
        "error-driven quarter batches, p ~ abs(r), mix 0.8",
        {"steps": 200, "T": 1200, "frac": 0.25, "mode": "error", "power": 0.5, "alpha": 0.8},
    ),
    "errh25": (
        "error-driven quarter batches, p ~ abs(r), mix 0.5",
        {"steps": 200, "T": 1200, "frac": 0.25, "mode": "error", "power": 0.5, "alpha": 0.5},
    ),
    "uni25_bf16": (
        "uniform quarter batches, first 100 steps bfloat16",
        {"steps": 200, "T": 1200, "frac": 0.25, "mode": "uniform", "bf16_steps": 100},
    ),
}
WORK_COLUMNS = (10, 20, 30, 40, 50)


def fit(
    image,
    steps: int = 300,
    lr: float = 1e-3,
    T: int | None = None,
    frac: float = 1.0,
    mode: str = "full",
    alpha: float = 0.8,
    bf16_steps: int = 0,
    eval_every: int = 10,
    seed: int = 0,
    power: float = 1.0,
) -> list[dict]:
    """Adam with a cosine decay over ``T`` steps to 1%; full, uniform or error-driven batches
    of ``frac`` of the pixels (error-driven: ``p = (1 - alpha) / N + alpha e^power / sum``,
    ``e`` the last seen squared error, loss weighted by ``1 / (N p)``)."""
    horizon = T or steps
    h, w, c = image.shape
    coords = grid((h, w))
    y = torch.from_numpy(image.reshape(-1, c).copy())
    n = coords.shape[0]
    torch.manual_seed(seed)
    net = model_from_config(ModelConfig(), TaskShape(2, c, (h, w), w0=30.0))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    score = torch.ones(n)
    size = max(1, int(frac * n))
    records, work, cpu = [], 0.0, 0.0
    for step in range(steps):
        t0 = time.process_time()
        t = min(1.0, step / max(1, horizon - 1))
        for group in opt.param_groups:
            group["lr"] = lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t)))
        idx, weights = None, None
        if mode == "uniform":
            idx = torch.randint(n, (size,), generator=g)
        elif mode == "error":
            s = score.pow(power)
            p = (1 - alpha) / n + alpha * s / s.sum()
            idx = torch.multinomial(p, size, replacement=True, generator=g)
            weights = 1.0 / (n * p[idx])
        xb, yb = (coords, y) if idx is None else (coords[idx], y[idx])
        low = step < bf16_steps
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
            out = net(xb)
        r2 = (out.float() - yb) ** 2
        loss = r2.mean() if weights is None else (r2 * weights[:, None]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            e = r2.detach().mean(1)
            if idx is None:
                score = e.clone()
            else:
                score[idx] = e
        cpu += time.process_time() - t0
        work += (xb.shape[0] / n) * (0.5 if low else 1.0)
        if (step + 1) % eval_every == 0:
            with torch.no_grad():
                mse = float(((net(coords) - y) ** 2).mean())
            records.append(
                {"step": step + 1, "work": work, "cpu": cpu, "psnr": 10 * math.log10(4 / mse)}
            )
    return records


def render(rows: list[dict]) -> str:
    """Markdown: PSNR after each amount of work, and the work to 40 dB, per variant."""
    lines = [
        "| policy | " + " | ".join(f"{w} FBE" for w in WORK_COLUMNS) + " | FBE to 40 dB |",
        "|" + "---|" * (len(WORK_COLUMNS) + 2),
    ]
    order = list(VARIANTS)
    for row in sorted(rows, key=lambda r: order.index(r["label"]) if r["label"] in order else 99):
        recs = row["recs"]
        cells = []
        for w in WORK_COLUMNS:
            within = [r for r in recs if r["work"] <= w + 1e-6]
            cells.append(f"{within[-1]['psnr']:.1f}" if within and recs[-1]["work"] >= w else "-")
        hit = next((r for r in recs if r["psnr"] >= 40.0), None)
        reach = f"{hit['work']:.1f}" if hit else f"not in {recs[-1]['work']:.0f}"
        name = VARIANTS.get(row["label"], (row["label"],))[0]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {reach} |")
    return "\n".join(lines)


BF16_COST = 0.5
"""CPU cost of a bfloat16 pixel against a float32 one on this CPU (measured: 0.50-0.52)."""


def work_by_step(options: list[str], pixels: int, steps: int) -> list[float]:
    """FBE done after each step of ``sirenkit fit image`` with ``options`` (``--set`` form)."""
    from benchmarks.image_fit import override

    cfg = FitImageConfig()
    # only the options that set the work of a step (others, e.g. Adam's, may be gone since)
    work = ("steps", "batch_size", "batch_growth_every", "batch_doublings", "bfloat16_steps")
    override(cfg, tuple(o for o in options if o.split("=")[0].split(".")[-1] in work))
    out = [0.0]
    for s in range(steps):
        b = batch_size_at(cfg.train, s)
        share = 1.0 if b is None or b >= pixels else b / pixels
        out.append(out[-1] + share * (BF16_COST if s < cfg.train.bfloat16_steps else 1.0))
    return out


def crossing(recs: list[dict], key: str, target: float) -> float | None:
    """``key`` where the PSNR first reaches ``target``, linear between evaluations."""
    for before, r in zip([None, *recs], recs, strict=False):
        if r["psnr"] >= target:
            if before is None:
                return r[key]
            f = (target - before["psnr"]) / (r["psnr"] - before["psnr"])
            return before[key] + f * (r[key] - before[key])
    return None


def render_fits(
    paths: list[Path], images: list[str] | None = None, labels: list[str] | None = None
) -> str:
    """Markdown: per run of ``image_fit --sides sirenkit --set ...``, FBE to 30/35/40 dB and the
    final PSNR, grouped by image (only ``images``' when given: a benchmark's records hold
    every photograph), each run named by its options or by its entry in ``labels``; a later
    file's run of an image under the same name replaces an earlier one."""
    rows = []
    for i, path in enumerate(paths):
        data = json.loads(path.read_text())
        # every option but the stopping rule's (off in these runs, to see the whole curve)
        options = [o for o in data["args"]["set"] or [] if not o.startswith("min_gain=")]
        for key, sides in data["results"].items():
            name, size = key.rsplit("@", 1)
            if images is not None and name not in images:
                continue
            h, w, _ = load_image(name, int(size)).shape
            recs = sides["sirenkit"]["records"]
            work = work_by_step(options, h * w, recs[-1]["step"])
            recs = [r | {"fbe": work[r["step"]]} for r in recs]
            label = labels[i] if labels else " ".join(options) or "the default"
            # a later file's run of the same image and label replaces an earlier one (a rerun)
            rows = [r for r in rows if r[:2] != (name, label)] + [(name, label, recs)]
    lines = [
        f"| image | {'run' if labels else 'options (`--set`)'} | FBE to 30 dB | 35 dB | "
        "40 dB (step) | final PSNR (FBE) |",
        "|---|---|---|---|---|---|",
    ]
    fmt = lambda x: "-" if x is None else f"{x:.1f}"  # noqa: E731
    order = {label: i for i, label in enumerate(labels or [])}
    for name, opts, recs in sorted(
        rows, key=lambda r: (r[0], r[1] != "the default", order.get(r[1], 0), r[1])
    ):
        step = crossing(recs, "step", 40.0)
        lines.append(
            f"| {name} | {opts} | {fmt(crossing(recs, 'fbe', 30.0))} | "
            f"{fmt(crossing(recs, 'fbe', 35.0))} | {fmt(crossing(recs, 'fbe', 40.0))} "
            f"({'-' if step is None else round(step)}) | "
            f"{recs[-1]['psnr']:.2f} ({recs[-1]['fbe']:.1f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", default="camera")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--jsonl", type=Path, default=None, help="append each variant's records")
    ap.add_argument("--render", type=Path, default=None, help="tabulate a --jsonl file")
    ap.add_argument("--fits", nargs="+", type=Path, default=None, help="tabulate 256x256 runs")
    ap.add_argument("--images", nargs="+", default=None, help="--fits: only these photographs")
    ap.add_argument("--key", default="image-recipes-256", help="--fits: the doc block written")
    ap.add_argument("--labels", nargs="+", default=None, help="--fits: one name per file")
    ap.add_argument("--write-docs", action="store_true", help="into docs/speed.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.fits:
        if args.labels and len(args.labels) != len(args.fits):
            ap.error("--labels needs one name per --fits file")
        text = render_fits(args.fits, args.images, args.labels)
        print(text)
        if args.write_docs:
            files = " ".join(str(p) for p in args.fits)
            command = f"python -m benchmarks.image_recipes --fits {files}"
            if args.images:
                command += " --images " + " ".join(args.images)
            if args.labels:
                command += " --labels " + " ".join(repr(label) for label in args.labels)
            if args.key != "image-recipes-256":
                command += f" --key {args.key}"
            write_doc_block(ROOT / "docs" / "speed.md", args.key, text, command)
        return
    if args.render is not None:
        rows = [json.loads(line) for line in args.render.read_text().splitlines() if line]
    else:
        image = load_image(args.image, args.size)
        rows = []
        with keep_freed_memory():
            for label in args.variants:
                recs = fit(image, **VARIANTS[label][1])
                row = {"image": args.image, "size": args.size, "label": label, "recs": recs}
                rows.append(row)
                if args.jsonl is not None:
                    with args.jsonl.open("a") as f:
                        f.write(json.dumps(row) + "\n")
    text = render(rows)
    print(text)
    if args.write_docs:
        source = args.render or f"--image {args.image} --size {args.size}"
        command = f"python -m benchmarks.image_recipes --render {source}"
        if args.render is None:
            command = f"python -m benchmarks.image_recipes {source}"
        write_doc_block(ROOT / "docs" / "speed.md", "image-recipes", text, command)


if __name__ == "__main__":
    main()
