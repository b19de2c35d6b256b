"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

_BESIDE = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED = _BESIDE if _BESIDE.is_dir() else Path("/work/shared/data")
"""Real data: ``<repo>/../shared/data``, else ``/work/shared/data`` (git worktrees)."""


def machine() -> str:
    """One line naming the hardware and software the figures come from. The CPU's vector
    instructions are named too: whether it multiplies bfloat16 natively decides the image
    recipe's precision (``training/precision.py``), and two CPUs of one name can differ."""
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())  # the first CPU's
    except OSError:
        pass
    cpu = info.get("model name") or platform.processor() or platform.machine()
    flags = set(info.get("flags", "").split())
    extras = [torch.backends.cpu.get_cpu_capability()]
    if flags:
        native = flags & {"avx512_bf16", "amx_bf16"}
        extras.append("bfloat16 instructions" if native else "no bfloat16 instructions")
    dev = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu} ({', '.join(extras)}), {torch.get_num_threads()} threads, {dev}, "
        f"torch {torch.__version__}"
    )


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of ``rows`` (dicts) over ``columns``."""

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def ordinal(n: int) -> str:
    """'1st', '2nd', '3rd', '4th', '11th', '23rd': a frame step in a table's words."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")


def load() -> str:
    """The machine's load averages (1, 5, 15 min) and core count, for a figure's caption."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f} on {os.cpu_count()} cores"


def caption(command: str) -> str:
    """Where a generated figure comes from: the command, the date, the machine and the load."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Written by `{command}` on {now}; {machine()}; {load()}."


def _markers(key: str) -> tuple[str, str]:
    return f"<!-- generated: {key} -->", f"<!-- end generated: {key} -->"


def write_doc_block(doc: Path, key: str, body: str, command: str) -> None:
    """Replace the block ``key`` of ``doc`` (between its markers) with ``body`` and a caption.

    README and docs/ figures are written only this way, so none is copied by hand; the
    markers must already be in ``doc`` (a missing block is an error, not a silent append).
    """
    start, end = _markers(key)
    text = doc.read_text()
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{doc}: no generated block {key!r} (add the markers {start} ... {end})")
    block = f"{start}\n{body.rstrip()}\n\n{caption(command)}\n{end}"
    doc.write_text(pattern.sub(lambda _: block, text, count=1))


def doc_blocks(text: str) -> dict[str, str]:
    """Every generated block of a document, by key (for the test that they still parse)."""
    found = re.findall(r"<!-- generated: (\S+) -->\n(.*?)<!-- end generated: \1 -->", text, re.S)
    return dict(found)


CAPTION = re.compile(
    r"^Written by `.+` on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC; .+; "
    r"load \d+\.\d+/\d+\.\d+/\d+\.\d+ on \d+ cores\.$",
    re.M,
)
"""The caption :func:`write_doc_block` appends: command, date, machine and load."""


def table_cells(line: str) -> list[str]:
    """The cells of one Markdown table row (escaped ``\\|`` stays inside its cell)."""
    inner = line.strip()
    if not (inner.startswith("|") and inner.endswith("|")) or inner.endswith("\\|"):
        raise ValueError(f"not a table row: {line!r}")
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner[1:-1])]


def pending(body: str) -> bool:
    """A block whose figures were never written: empty, or one parenthesised line such as
    ``(not generated yet: run ...)``, the state of markers placed before the first run."""
    text = body.strip()
    return not text or re.fullmatch(r"\([^\n]*\)", text) is not None


def check_doc_block(body: str) -> None:
    """Raise ValueError unless ``body`` (a generated block) holds at least one Markdown table,
    each with a separator and rows of the header's column count, and a caption with the
    date, machine and load (text between tables is allowed)."""
    lines = body.strip().splitlines()
    tables: list[list[str]] = []
    previous = False
    for line in lines:
        row = line.lstrip().startswith("|")
        if row and not previous:
            tables.append([])
        if row:
            tables[-1].append(line)
        previous = row
    if not tables:
        raise ValueError("no Markdown table")
    for rows in tables:
        if len(rows) < 3:
            raise ValueError(f"a table needs a header, a separator and a row: {rows[0]!r}")
        header, separator, *body_rows = rows
        width = len(table_cells(header))
        if not all(re.fullmatch(r":?-+:?", c) for c in table_cells(separator)):
            raise ValueError(f"second table line is not a separator: {separator!r}")
        for line in [separator, *body_rows]:
            if len(table_cells(line)) != width:
                raise ValueError(f"{len(table_cells(line))} cells, header has {width}: {line!r}")
    if not CAPTION.search(body):
        raise ValueError("no caption line with the command, date, machine and load")
    for line in CAPTION.findall(body):
        if line.count("`") % 2:
            raise ValueError(f"a caption's quoted commands do not close: {line[:80]!r}...")
