"""``sirenkit --help`` and the flags of light commands answer without importing torch (about
two CPU seconds), while ``import sirenkit as sk; sk.Siren`` keeps working."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

PROBE = """
import contextlib, io, sys
from sirenkit.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        status = main(sys.argv[1:])
    except SystemExit as e:  # tyro's --help
        status = e.code
print(status, "torch" in sys.modules)
"""


def _run(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("args", ["--help", "fit --help", "models --help", "render --help"])
def test_help_does_not_import_torch(args):
    assert _run(PROBE, *args.split()) == "0 False"


def test_public_names_import_on_first_use():
    code = (
        "import sys, sirenkit as sk; before = 'torch' in sys.modules; "
        "net = sk.Siren(2, 8, 1, 1, w0=3.0); from sirenkit import domains, render; "
        "print(before, type(net).__name__, callable(render), hasattr(domains, 'Box'))"
    )
    assert _run(code) == "False Siren True True"
