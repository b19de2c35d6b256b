import json
from pathlib import Path

from benchmarks.image_fit import goal_table, tables

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
