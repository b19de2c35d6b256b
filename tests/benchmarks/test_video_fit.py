"""benchmarks.video_fit: --write-docs writes the block --block names (no training)."""

from pathlib import Path

import benchmarks.video_fit as video_fit
from benchmarks.common import check_doc_block, doc_blocks

RECORD = Path(video_fit.__file__).parent / "results" / "video_fit_s9.json"


def test_from_json_writes_the_named_block_and_leaves_the_others(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    blocks = ("video-fit", "video-fit-s9")
    (docs / "speed.md").write_text(
        "".join(f"<!-- generated: {k} -->\nold\n<!-- end generated: {k} -->\n" for k in blocks)
    )
    monkeypatch.setattr(video_fit, "ROOT", tmp_path)
    video_fit.main(["--from-json", str(RECORD), "--block", "video-fit-s9", "--write-docs"])
    written = doc_blocks((docs / "speed.md").read_text())
    assert written["video-fit"] == "old\n"
    check_doc_block(written["video-fit-s9"])
    assert "--block video-fit-s9" in written["video-fit-s9"]
    assert "| tuned |" in written["video-fit-s9"]
