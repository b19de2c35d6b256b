"""The viewer in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skipped when Playwright or a system Chromium is missing; CI installs both (.ci/run).
"""

import base64
import io
import shutil

import numpy as np
import pytest
import torch
from benchmarks.viewer import find_chromium
from PIL import Image

from sirenkit.signals.image import to_uint8
from sirenkit.training.checkpoint import load
from sirenkit.viewer.renders import window_grid

from .conftest import require_run

pytest.importorskip("playwright.sync_api")
if find_chromium() is None:
    pytest.skip("no system chromium (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def chromium():
    from benchmarks.viewer import browser

    with browser() as b:
        yield b


@pytest.fixture()
def page_at(chromium, base_url):
    pages = []

    def open_(path: str):
        from benchmarks.viewer import open_page

        page = open_page(chromium, base_url + path)
        pages.append(page)
        return page

    yield open_
    for p in pages:
        p.close()


def pixels(locator) -> np.ndarray:
    """A screenshot of one element as an RGB array."""
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(float)


def assert_drawn(locator, what: str) -> None:
    """The element shows something: not one flat colour (blank canvas, broken image)."""
    px = pixels(locator)
    assert px.std() > 3.0, f"{what} looks blank (pixel std {px.std():.2f})"


def test_index_lists_sorts_filters_and_refreshes(page_at, runs_dir):
    page = page_at("/")
    rows = page.locator("#runs tbody tr")
    assert rows.count() == len(list(runs_dir.glob("*/config.json")))
    page.fill("#filter", "sdf")
    assert rows.count() == 1 and "sdf-sphere" in rows.first.inner_text()
    page.fill("#filter", "")
    page.select_option("#task", "image")
    assert rows.count() == 2
    assert page.locator("#runs thead th", has_text="psnr").count() == 1  # the task's metrics
    page.select_option("#task", "")
    page.click("th[data-key='steps']")  # descending first
    steps = [int(t) for t in page.locator("#runs tbody tr td:nth-child(8)").all_inner_texts()]
    assert steps == sorted(steps, reverse=True)
    assert_drawn(page.locator("#runs"), "the index table")
    before = rows.count()
    shutil.copytree(runs_dir / "image-camera", runs_dir / "image-new")  # a run appears
    try:
        page.wait_for_function(f"document.querySelectorAll('#runs tbody tr').length > {before}")
        assert page.locator("tr[data-id='image-new']").count() == 1
    finally:
        shutil.rmtree(runs_dir / "image-new")


def test_zoom_shows_the_network_re_rendered_over_the_window(page_at, runs_dir):
    page = page_at("/run?r=image-camera")
    canvas = page.locator("canvas[data-role='render']")
    assert_drawn(canvas, "the re-rendered image")
    assert_drawn(page.locator("canvas[data-role='ground-truth']"), "the ground truth")
    window = [-0.4, 0.2, 0.1, 0.5]
    page.evaluate(f"window.viewerZoom({window})")
    page.wait_for_function(
        "w => document.querySelector(\"canvas[data-role='render']\").dataset.window === w",
        arg=",".join(str(v) for v in window),
    )
    data = page.evaluate(
        "document.querySelector(\"canvas[data-role='render']\").toDataURL('image/png')"
    )
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1]))))[..., 0]
    h, w = shown.shape
    model = load(runs_dir / "image-camera")
    with torch.no_grad():
        direct = to_uint8(model(window_grid(tuple(window), (h, w))).reshape(h, w, -1).numpy())
    assert np.abs(shown.astype(int) - direct.astype(int)).max() <= 1
    assert page.locator("img[alt='derivatives.png']").evaluate("i => i.naturalWidth") > 0


def test_audio_page_has_players_and_waveforms(page_at):
    page = page_at("/run?r=audio-synthetic")
    assert page.locator("audio").count() == 2
    page.wait_for_function("document.querySelectorAll('audio')[1].readyState >= 1")
    waves = page.locator("canvas[data-role='waveform']")
    page.wait_for_timeout(300)
    for i in range(2):
        assert_drawn(waves.nth(i), "a waveform")


def test_video_page_plays_both_videos(page_at):
    page = page_at("/run?r=video-synthetic")
    videos = page.locator("video[data-role='video']")
    assert videos.count() == 2
    page.wait_for_function(
        "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 2)"
    )
    assert_drawn(videos.nth(0), "the ground-truth video")


def test_sdf_page_draws_the_mesh_and_slices(page_at):
    page = page_at("/run?r=sdf-sphere")
    mesh = page.locator("canvas[data-role='mesh']")
    page.wait_for_function("document.querySelector(\"canvas[data-role='mesh']\").dataset.faces")
    before = pixels(mesh)
    assert before.std() > 3.0, "the 3-D view is blank"
    box = mesh.bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + 160, steps=5)
    page.mouse.up()
    assert np.abs(pixels(mesh) - before).mean() > 0.5, "dragging did not rotate the mesh"
    slice_ = page.locator("img[data-role='slice']")
    page.wait_for_function("document.querySelector(\"img[data-role='slice']\").naturalWidth > 0")
    page.locator("input[type='range']").fill("0.5")
    page.wait_for_function(
        "document.querySelector(\"img[data-role='slice']\").src.includes('pos=0.5')"
    )
    page.wait_for_function("document.querySelector(\"img[data-role='slice']\").complete")
    assert_drawn(slice_, "the SDF slice")


@pytest.mark.parametrize("run", ["wave-uniform", "helmholtz-uniform"])
def test_pde_pages_show_network_reference_and_error(page_at, runs_dir, run):
    require_run(runs_dir, run)
    page = page_at(f"/run?r={run}")
    for which in ("network", "reference", "error"):
        img = page.locator(f"img[data-role='field-{which}']")
        page.wait_for_function(
            f"document.querySelector(\"img[data-role='field-{which}']\").naturalWidth > 0"
        )
        assert img.evaluate("i => i.complete && i.naturalWidth") > 0
    assert_drawn(page.locator("img[data-role='field-reference']"), "the reference field")
    if run == "wave-uniform":
        page.locator("input[type='range']").fill("2")
        page.wait_for_function(
            "document.querySelector(\"img[data-role='field-network']\").src.includes('frame=2')"
        )


def test_prior_page_shows_completions_and_curves(page_at):
    page = page_at("/run?r=prior-digits")
    assert page.locator("img[alt='completions.png']").evaluate("i => i.naturalWidth") > 0
    assert_drawn(page.locator("section", has_text="training curves").locator("canvas"), "curves")


def test_comparison_links_the_zoom_of_both_runs(page_at):
    page = page_at("/run?r=image-camera&r=image-camera-copy")
    assert page.locator("section", has_text="metrics").locator("thead th").count() == 3
    page.evaluate("window.viewerZoom([-0.2, 0.2, -0.2, 0.2])")
    page.wait_for_function(
        "Array.from(document.querySelectorAll(\"canvas[data-role='render']\"))"
        ".every(c => c.dataset.window === '-0.2,0.2,-0.2,0.2')"
    )
    a, b = (pixels(page.locator("canvas[data-role='render']").nth(i)) for i in range(2))
    assert a.std() > 3.0 and np.abs(a - b).max() == 0  # a copy renders identically


def test_the_browser_cannot_reach_outside_the_runs_folder(page_at):
    page = page_at("/")
    for path in ("/files/%2e%2e/%2e%2e/etc/passwd", "/files/..%2f..%2fetc%2fpasswd"):
        r = page.request.get(page.url.rstrip("/") + path)
        assert r.status == 404 and "root:" not in r.text()
