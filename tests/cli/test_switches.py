"""Boolean options are switches (``--force``, ``--no-progress``); the older spelling
``--force True`` still parses, with a note."""

import pytest

from sirenkit.cli import main
from sirenkit.cli.main import _bool_flags, _switches
from sirenkit.compress.cli import DecompressConfig
from sirenkit.tasks.image import FitImageConfig


def test_bool_options_are_switches(capsys):
    with pytest.raises(SystemExit) as e:
        main(["decompress", "--help"])
    assert e.value.code == 0
    assert "--force, --no-force" in capsys.readouterr().out
    assert _bool_flags(DecompressConfig) == {"force"}
    assert {"progress", "param-match"} <= _bool_flags(FitImageConfig)  # nested options too


def test_the_older_spelling_still_parses(capsys):
    flags = {"force", "progress", "param-match"}
    old = ["in.sirenz", "--force", "True", "--progress=False", "--steps", "3", "--param_match"]
    assert _switches([*old, "False"], flags) == [
        "in.sirenz",
        "--force",
        "--no-progress",
        "--steps",
        "3",
        "--no-param-match",
    ]
    assert "--no-progress" in capsys.readouterr().err
    assert _switches(["--out", "True", "--force"], flags) == ["--out", "True", "--force"]


def test_a_switch_overwrites_where_its_absence_refuses(tmp_path, capsys):
    """``compress`` never overwrites an output unless ``--force`` is given."""
    out = tmp_path / "out.sirenz"
    out.write_bytes(b"kept")
    args = ["compress", "camera", "--bpp", "8", "--size", "24", "--steps", "1", "--qat-steps", "1"]
    args += ["--out", str(out)]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == b"kept"
    assert main([*args, "--force"]) == 0
    assert out.read_bytes() != b"kept"
