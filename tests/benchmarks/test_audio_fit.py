"""benchmarks.audio_fit: the crop's w0, and one tiny interleaved run (no shared data)."""

import argparse
import json

import numpy as np
import pytest
import torch
from benchmarks.audio_fit import (
    compare,
    crop,
    crop_w0,
    report,
    sides_for,
    variant_table,
    whole_clip_run,
    whole_table,
)
from benchmarks.common import check_doc_block, table_cells, write_doc_block

from sirenkit.signals.audio import synthetic_audio
from sirenkit.signals.grid import grid


def test_crop_w0_gives_the_crop_the_clips_cycles_per_second():
    """A first-layer unit sin(w0 t) on the whole clip and sin(W t) on a crop (each mapped to
    [-1, 1]) must differ only by a constant phase over the crop's samples."""
    n_clip, start, n = 1001, 300, 101
    w = crop_w0(n, n_clip, 3000.0)
    whole = 3000.0 * grid((n_clip,))[start : start + n, 0].double()
    part = w * grid((n,))[:, 0].double()
    assert torch.allclose(whole - part, (whole - part)[:1].expand(n), atol=1e-6)
    assert w == pytest.approx(300.0)


def test_crop_keeps_the_clips_scale_and_rejects_outside():
    clip = synthetic_audio(rate=1000, seconds=1.0)
    part = crop(clip, 0.25, 0.5)
    assert part.samples.shape == (500, 1) and part.scale == clip.scale
    np.testing.assert_array_equal(part.samples, clip.samples[250:750])
    with pytest.raises(SystemExit, match="outside"):
        crop(clip, 0.75, 0.5)


def test_tiny_interleaved_run_reports_every_side(tmp_path):
    clip = crop(synthetic_audio(rate=2000, seconds=0.5), 0.1, 0.1)
    sides = sides_for(argparse.Namespace(sweep=0, sides=["sirenkit", "tuned", "authors"]))
    sides["tuned"]["steps"] = 6
    res = compare(clip, 30.0, sides, 20.0, 1.0, ("train.steps=6", "model.hidden=16"))
    assert [r["step"] for r in res["tuned"]["records"]][-1] == 6
    assert res["sirenkit"]["records"][-1]["step"] == 6
    # the authors' side stops once it has used the tuned side's CPU seconds
    tuned_cpu = res["tuned"]["records"][-1]["cpu"]
    assert tuned_cpu <= res["authors"]["records"][-1]["cpu"] <= 2 * tuned_cpu + 0.5
    assert res["authors"]["stopped"] == "time budget"
    meta = {"c": {"start": 0.1, "seconds": 0.1, "samples": 200, "rate": 2000, "w0": 30.0}}
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- generated: audio-fit -->\n<!-- end generated: audio-fit -->\n")
    write_doc_block(doc, "audio-fit", report({"c": res}, meta), "python -m benchmarks.audio_fit")
    check_doc_block(doc.read_text())


def test_a_whole_clip_run_is_fit_audios_at_the_clis_w0_and_tabulates(tmp_path):
    flags = ("train.steps=10", "train.eval_every=5", "model.hidden=16", "model.layers=3")
    rec = whole_clip_run("synthetic", flags)
    assert rec["w0"] == 3000.0 and [r["step"] for r in rec["evals"]] == [5, 10]
    assert 0 < rec["evals"][0]["cpu"] < rec["evals"][1]["cpu"] <= rec["cpu"]
    assert rec["evals"][1]["snr"] == pytest.approx(rec["final"]["snr"])
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"run": rec}))
    assert "| synthetic (3000) | default | " in whole_table([path], ["default"])


def test_the_variant_table_reads_each_evaluation_at_the_work_it_completes(tmp_path):
    """An evaluation lands on the first step past each mark (steps of 0.2499 crops: 10.2454,
    not 10, as in a real run): MSE@10 crops is that evaluation's, not the one ten crops
    before; after the run's end, none."""
    marks = ((41, 10.2454), (81, 20.2408), (121, 30.2363))
    records = [
        {"step": s, "work": w, "cpu": 0.1 * s, "mse": 10.0**-k} for k, (s, w) in enumerate(marks, 1)
    ]
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"results": {"bach": {"sirenkit": {"records": records}}}}))
    row = variant_table([path], ["default"], (10, 20, 30, 40)).splitlines()[-1]
    assert table_cells(row)[3:7] == ["1.00e-01", "1.00e-02", "1.00e-03", "-"]
