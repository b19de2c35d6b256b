"""The benchmark suite: one table of figures, each next to its reference measured in the same run.

    python -m benchmarks [--quick] [--json PATH] [--only MODULE ...] [--write-docs]

Each module in :data:`MODULES` exposes ``cases(quick: bool) -> list[dict]`` with the keys
``case``, ``value``, ``reference``, ``ratio``, ``unit`` and ``note``; a module that is not there
(an issue still in progress) is skipped with a line saying so. ``--quick`` keeps the whole
suite under about three minutes on a 2-core CPU. ``--write-docs`` writes the table into
README.md's block ``quick-suite`` (whole suite only, so the table is never a mix of runs).
"""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

from benchmarks.common import machine, table, write_doc_block, write_json

MODULES = ("benchmarks.hardware", "benchmarks.image_fit", "benchmarks.derivatives")
COLUMNS = ("case", "value", "reference", "ratio", "unit", "note")
README = Path(__file__).resolve().parents[1] / "README.md"


def collect(modules: tuple[str, ...], quick: bool) -> tuple[list[dict], list[str]]:
    """Run every module's ``cases``; returns the rows and a line per skipped module."""
    rows, skipped = [], []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                skipped.append(f"{name}: not present")
                continue
            raise
        if not hasattr(module, "cases"):
            skipped.append(f"{name}: no cases()")
            continue
        t0 = time.perf_counter()
        for row in module.cases(quick):
            rows.append({"module": name.rsplit(".", 1)[-1], **{k: row.get(k) for k in COLUMNS}})
        print(f"[{name}: {time.perf_counter() - t0:.0f} s]", flush=True)
    return rows, skipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short budgets (< 3 minutes)")
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    ap.add_argument("--only", nargs="*", default=None, help="module names (e.g. image_fit)")
    ap.add_argument("--write-docs", action="store_true", help="update README.md's suite table")
    args = ap.parse_args()
    if args.write_docs and args.only:
        raise SystemExit("--write-docs writes the whole suite's table: drop --only")
    modules = MODULES
    if args.only:
        modules = tuple(m if "." in m else f"benchmarks.{m}" for m in args.only)
    t0 = time.perf_counter()
    rows, skipped = collect(modules, args.quick)
    print(f"machine: {machine()}")
    print(table(rows, COLUMNS))
    for line in skipped:
        print(f"skipped {line}")
    total = time.perf_counter() - t0
    print(f"suite time: {total:.0f} s ({'quick' if args.quick else 'full'})")
    if args.write_docs:
        body = table(rows, ("module", *COLUMNS))
        body += f"\n\nSuite wall time {total:.0f} s."
        body += "".join(f" Skipped {line}." for line in skipped)
        command = "python -m benchmarks" + (" --quick" if args.quick else "") + " --write-docs"
        write_doc_block(README, "quick-suite", body, command)
    write_json(
        args.json,
        {
            "machine": machine(),
            "quick": args.quick,
            "seconds": total,
            "cases": rows,
            "skipped": skipped,
        },
    )


if __name__ == "__main__":
    main()
