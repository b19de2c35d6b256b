import json
from pathlib import Path

from benchmarks.common import machine
from benchmarks.image_fit import _run_line, cost_report, goal_table, merged_sides, tables

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def _results(name: str) -> dict:
    data = json.loads((RESULTS / name).read_text())["results"]
    return {(k.rsplit("@", 1)[0], int(k.rsplit("@", 1)[1])): v for k, v in data.items()}


def test_a_table_of_sirenkit_alone_has_no_goal_table_and_one_with_a_reference_has_it():
    alone = _results("image_fit_512_camera_steps600_s10.json")
    assert goal_table(alone) == "" and "sooner" not in tables(alone, 300.0)
    both = _results("image_fit_512_scaled_moon_s9.json")
    lines = goal_table(both).splitlines()
    assert lines[0].startswith("| size | images | vs |") and lines[2].startswith("| 512 | ")
    assert "sooner" in tables(both, 300.0)


def test_the_512_cost_estimate_is_read_from_the_512_records_time_to_40_db():
    """The bound of a 512x512 benchmark comes from sirenkit's CPU seconds to 40 dB at 512x512,
    never from its whole runs at 256x256."""
    data = {}
    for name in ("image_fit_256_s12a.json", "image_fit_512_moon_steps600_tuned_s12.json"):
        data.update(json.loads((RESULTS / name).read_text())["results"])
    costs = {"tuned": 1.0, "authors": 1.0, "sirenkit": 1.0}
    moon = data["moon@512"]["sirenkit"]["cpu@40"]
    rows = [r for r in cost_report(costs, 256, data).splitlines() if r.startswith("| 512x512")]
    assert rows == [
        "| 512x512 bounded benchmark (`--tuned-ratio 3`), all 16 photographs "
        f"| 16 x (1 + 3) x {moon:.0f} s (sirenkit's median CPU s to 40 dB, 1 measured at "
        f"512x512) | {64 * moon / 3600:.2f} | 1 |"
    ]
    assert not [r for r in cost_report(costs, 256, {}).splitlines() if "512x512 bounded" in r]


def test_the_cost_table_counts_the_photographs_each_run_was_done_for():
    """A run the records hold is never called "not done": each row counts the photographs
    whose records have that side (the authors' at 256x256, the tuned one at 512x512, and the
    tuned side's own 500 steps there)."""
    data = merged_sides(
        [RESULTS / "image_fit_256_s12a.json", RESULTS / "image_fit_256_authors_moon_brick_s12.json"]
    )
    tuned = json.loads((RESULTS / "image_fit_512_moon_steps600_tuned_s12.json").read_text())
    data.update(tuned["results"])
    data["long@512"] = {"sirenkit": {}, "tuned": {"steps": 500}}  # a tuned side that ran out
    costs = {"tuned": 1.0, "authors": 1.0, "sirenkit": 1.0}
    rows = {r.split(" | ")[0]: r for r in cost_report(costs, 256, data).splitlines()}
    assert rows[
        "| authors' side to 30x sirenkit's CPU s to 40 dB, per 256x256 photograph"
    ].endswith("| 2 |")
    assert rows["| 512x512 bounded benchmark (`--tuned-ratio 3`), all 16 photographs"].endswith(
        "| 2 |"
    )
    assert rows["| the tuned baseline's own 500 steps at 512x512, per photograph"].endswith("| 1 |")


def test_a_caption_names_the_machine_of_a_run_made_on_another():
    """Sessions 1-18 ran on an EPYC with AVX512-BF16, session 19 on one without (where the
    recipe trains in float32): a table written on one from the other's records says so."""
    run = {"command": "python -m benchmarks.image_fit --images moon", "load": "load 1.00"}
    here = {**run, "machine": machine()}
    assert _run_line(here) == f"{run['command']} (load 1.00)"
    there = {**run, "machine": "AMD EPYC, 1 threads, no GPU, torch 2.13.0+cpu"}
    assert "(on AMD EPYC, 1 threads, no GPU, torch 2.13.0+cpu; load 1.00)" in _run_line(there)
