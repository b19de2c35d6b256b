"""The replay of the two --target-psnr rules on one recorded run."""

from __future__ import annotations

from benchmarks.target_stop import replay, report


def _rows(estimates: list[float], fitted: list[float]) -> list[dict]:
    """One measurement per step (full batches), the fitted network ``fitted`` after each."""
    return [
        {"step": i + 1, "work": float(i + 1), "measured": i + 1, "estimate": e, "fitted": f}
        for i, (e, f) in enumerate(zip(estimates, fitted, strict=True))
    ]


def test_the_estimate_rule_waits_for_the_estimate_and_the_checked_one_does_not():
    rows = _rows([36.0, 37.5, 38.5, 39.5, 40.2, 40.8], [38.0, 39.6, 40.3, 41.0, 41.5, 42.0])
    stops = replay(rows, 40.0)
    assert stops["estimate"]["step"] == 5  # 40.2 >= 40 and the network agrees
    # first check at 37.5 (3 dB away): 39.6, offset 2.1; next due two measurements later,
    # at 39.5 + 2.1: 41.0 >= 40
    assert stops["checked"]["step"] == 4 and stops["checked"]["checks"] == 2
    text = report({"moon@256": rows}, 40.0)
    assert "| moon@256 | 3 (3.0) | 5 (5.0) | 4 (4.0) | 2 | 1 |" in text


def test_neither_rule_stops_a_run_whose_network_never_reaches_the_target():
    rows = _rows([38.0, 40.5, 41.0], [39.0, 39.5, 39.9])
    assert replay(rows, 40.0) == {"estimate": None, "checked": None}
    assert "| - | - | - | - | - |" in report({"grass@256": rows}, 40.0)
