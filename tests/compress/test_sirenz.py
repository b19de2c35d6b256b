"""The .sirenz format, quantisation and the compress/decompress commands."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from sirenkit.cli import main
from sirenkit.compress.coin import (
    CoinSettings,
    compress_image,
    decode_weights,
    decompress,
    siren_parameters,
)
from sirenkit.compress.format import Header, TensorCode, header_bytes, pack, unpack
from sirenkit.compress.quantize import dequantize, quant_step, quantize
from sirenkit.errors import SirenkitError
from sirenkit.render import render

pytest.importorskip("constriction")

FAST = CoinSettings(steps=30, qat_steps=5)


@pytest.fixture(scope="module")
def packed() -> tuple[bytes, np.ndarray]:
    y, x = np.mgrid[0:16, 0:16] / 15.0
    img = np.stack([np.sin(3 * x), np.cos(2 * y), x * y - 0.5], -1).astype(np.float32)
    torch.set_num_threads(1)
    return compress_image(img, 8.0, CoinSettings(steps=300, qat_steps=20)).data, img


def test_header_round_trip():
    codes = tuple(TensorCode(2.0 ** -(i + 1), i - 1.5, 2.0 + i) for i in range(6))
    header = Header(300, 17, 3, 12, 3, 30.0, 25.0, 7, codes)
    data = pack(header, b"\x01\x02\x03\x04")
    assert len(data) == header_bytes(3) + 4
    back, payload = unpack(data)
    assert back == header and payload == b"\x01\x02\x03\x04"


def test_quantisation_error_is_at_most_half_a_step():
    w = torch.randn(50, 40) * 0.3
    for bits in (4, 8, 12):
        step = quant_step(w, bits)
        q = quantize(w, step, bits)
        assert int(q.abs().max()) == 2 ** (bits - 1) - 1  # the range is used to its end
        assert float((dequantize(q, step) - w).abs().max()) <= step / 2 + 1e-7


def test_file_decodes_at_its_own_size_and_any_other(packed):
    data, img = packed
    header, payload = unpack(data)
    assert (header.height, header.width, header.channels) == img.shape
    model = decode_weights(header, payload)
    own = decompress(data)
    assert own.shape == img.shape
    np.testing.assert_allclose(own, render(model, (16, 16)).clamp(-1, 1).numpy())
    assert decompress(data, (33, 7)).shape == (33, 7, 3)
    assert np.mean((own - img) ** 2) < np.mean(img**2) / 4  # it is the image, not noise


def test_bpp_is_the_file_size_and_within_budget():
    img = np.zeros((16, 20, 1), np.float32) + np.linspace(-1, 1, 20)[None, :, None]
    out = compress_image(img, 6.0, FAST)
    assert out.bpp == 8 * len(out.data) / (16 * 20) <= 6.0
    h = out.header
    assert siren_parameters(h.hidden, h.layers, 1) == sum(
        p.numel() for p in decode_weights(*unpack(out.data)).parameters()
    )


def test_too_small_a_budget_is_an_error():
    with pytest.raises(SirenkitError, match="too low"):
        compress_image(np.zeros((8, 8, 3), np.float32), 0.5, FAST)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[:-7], "truncated"),
        (lambda d: d[:20], "truncated"),
        (lambda d: d[:-12] + bytes([d[-12] ^ 0x10]) + d[-11:], "checksum"),
        (lambda d: b"PNG" + d[3:], "not a .sirenz"),
        (lambda d: d + b"\x00", "after the end"),
    ],
)
def test_damaged_files_are_one_line_errors(packed, damage, message):
    with pytest.raises(SirenkitError, match=message) as e:
        decompress(damage(packed[0]))
    assert "\n" not in str(e.value)


def test_cli_round_trip_and_no_overwrite(tmp_path, capsys, packed):
    src = tmp_path / "pattern.png"
    Image.fromarray(((packed[1] + 1) * 127.5).round().astype(np.uint8)).save(src)
    out = tmp_path / "p.sirenz"
    args = ["compress", str(src), "--bpp", "8", "--steps", "20", "--qat-steps", "2"]
    assert main([*args, "--out", str(out)]) == 0
    assert f"{8 * out.stat().st_size / 256:.4f} bpp" in capsys.readouterr().out
    png = tmp_path / "back.png"
    assert main(["decompress", str(out), "--out", str(png), "--size", "30", "20"]) == 0
    assert Image.open(png).size == (20, 30)
    before = png.read_bytes()
    assert main(["decompress", str(out), "--out", str(png)]) == 2  # exists: refused
    assert "--force" in capsys.readouterr().err
    cut = tmp_path / "cut.sirenz"
    cut.write_bytes(out.read_bytes()[:-9])
    assert main(["decompress", str(cut), "--out", str(png), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert "truncated" in err and len(err.splitlines()) == 1
    assert png.read_bytes() == before  # nothing overwritten by a failed decode
    assert main(["decompress", str(out), "--out", str(png), "--force"]) == 0
    assert Image.open(png).size == (16, 16)
