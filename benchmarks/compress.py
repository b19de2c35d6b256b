"""Rate-distortion of `sirenkit compress` (COIN: a quantised, ANS-coded SIREN) against JPEG and
WebP (Pillow) at matched bits per pixel, on scikit-image's colour built-ins.

Each image is centre-cropped to a square and resized to ``--size`` (256 by default; bilinear,
as sirenkit's loader). For every target rate sirenkit writes a ``.sirenz`` of at most that many
bits per pixel; JPEG (4:2:0, optimised Huffman tables) and WebP (method 6) are then searched
over their quality settings for the largest file not above sirenkit's actual size (when even
their lowest quality is larger, that lowest quality is reported, flagged). Rates are measured
from the files' byte counts; PSNR and SSIM against the resized original; encode and decode
times are CPU seconds of this process (one torch thread). The whole JPEG and WebP curves and
sirenkit's points go into one figure, ``rd.png``, in the run folder.

    python -m benchmarks.compress [--size 256] [--rates 0.2,0.3,0.5] [--steps 1500] [--write-docs]
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import load, machine, table, write_doc_block, write_json
from sirenkit.compress.coin import CoinSettings, compress_image, decode_weights, decompress
from sirenkit.compress.format import unpack
from sirenkit.metrics import psnr, ssim
from sirenkit.signals.datasets import centre_crop
from sirenkit.signals.image import load_image, resize
from sirenkit.training.rundir import new_run_dir

IMAGES = ("astronaut", "coffee", "chelsea", "rocket")
DOC = Path(__file__).resolve().parents[1] / "docs" / "compress.md"


def test_image(name: str, size: int) -> np.ndarray:
    """A built-in, centre-cropped to a square and resized to ``size``, in [-1, 1]."""
    unit = (load_image(name) + 1) / 2
    return resize(centre_crop(unit), (size, size)) * 2 - 1


def pillow_codec(image: np.ndarray, fmt: str, quality: int) -> tuple[int, np.ndarray, float, float]:
    """Bytes, decoded [-1, 1] image and encode/decode CPU seconds of one Pillow encoding."""
    from PIL import Image

    pixels = np.round((image + 1) * 127.5).clip(0, 255).astype(np.uint8)
    options = {"optimize": True} if fmt == "JPEG" else {"method": 6}
    t0 = time.process_time()
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, quality=quality, **options)
    t1 = time.process_time()
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    t2 = time.process_time()
    return buf.tell(), decoded.astype(np.float32) / 127.5 - 1, t1 - t0, t2 - t1


def pillow_curve(image: np.ndarray, fmt: str) -> list[dict]:
    """Every quality of ``fmt`` (1-95 for JPEG, 0-100 for WebP): rate and quality."""
    h, w, _ = image.shape
    qualities = range(1, 96) if fmt == "JPEG" else range(0, 101)
    rows = []
    for q in qualities:
        n, dec, enc_s, dec_s = pillow_codec(image, fmt, q)
        rows.append(
            {
                "quality": q,
                "bpp": 8 * n / (h * w),
                "psnr": psnr(dec, image),
                "ssim": ssim(dec, image),
                "encode_s": enc_s,
                "decode_s": dec_s,
            }
        )
    return rows


def matched(curve: list[dict], bpp: float) -> dict:
    """The point of a curve with the largest rate not above ``bpp`` (else its lowest rate)."""
    below = [r for r in curve if r["bpp"] <= bpp]
    if below:
        return {**max(below, key=lambda r: (r["bpp"], r["psnr"])), "above": False}
    return {**min(curve, key=lambda r: r["bpp"]), "above": True}


def coder_sizes(data: bytes) -> dict[str, int]:
    """Payload bytes of one file's quantised weights under other coders: fixed-length
    ``bits``-bit integers, and those integers (as int8/int16) through lzma and zlib."""
    import lzma
    import zlib

    header, payload = unpack(data)
    model = decode_weights(header, payload)
    ints = [
        torch.round(w / code.step).to(torch.int16 if header.bits > 8 else torch.int8)
        for w, code in zip(model.state_dict().values(), header.tensors, strict=True)
    ]
    raw = b"".join(q.numpy().tobytes() for q in ints)
    n = sum(q.numel() for q in ints)
    return {
        "ans": len(payload),
        "fixed": (n * header.bits + 7) // 8,
        "lzma": len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME)),
        "zlib": len(zlib.compress(raw, 9)),
    }


def sirenkit_point(image: np.ndarray, bpp: float, settings: CoinSettings) -> dict:
    out = compress_image(image, bpp, settings)
    t0 = time.process_time()
    decoded = decompress(out.data)
    dec_s = time.process_time() - t0
    h = out.header
    return {
        "coders": coder_sizes(out.data),
        "bpp": out.bpp,
        "psnr": out.psnr,
        "ssim": ssim(decoded, image),
        "encode_s": out.seconds,
        "decode_s": dec_s,
        "config": f"{h.layers}x{h.hidden}, {h.bits} bit",
    }


def plot(path: Path, results: dict[str, dict]) -> None:
    from sirenkit.viz.figures import pyplot

    plt = pyplot()
    names = list(results)
    fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names), 6.4), squeeze=False)
    for col, name in enumerate(names):
        r = results[name]
        for row, metric in enumerate(("psnr", "ssim")):
            ax = axes[row][col]
            for fmt, style in (("JPEG", "C1-"), ("WebP", "C2-")):
                pts = sorted(r["curves"][fmt], key=lambda p: p["bpp"])
                ax.plot([p["bpp"] for p in pts], [p[metric] for p in pts], style, label=fmt)
            pts = r["sirenkit"]
            ax.plot([p["bpp"] for p in pts], [p[metric] for p in pts], "C0o-", label="sirenkit")
            top = 1.3 * max(p["bpp"] for p in pts)
            ax.set_xlim(0, top)
            inside = [
                p[metric] for fmt in ("JPEG", "WebP") for p in r["curves"][fmt] if p["bpp"] <= top
            ] + [p[metric] for p in pts]
            ax.set_ylim(min(inside) - 0.5 * (metric == "psnr"), max(inside) * 1.02)
            ax.set_xlabel("bits per pixel")
            ax.set_ylabel("PSNR (dB)" if metric == "psnr" else "SSIM")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            if row == col == 0:
                ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default=",".join(IMAGES))
    ap.add_argument("--size", type=int, default=256, help="side of the square test images")
    ap.add_argument("--rates", default="0.2,0.3,0.5", help="sirenkit's target bits per pixel")
    ap.add_argument("--steps", type=int, default=1500, help="Adam steps of each fit")
    ap.add_argument("--qat-steps", type=int, default=200, help="quantisation-aware steps")
    ap.add_argument("--bits", type=int, default=10)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("runs/benchmarks"))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--write-docs", action="store_true", help=f"write the table into {DOC}")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rates = [float(r) for r in args.rates.split(",")]
    settings = CoinSettings(
        layers=args.layers, bits=args.bits, steps=args.steps, qat_steps=args.qat_steps
    )
    run_dir = new_run_dir(args.out, "compress")
    loads = [load()]
    results: dict[str, dict] = {}
    rows = []
    for name in args.images.split(","):
        image = test_image(name, args.size)
        curves = {"JPEG": pillow_curve(image, "JPEG"), "WebP": pillow_curve(image, "WEBP")}
        points = []
        for rate in rates:
            p = sirenkit_point(image, rate, settings)
            points.append(p)
            rows.append({"image": name, "target": rate, "codec": "sirenkit", **p})
            for fmt, curve in curves.items():
                m = matched(curve, p["bpp"])
                flag = " (lowest quality, above)" if m["above"] else ""
                rows.append(
                    {
                        "image": name,
                        "target": rate,
                        "codec": fmt,
                        **m,
                        "config": f"q{m['quality']}{flag}",
                    }
                )
            print(json.dumps(rows[-3:]), flush=True)
        results[name] = {"curves": curves, "sirenkit": points}
    loads.append(load())
    plot(run_dir / "rd.png", results)
    summary = []
    for rate in rates:
        row = {"target bpp": rate}
        for codec in ("sirenkit", "JPEG", "WebP"):
            sel = [r for r in rows if r["target"] == rate and r["codec"] == codec]
            row[f"{codec} bpp"] = float(np.mean([r["bpp"] for r in sel]))
            row[f"{codec} PSNR"] = float(np.mean([r["psnr"] for r in sel]))
            row[f"{codec} SSIM"] = float(np.mean([r["ssim"] for r in sel]))
        summary.append(row)
    cols = ["image", "target", "codec", "config", "bpp", "psnr", "ssim", "encode_s", "decode_s"]
    per_image = table(rows, cols)
    mean_cols = ["target bpp"] + [
        f"{c} {m}" for m in ("bpp", "PSNR", "SSIM") for c in ("sirenkit", "JPEG", "WebP")
    ]
    means = table(summary, mean_cols)
    coders = [p["coders"] for r in results.values() for p in r["sirenkit"]]
    coder_row = {k: float(np.mean([c[k] for c in coders])) for k in coders[0]}
    coder_table = table([coder_row], list(coder_row))
    print(means)
    print(coder_table)
    print(per_image)
    payload = {
        "machine": machine(),
        "loads": loads,
        "size": args.size,
        "settings": vars(settings),
        "rows": rows,
        "summary": summary,
        "run_dir": str(run_dir),
    }
    write_json(run_dir / "results.json", payload)
    write_json(args.json, payload)
    print(f"figure: {run_dir / 'rd.png'}")
    if args.write_docs:
        command = "python -m benchmarks.compress --write-docs"
        body = (
            f"Mean over {len(results)} images ({', '.join(results)}; {args.size}x{args.size}), "
            f"SIREN fits of {args.steps} + {args.qat_steps} steps; load at start and end: "
            f"{loads[0]}; {loads[1]}.\n\n{means}\n\nPer image (seconds are CPU seconds):\n\n"
            f"{per_image}"
        )
        write_doc_block(
            DOC,
            "compress-coders",
            "Mean payload bytes of the same quantised weights under each coder, over all "
            f"{len(coders)} files:\n\n{coder_table}",
            command,
        )
        write_doc_block(DOC, "compress-rd", body, command)


if __name__ == "__main__":
    main()
