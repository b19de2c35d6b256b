import json

import pytest

from sirenkit.cli import main

FAST = [
    "--hidden", "16", "--layers", "3", "--steps", "4", "--batch-size", "64",
    "--no-progress", "--eval-every", "0", "--checkpoint-every", "2",
]  # fmt: skip


@pytest.mark.parametrize(
    ("words", "extra", "folder", "output"),
    [
        (["solve", "helmholtz"], ["--k", "5", "--reference-grid", "21"], "helmholtz-uniform",
         "field.png"),
        (["solve", "wave"], ["--reference-grid", "12", "--frames", "3", "--medium", "disc"],
         "wave-disc", "wave.gif"),
        (["invert", "fwi"], ["--k", "5", "--data-grid", "31", "--eval-grid", "11",
                             "--source-width", "0.1", "--pretrain-steps", "2"],
         "fwi-generated-disc", "velocity.png"),
    ],
)  # fmt: skip
def test_commands_run_and_resume(tmp_path, words, extra, folder, output):
    assert main([*words, "--out", str(tmp_path), *FAST, *extra]) == 0
    run_dir = tmp_path / folder
    assert (run_dir / output).exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 4
    assert main([*words, "--resume", str(run_dir)]) == 0  # finished: reports and rewrites outputs


def test_bad_options_are_one_line_errors(capsys):
    assert main(["solve", "helmholtz", "--reference-grid", "5"]) == 2
    assert "reference-grid" in capsys.readouterr().err
    assert main(["invert", "fwi", "--data", "nowhere.mat"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["solve", "wave", "--window-start", "0"]) == 2
