"""The web viewer: tiny runs of every task kind, screenshots of each page kind for
docs/viewer.md, and the issue's goals (index of 200 runs, a 512x512 zoomed re-render, a
1M-face mesh).

    python -m benchmarks.viewer --screenshots docs/img/   # screenshots (headless Chromium)
    python -m benchmarks.viewer --write-docs              # measure the goals into docs/viewer.md
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

FAST = ["--progress", "False", "--checkpoint-every", "0", "--eval-every", "0"]
SMALL = ["--hidden", "16", "--layers", "3", *FAST]
TINY_RUNS: dict[str, list[str]] = {
    "image-camera": ["fit", "image", "--size", "48", "--hidden", "32", "--layers", "3",
                     "--steps", "30", *FAST],
    "audio-synthetic": ["fit", "audio", "--steps", "20", *SMALL],
    "video-synthetic": ["fit", "video", "--steps", "10", *SMALL],
    "sdf-sphere": ["fit", "sdf", "sphere", "--steps", "30", "--samples", "1000", "--resolution",
                   "24", "--eval-resolution", "12", "--eval-points", "500", "--iou-points",
                   "1000", "--batch-size", "512", "--w0", "10", "--lr", "1e-3", *SMALL],
    "helmholtz-uniform": ["solve", "helmholtz", "--steps", "4", "--batch-size", "64", "--k", "5",
                          "--reference-grid", "21", *SMALL],
    "wave-uniform": ["solve", "wave", "--steps", "4", "--batch-size", "64", "--reference-grid",
                     "12", "--frames", "3", *SMALL],
    "prior-digits": ["train", "prior", "--dataset", "digits", "--steps", "4", "--limit", "60",
                     "--eval-images", "4", "--batch-size", "8", "--eval-contexts", "10", "top",
                     *SMALL],
}  # fmt: skip
"""Run folder name -> the sirenkit command making it in a second or two."""


def make_runs(root: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Tiny runs of each task kind under ``root`` (in this process), by folder name."""
    import torch

    from sirenkit.cli import main

    out = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name in names or list(TINY_RUNS):
            args = TINY_RUNS[name]
            if main([*args, "--out", str(root), "--name", name]) != 0:
                raise RuntimeError(f"tiny run failed: {' '.join(args)}")
            out[name] = root / name
    finally:
        torch.set_num_threads(threads)
    return out


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """A viewer on a free port over ``root`` in a thread; yields its base URL."""
    from sirenkit.viewer import make_server

    server = make_server(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def find_chromium() -> str | None:
    """The system Chromium (Debian's package), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless system Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    exe = find_chromium()
    if exe is None:
        raise RuntimeError("no chromium found: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--use-gl=swiftshader"])
        try:
            yield b
        finally:
            b.close()


def open_page(b, url: str, width: int = 1280, height: int = 900):
    """A page at ``url`` once the viewer's script marked it ready and images loaded."""
    page = b.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    page.wait_for_load_state("networkidle")
    return page


PAGES = {
    "index": "/",
    "image": "/run?r=image-camera-b",
    "audio": "/run?r=audio-synthetic",
    "video": "/run?r=video-synthetic",
    "sdf": "/run?r=sdf-sphere",
    "helmholtz": "/run?r=helmholtz-uniform",
    "wave": "/run?r=wave-uniform",
    "prior": "/run?r=prior-digits",
    "compare": "/run?r=image-camera&r=image-camera-b",
}


def screenshots(out: Path, scale: float = 0.5) -> list[Path]:
    """One PNG per page kind (viewport only, downscaled), for docs/viewer.md."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_runs(root)
        from sirenkit.cli import main

        better = ["fit", "image", "--size", "64", "--hidden", "64", "--steps", "300", *FAST]
        main([*better, "--out", str(root), "--name", "image-camera-b"])
        with serving(root) as base, browser() as b:
            for kind, path in PAGES.items():
                page = open_page(b, base + path)
                if kind in ("image", "compare"):
                    page.evaluate("window.viewerZoom([-0.6, -0.1, -0.25, 0.25])")
                    page.wait_for_timeout(400)
                    page.wait_for_load_state("networkidle")
                if kind == "sdf":
                    page.mouse.move(200, 700)
                page.wait_for_timeout(500)
                png = out / f"viewer_{kind}.png"
                page.screenshot(path=str(png), full_page=True)
                page.close()
                im = Image.open(png)
                im = im.crop((0, 0, im.width, min(im.height, 1500)))
                im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
                im.convert("P", palette=Image.ADAPTIVE, colors=128).save(png, optimize=True)
                written.append(png)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--screenshots", type=Path, help="write one PNG per page kind here")
    args = ap.parse_args()
    if args.screenshots:
        for p in screenshots(args.screenshots):
            print(p, f"{p.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
