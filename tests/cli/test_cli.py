import json

import pytest
from PIL import Image

from sirenkit.cli import main

TINY = [
    "--size",
    "16",
    "--hidden",
    "16",
    "--layers",
    "3",
    "--steps",
    "6",
    "--no-progress",
    "--eval-every",
    "0",
    "--checkpoint-every",
    "0",
]


def test_fit_render_and_help(tmp_path, capsys):
    assert main(["fit", "image", "camera", "--out", str(tmp_path), *TINY]) == 0
    run_dir = tmp_path / "image-camera"
    assert (run_dir / "reconstruction.png").exists()
    closing = capsys.readouterr().out.strip().splitlines()[-1]
    assert "psnr" in closing and str(run_dir) in closing
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["model"]["hidden"] == 16 and cfg["train"]["steps"] == 6
    assert main(["render", str(run_dir), "--size", "40", "30"]) == 0
    assert Image.open(run_dir / "render_40x30.png").size == (30, 40)
    assert main(["render", str(run_dir), "--size", "40", "30"]) == 0
    assert (run_dir / "render_40x30-2.png").exists()  # never overwrites
    assert main(["--help"]) == 0
    assert "fit image" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["fit", "image", "--help"])
    assert e.value.code == 0
    assert "--steps" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert "siren" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fit", "image", "missing.png"], "not found"),
        (["fit", "image", "nosuchbuiltin"], "built-in"),
        (["fit", "image", "--steps", "0"], "--steps must be positive"),
        (["fit", "image", "--hold", "1"], "--hold must be in"),
        (["fit", "image", "--batch-ramp", "-1"], "--batch-ramp"),
        (["fit", "image", "--betas", "0.9", "1"], "--betas must be two numbers"),
        (["fit", "image", "--size", "-3"], "positive"),
        (["fit", "image", "--model", "nope"], "unknown model"),
        (["render", "nowhere"], "checkpoint not found"),
        (["frobnicate"], "unknown command"),
    ],
)
def test_bad_input_gives_one_line_errors(tmp_path, capsys, args, message):
    assert main([*args, "--out", str(tmp_path)] if args[0] == "fit" else args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_corrupt_checkpoint_and_non_image_file(tmp_path, capsys):
    ckpt = tmp_path / "checkpoint.pt"
    ckpt.write_bytes(b"junk")
    assert main(["render", str(ckpt)]) == 2
    assert "corrupt" in capsys.readouterr().err
    txt = tmp_path / "a.png"
    txt.write_text("hello")
    assert main(["fit", "image", str(txt), "--out", str(tmp_path)]) == 2
    assert "cannot read image" in capsys.readouterr().err
