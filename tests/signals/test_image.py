import numpy as np
import pytest
import tifffile
from PIL import Image

from sirenkit import load_image, save_image
from sirenkit.errors import SirenkitError


def test_builtin_and_resize():
    img = load_image("camera", 32)
    assert img.shape == (32, 32, 1) and img.dtype == np.float32
    assert -1 <= img.min() < img.max() <= 1
    rgb = load_image("astronaut", (20, 10))
    assert rgb.shape == (20, 10, 3)


def test_resize_matches_the_authors_preprocessing():
    """The paper's numbers were measured on Pillow's anti-aliased bilinear resize of the 8-bit
    image (torchvision's Resize); ours must be that image up to 8-bit rounding."""
    import skimage.data

    ours = (load_image("camera", 64)[..., 0] + 1) / 2
    theirs = Image.fromarray(skimage.data.camera()).resize((64, 64), Image.Resampling.BILINEAR)
    assert np.abs(ours - np.asarray(theirs) / 255.0).max() <= 1.0 / 255 + 1e-6


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("ext", ["png", "jpg", "tif"])
def test_8bit_files(tmp_path, mode, ext):
    if ext == "jpg" and mode == "RGBA":
        pytest.skip("JPEG has no alpha")
    rng = np.random.default_rng(0)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    arr = rng.integers(0, 256, (9, 7, channels), dtype=np.uint8)
    path = tmp_path / f"x.{ext}"
    Image.fromarray(arr[..., 0] if channels == 1 else arr, mode).save(path)
    img = load_image(path)
    assert img.shape == (9, 7, channels)
    if ext != "jpg":
        np.testing.assert_allclose((img + 1) / 2 * 255, arr, atol=1e-3)


def test_16bit_files_keep_precision(tmp_path):
    arr = np.linspace(0, 65535, 12 * 5, dtype=np.uint16).reshape(12, 5)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    tifffile.imwrite(tmp_path / "c16.tif", np.stack([arr, arr[::-1], arr], -1))
    g = load_image(tmp_path / "g16.png")
    np.testing.assert_allclose((g[..., 0] + 1) / 2, arr / 65535, atol=1e-6)
    c = load_image(tmp_path / "c16.tif")
    assert c.shape == (12, 5, 3)
    np.testing.assert_allclose((c[..., 1] + 1) / 2, arr[::-1] / 65535, atol=1e-6)


def test_round_trip(tmp_path, tiny_image):
    p = save_image(tmp_path / "r.png", tiny_image)
    back = load_image(p)
    np.testing.assert_allclose(back, tiny_image, atol=1 / 255 + 1e-6)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SirenkitError, match="not found"):
        load_image(tmp_path / "missing.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(SirenkitError, match="cannot read image"):
        load_image(bad)
    with pytest.raises(SirenkitError, match="built-in"):
        load_image("no_such_builtin")
    with pytest.raises(SirenkitError, match="positive"):
        load_image("camera", 0)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(SirenkitError):
        load_image(empty)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_does(tmp_path, orientation):
    """A phone stores its photograph sideways with an EXIF orientation: the fit must see it as
    every viewer shows it (Pillow's exif_transpose), not as stored."""
    from PIL import ImageOps

    arr = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(tmp_path / "o.png", exif=exif)
    with Image.open(tmp_path / "o.png") as saved:
        shown = np.asarray(ImageOps.exif_transpose(saved))
    img = load_image(tmp_path / "o.png")
    assert img.shape == shown.shape
    np.testing.assert_allclose((img + 1) / 2 * 255, shown, atol=1e-3)


def test_cmyk_is_read_as_rgb_and_a_gif_frame_as_an_image(tmp_path):
    arr = np.random.default_rng(1).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    Image.fromarray(arr).convert("CMYK").save(tmp_path / "c.tif")
    with Image.open(tmp_path / "c.tif") as im:
        rgb = np.asarray(im.convert("RGB"))
    c = load_image(tmp_path / "c.tif")
    assert c.shape == (6, 9, 3)  # not four channels taken for RGBA
    np.testing.assert_allclose((c + 1) / 2 * 255, rgb, atol=1e-3)
    Image.fromarray(arr).save(tmp_path / "one.gif")
    assert load_image(tmp_path / "one.gif").shape == (6, 9, 3)
    Image.fromarray(arr).save(
        tmp_path / "two.gif", save_all=True, append_images=[Image.new("RGB", (9, 6))]
    )
    with pytest.raises(SirenkitError, match="holds 2 frames"):
        load_image(tmp_path / "two.gif")
