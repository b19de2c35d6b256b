"""SIREN against the baselines on the cameraman: the paper's Figure 1 comparison, at a budget a
small CPU can afford.

Every network is trained on the 256x256 cameraman with the same budget and seed through
``sirenkit.compare`` (parameter counts matched to the SIREN's), then the comparison table is
printed with the gap between SIREN and the best baseline at each reported step. The paper
reports SIREN about 10 dB above the best baseline at equal steps (full batch, 256 wide).

    python -m benchmarks.compare_image [--steps 200] [--hidden 128] [--batch-size 2048]
        [--models siren,relu,...] [--out DIR] [--json out.json] [--write-docs]

``--write-docs`` (default settings only) writes the PSNR table into README.md's block
``baselines`` with the date, machine and load.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from benchmarks.common import machine, table, write_doc_block, write_json
from sirenkit.compare import CompareImageConfig, compare
from sirenkit.compare.config import ALL_MODELS
from sirenkit.compare.report import rows, value_at_step

README = Path(__file__).resolve().parents[1] / "README.md"


def psnr_table(result, args: argparse.Namespace) -> str:
    """Each network's PSNR at the reported steps, SIREN first, as a Markdown table."""
    steps = list(args.at_steps)
    rows = []
    for r in result.results:
        row = {"network": r.name, "parameters": r.parameters}
        row |= {f"PSNR@{s}": value_at_step(r, "psnr", s) for s in steps}
        rows.append(row)
    intro = (
        f"Cameraman 256x256, {args.layers} layers, SIREN {args.hidden} wide (others "
        f"parameter-matched), {args.batch_size} random pixels per step, Adam {args.lr:g} cosine, "
        f"seed 0; PSNR in dB on the full image.\n\n"
    )
    return intro + table(rows, ["network", "parameters", *(f"PSNR@{s}" for s in steps)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--hidden", type=int, default=128, help="SIREN width (paper: 256)")
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=2048, help="random pixels per step")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--models", default=ALL_MODELS)
    ap.add_argument("--wire-w0", type=float, default=20.0)
    ap.add_argument("--wire-scale", type=float, default=10.0)
    ap.add_argument("--at-steps", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--at-seconds", type=float, nargs="+", default=[60.0, 120.0, 240.0])
    ap.add_argument("--curve-every", type=int, default=50)
    ap.add_argument("--figure", action="store_true", help="also draw fits.png (slow on a CPU)")
    ap.add_argument("--out", type=Path, default=None, help="keep the comparison folder here")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (machine is shared)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--write-docs", action="store_true", help="update README.md's baselines table")
    args = ap.parse_args()
    if args.write_docs and any(
        getattr(args, k) != ap.get_default(k) for k in ("steps", "hidden", "layers", "batch_size")
    ):
        raise SystemExit("--write-docs writes the documented settings only: drop the others")
    torch.set_num_threads(args.threads)
    cfg = CompareImageConfig(
        source="camera",
        size=256,
        models=args.models,
        at_steps=tuple(args.at_steps),
        at_seconds=tuple(args.at_seconds),
        curve_every=args.curve_every,
        figure=args.figure,
    )
    cfg.model.hidden = args.hidden
    cfg.model.layers = args.layers
    cfg.model.wire_w0, cfg.model.wire_scale = args.wire_w0, args.wire_scale
    cfg.train.steps = args.steps
    cfg.train.batch_size = args.batch_size
    cfg.train.lr = args.lr
    cfg.train.checkpoint_every = 0
    cfg.train.progress = False
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        cfg.out = args.out or Path(tmp)
        result = compare(cfg)
        print(result.files["table"].read_text())
        if args.out:
            print(f"comparison folder: {result.root}")
    by_name = {r.name: r for r in result.results}
    gaps = {}
    if "siren" in by_name and len(by_name) > 1:
        for s in args.at_steps:
            siren = value_at_step(by_name["siren"], "psnr", s)
            others = {n: value_at_step(r, "psnr", s) for n, r in by_name.items() if n != "siren"}
            others = {n: v for n, v in others.items() if v is not None}
            if siren is not None and others:
                best = max(others, key=others.get)
                gaps[s] = {"best_baseline": best, "gap_db": siren - others[best]}
                print(
                    f"step {s}: SIREN {siren:.2f} dB, best baseline {best} "
                    f"{others[best]:.2f} dB, gap {siren - others[best]:+.2f} dB"
                )
    if args.write_docs:
        write_doc_block(
            README,
            "baselines",
            psnr_table(result, args),
            "python -m benchmarks.compare_image --write-docs",
        )
    write_json(
        args.json,
        {
            "machine": machine(),
            "settings": vars(args) | {"out": str(args.out), "json": str(args.json)},
            "table": rows(result, cfg.at_steps, cfg.at_seconds),
            "gaps": gaps,
        },
    )


if __name__ == "__main__":
    main()
