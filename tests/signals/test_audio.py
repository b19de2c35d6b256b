import numpy as np
import pytest

from sirenkit.errors import SirenkitError

sf = pytest.importorskip("soundfile")

from sirenkit.signals.audio import load_audio, normalize, save_audio, synthetic_audio  # noqa: E402

RATE = 8000


def stereo(n: int = 800) -> np.ndarray:
    t = np.arange(n) / RATE
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.cos(2 * np.pi * 660 * t)], 1)


@pytest.mark.parametrize(
    ("name", "subtype", "tol"),
    [
        ("a.wav", "PCM_16", 2 / 2**15),
        ("a.wav", "PCM_32", 1e-8),
        ("a.wav", "FLOAT", 1e-7),
        ("a.flac", "PCM_16", 2 / 2**15),
    ],
)
def test_lossless_round_trip_keeps_rate_channels_and_scale(tmp_path, name, subtype, tol):
    data = stereo()
    sf.write(tmp_path / name, data, RATE, subtype=subtype)
    clip = load_audio(tmp_path / name)
    assert clip.rate == RATE and clip.samples.shape == (800, 2) and clip.subtype == subtype
    assert clip.samples.dtype == np.float32
    assert np.abs(clip.samples).max() == pytest.approx(1.0)
    assert clip.scale == pytest.approx(0.5, abs=1e-3)  # the loudest channel's peak
    np.testing.assert_allclose(clip.samples * clip.scale, data, atol=tol)
    # written back at file amplitude, in the source's sample type
    out = save_audio(
        tmp_path / ("back" + name[1:]),
        clip.samples,
        clip.rate,
        scale=clip.scale,
        subtype=clip.subtype,
    )
    back, rate = sf.read(out, always_2d=True)
    assert rate == RATE and sf.info(out).subtype == subtype
    np.testing.assert_allclose(back, data, atol=2 * tol)


def test_ogg_is_read_approximately(tmp_path):
    if "OGG" not in sf.available_formats():
        pytest.skip("libsndfile without OGG")
    data = stereo(4000)
    sf.write(tmp_path / "a.ogg", data, RATE)
    clip = load_audio(tmp_path / "a.ogg")
    assert clip.samples.shape == (4000, 2) and clip.rate == RATE
    corr = np.corrcoef(clip.samples[:, 0], data[:, 0])[0, 1]
    assert corr > 0.95


def test_save_clips_instead_of_wrapping_and_defaults_to_float(tmp_path):
    out = save_audio(tmp_path / "x.wav", np.array([0.5, 1.5, -2.0]), RATE)
    assert sf.info(out).subtype == "FLOAT"
    np.testing.assert_allclose(sf.read(out)[0], [0.5, 1.0, -1.0])
    with pytest.raises(SirenkitError, match="cannot write audio"):
        save_audio(tmp_path / "x.xyz", np.zeros(3), RATE)


def test_unreadable_empty_and_zero_length_files_give_clear_errors(tmp_path):
    with pytest.raises(SirenkitError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(SirenkitError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a sound file" * 8)
    with pytest.raises(SirenkitError, match="cannot read audio"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1)), RATE)
    with pytest.raises(SirenkitError, match="zero length"):
        load_audio(tmp_path / "zero.wav")
    with pytest.raises(SirenkitError, match="NaN"):
        normalize(np.array([0.1, np.nan]), RATE)


def test_silence_keeps_unit_scale():
    clip = normalize(np.zeros(10), RATE)
    assert clip.scale == 1.0 and not clip.samples.any()


def test_synthetic_clip_is_deterministic_and_rich():
    a, b = synthetic_audio(4000, 1.0), synthetic_audio(4000, 1.0)
    assert a.samples.shape == (4000, 1) and a.rate == 4000
    np.testing.assert_array_equal(a.samples, b.samples)
    assert np.abs(a.samples).max() == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(a.samples[:, 0]))
    strong = np.sum(spectrum > 0.1 * spectrum.max())
    assert strong > 20  # many notes and harmonics, not one sine
