"""Generated figures in README.md and docs/ still parse: a table whose rows match its header,
and a caption with the command, date, machine and load (benchmarks.common.write_doc_block)."""

import re
from pathlib import Path

import pytest
from benchmarks.common import check_doc_block, doc_blocks, pending, table, write_doc_block

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks() -> list[tuple[str, str, str]]:
    return [(d.name, k, b) for d in DOCS for k, b in doc_blocks(d.read_text()).items()]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_block_has_its_end_marker(doc):
    text = doc.read_text()
    opened = re.findall(r"<!-- generated: (\S+) -->", text)
    assert sorted(opened) == sorted(doc_blocks(text)), f"{doc.name}: a block without its end"


@pytest.mark.parametrize(("doc", "key", "body"), _blocks(), ids=lambda x: str(x)[:20])
def test_every_generated_block_parses(doc, key, body):
    if pending(body):
        pytest.skip(f"{doc}: block {key!r} not generated yet")
    try:
        check_doc_block(body)
    except ValueError as e:
        pytest.fail(f"{doc}, block {key!r}: {e}")


def test_readme_suite_and_baselines_tables_are_generated():
    blocks = doc_blocks((ROOT / "README.md").read_text())
    assert not pending(blocks["quick-suite"]) and not pending(blocks["baselines"])


def test_a_written_block_parses_and_broken_ones_do_not(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- generated: t -->\nold\n<!-- end generated: t -->\nend\n")
    write_doc_block(doc, "t", table([{"a": 1.5, "b": "x|y"}], ["a", "b"]), "python -m x")
    (body,) = doc_blocks(doc.read_text()).values()
    check_doc_block(body)
    broken = {
        "row with a missing cell": body.replace("| 1.5 |", "|", 1),
        "no caption": body.split("Written by")[0],
        "no table": body.split("| a")[0] + body.split("|\n\n")[-1],
        "no separator": body.replace("|---|---|", "| c | d |"),
        "a table cut by a line": body.replace("| 1.5 |", "text\n| 1.5 |", 1),
        "a quote left open": body.replace("python -m x`", "python -m x` (load)`"),
    }
    for what, text in broken.items():
        assert not pending(text), what
        with pytest.raises(ValueError):
            check_doc_block(text)
    assert pending("") and pending("(not generated yet: run `python -m x --write-docs`)\n")
