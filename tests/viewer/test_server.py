"""The viewer's HTTP endpoints: content, confinement to the runs folder, bounded renders."""

import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch
from benchmarks.viewer import TINY_RUNS, serving
from PIL import Image

from sirenkit.cli.render import IMAGE_RENDERER
from sirenkit.signals.image import to_uint8
from sirenkit.training.checkpoint import load
from sirenkit.viewer import renders
from sirenkit.viewer.paths import safe_path
from sirenkit.viewer.renders import ModelCache, decimate, window_grid

from .conftest import require_run


def get(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, bytes, dict]:
    """Status, body and headers of a raw request (the path is sent exactly as given)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    path = url[len(f"{parts.scheme}://{parts.netloc}") :]
    conn.putrequest(method, path, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body, dict(r.getheaders())


def test_index_lists_every_run_with_its_task_and_metrics(base_url, runs_dir):
    require_run(runs_dir, *TINY_RUNS)
    status, body, _ = get(base_url + "/api/runs")
    rows = {r["id"]: r for r in json.loads(body)["runs"]}
    assert status == 200
    expected = {"image", "audio", "video", "sdf", "helmholtz", "wave", "prior"}
    assert {r["task"] for r in rows.values()} == expected
    image = rows["image-camera"]
    assert image["state"] == "done" and image["steps"] == 30 and image["loss"]
    assert image["metrics"]["psnr"] == pytest.approx(
        json.loads((runs_dir / "image-camera" / "summary.json").read_text())["psnr"]
    )
    # what to show comes from each run's config.json (its task's views), not its task's name
    assert image["views"] == ["image"] and rows["sdf-sphere"]["views"] == ["sdf"]
    assert rows["wave-uniform"]["views"] == []


def test_a_runs_views_are_what_it_records_or_for_old_runs_what_its_task_had(tmp_path):
    from sirenkit.viewer.runs import run_record

    for name, views in (("image-a", ["audio"]), ("image-b", None), ("solve-c", None)):
        folder = tmp_path / name
        folder.mkdir()
        config = {"_config": "x:Y"} | ({} if views is None else {"_views": views})
        (folder / "config.json").write_text(json.dumps(config))
        (folder / "metrics.jsonl").write_text("")
    rows = {n: run_record(tmp_path, tmp_path / n) for n in ("image-a", "image-b", "solve-c")}
    assert rows["image-a"]["views"] == ["audio"]  # recorded: whatever the folder is called
    assert rows["image-b"]["views"] == ["image"]  # written before views were recorded
    assert rows["solve-c"]["views"] == []


def test_live_metrics_are_read_from_a_byte_offset(base_url, runs_dir):
    log = runs_dir / "image-camera" / "metrics.jsonl"
    status, body, _ = get(base_url + "/api/metrics?id=image-camera&offset=0")
    first = json.loads(body)
    assert status == 200 and first["offset"] == log.stat().st_size
    assert first["records"][0]["step"] == 10
    _, body, _ = get(base_url + f"/api/metrics?id=image-camera&offset={first['offset']}")
    assert json.loads(body)["records"] == []


def test_zoom_re_renders_the_network_over_the_requested_window(base_url, runs_dir):
    run = runs_dir / "image-camera"
    model = load(run)
    window = (-0.5, 0.1, -0.2, 0.7)
    q = "y0=-0.5&y1=0.1&x0=-0.2&x1=0.7&h=37&w=53"
    status, body, headers = get(base_url + f"/api/render?id=image-camera&{q}")
    assert status == 200 and headers["Content-Type"] == "image/png"
    got = np.asarray(Image.open(io.BytesIO(body)))
    with torch.no_grad():
        direct = to_uint8(model(window_grid(window, (37, 53))).reshape(37, 53, -1).numpy())
    assert got.shape == direct.shape == (37, 53)
    assert np.abs(got.astype(int) - direct.astype(int)).max() <= 1
    # the full window at the training size is the run's reconstruction.png
    _, body, _ = get(base_url + "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=48&w=48")
    recon = np.asarray(Image.open(run / "reconstruction.png"))
    assert np.abs(np.asarray(Image.open(io.BytesIO(body))).astype(int) - recon).max() <= 1


def test_zoom_follows_the_renderer_a_run_declares(runs_dir, tmp_path):
    """A run zooms when its checkpoint names the image renderer (poisson, blend, any new task),
    whatever its task is called; older checkpoints of image runs, which name none, still do."""
    ckpt = torch.load(runs_dir / "image-camera" / "checkpoint.pt", weights_only=True)
    runs = {"declared": ("blend", IMAGE_RENDERER), "older": ("image", None), "other": ("x", None)}
    for name, (task, renderer) in runs.items():
        shutil.copytree(runs_dir / "image-camera", tmp_path / name)
        torch.save({**ckpt, "task": task, "renderer": renderer}, tmp_path / name / "checkpoint.pt")
    q = "y0=-1&y1=1&x0=-1&x1=1&h=8&w=8"
    with serving(tmp_path) as url:
        status = {name: get(url + f"/api/render?id={name}&{q}")[0] for name in runs}
    assert status == {"declared": 200, "older": 200, "other": 400}


def test_other_endpoints_draw_sdf_slices_fields_and_meshes(base_url, runs_dir):
    require_run(runs_dir, "sdf-sphere", "wave-uniform", "helmholtz-uniform")
    status, body, _ = get(base_url + "/api/slice?id=sdf-sphere&axis=1&pos=0.2&n=40")
    assert status == 200 and Image.open(io.BytesIO(body)).size == (40, 40)
    _, body, _ = get(base_url + "/api/fieldinfo?id=wave-uniform")
    info = json.loads(body)
    assert info["frames"] == 3 and len(info["rel_l2"]) == 3
    for which in ("network", "reference", "error"):
        status, body, _ = get(base_url + f"/api/field?id=wave-uniform&which={which}&frame=2")
        assert status == 200 and Image.open(io.BytesIO(body)).size == (12, 12)
    status, body, _ = get(base_url + "/api/field?id=helmholtz-uniform&which=error&part=imag")
    assert status == 200
    status, body, headers = get(base_url + "/api/mesh?id=sdf-sphere&file=mesh.ply")
    nv, nf = np.frombuffer(body[:8], "<u4")
    assert status == 200 and len(body) == 8 + nv * 24 + nf * 12
    assert json.loads(headers["X-Mesh"])["faces_shown"] == nf > 0


def test_files_are_served_with_byte_ranges(base_url, runs_dir):
    wav = (runs_dir / "audio-synthetic" / "fit.wav").read_bytes()
    status, body, headers = get(base_url + "/files/audio-synthetic/fit.wav")
    assert status == 200 and body == wav and headers["Content-Type"] in ("audio/x-wav", "audio/wav")
    status, body, headers = get(
        base_url + "/files/audio-synthetic/fit.wav", headers={"Range": "bytes=10-19"}
    )
    assert status == 206 and body == wav[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{len(wav)}"
    status, _, _ = get(base_url + "/files/audio-synthetic/fit.wav", headers={"Range": "bytes=x"})
    assert status == 416


@pytest.fixture()
def outside(runs_dir, tmp_path_factory):
    """A secret file outside the runs folder and a symlink to it from inside a run."""
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text("secret")
    link = runs_dir / "image-camera" / "leak.txt"
    link.unlink(missing_ok=True)
    os.symlink(secret, link)
    folder_link = runs_dir / "linked-run"
    folder_link.unlink(missing_ok=True)
    os.symlink(secret.parent, folder_link)
    yield secret
    link.unlink()
    folder_link.unlink()


TRAVERSALS = [
    "/files/../../../../etc/passwd",
    "/files/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/files/%252e%252e/%252e%252e/etc/passwd",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "/files/image-camera/..\\..\\..\\etc\\passwd",
    "/files/image-camera/leak.txt",
    "/files/linked-run/secret.txt",
    "/files/image-camera/%00config.json",
    "/static/../server.py",
    "/static/%2e%2e/server.py",
    "/api/run?id=..",
    "/api/run?id=/etc",
    "/api/run?id=linked-run",
    "/api/metrics?id=../..&offset=0",
    "/api/mesh?id=image-camera&file=../sdf-sphere/mesh.ply",
    "/api/render?id=%2e%2e&y0=-1&y1=1&x0=-1&x1=1&h=8&w=8",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_the_runs_folder_is_served(base_url, outside, path):
    status, body, _ = get(base_url + path)
    assert status == 404, (path, status, body[:80])
    assert b"secret" not in body and b"root:" not in body


def test_safe_path_resolves_only_inside(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("x")
    assert safe_path(tmp_path, "a/f.txt") == (tmp_path / "a" / "f.txt").resolve()
    assert safe_path(tmp_path, "a/./f.txt") is not None
    for bad in (
        "../a",
        "a/../../x",
        "/a/f.txt",
        "a/%2e%2e/%2e%2e/x",
        "a\\f.txt",
        "c:/x",
        "a/f.txt\x00",
    ):
        assert safe_path(tmp_path, bad) is None, bad


MALFORMED = [
    "/api/render?id=image-camera",  # missing numbers
    "/api/render?id=image-camera&y0=a&y1=1&x0=-1&x1=1&h=8&w=8",
    "/api/render?id=image-camera&y0=nan&y1=1&x0=-1&x1=1&h=8&w=8",
    "/api/render?id=image-camera&y0=-inf&y1=1&x0=-1&x1=1&h=8&w=8",
    "/api/render?id=image-camera&y0=1e400&y1=1&x0=-1&x1=1&h=8&w=8",
    "/api/render?id=image-camera&y0=0.5&y1=0.1&x0=-1&x1=1&h=8&w=8",  # empty window
    "/api/render?id=image-camera&y0=-3&y1=1&x0=-1&x1=1&h=8&w=8",  # outside [-1, 1]
    "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=100000&w=100000",  # huge
    "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=2048&w=2048",  # over MAX_PIXELS
    "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=0&w=8",
    "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=-5&w=8",
    "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=8.5&w=8",
    "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=99999999999999999999&w=8",
    "/api/render?id=audio-synthetic&y0=-1&y1=1&x0=-1&x1=1&h=8&w=8",  # not an image run
    "/api/slice?id=sdf-sphere&axis=7",
    "/api/slice?id=sdf-sphere&pos=2",
    "/api/slice?id=sdf-sphere&n=100000",
    "/api/slice?id=image-camera",
    "/api/field?id=wave-uniform&which=network&frame=99",
    "/api/field?id=wave-uniform&which=nothing",
    "/api/field?id=wave-uniform&which=network&part=phase",
    "/api/field?id=wave-uniform&which=network&file=config.json",
    "/api/field?id=image-camera&which=network",  # no fields.npz: 404
    "/api/mesh?id=sdf-sphere&file=config.json",
    "/api/mesh?id=sdf-sphere",
    "/api/metrics?id=image-camera&offset=-4",
    "/api/metrics?id=image-camera&offset=zz",
    "/api/run",
    "/api/run?id=nope",
    "/nowhere",
    "/api/render?" + "a=1&" * 2000,
]


@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_requests_get_a_4xx_and_the_server_goes_on(base_url, path):
    status, _, _ = get(base_url + path)
    assert 400 <= status < 500, (path, status)
    assert get(base_url + "/api/runs")[0] == 200


def test_a_broken_mesh_or_checkpoint_is_a_4xx(base_url, runs_dir):
    bad = runs_dir / "sdf-sphere" / "broken.ply"
    bad.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 3\nend_header\n1 2\n")
    try:
        assert 400 <= get(base_url + "/api/mesh?id=sdf-sphere&file=broken.ply")[0] < 500
    finally:
        bad.unlink()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_viewer_is_read_only(base_url, runs_dir, method):
    before = sorted(p.name for p in (runs_dir / "image-camera").iterdir())
    status, _, _ = get(base_url + "/files/image-camera/config.json", method=method)
    assert status in (405, 501)
    assert sorted(p.name for p in (runs_dir / "image-camera").iterdir()) == before


def test_parallel_renders_all_succeed(base_url):
    url = base_url + "/api/render?id=image-camera&y0=-1&y1=0&x0=-1&x1=0&h=64&w=64"
    results = []

    def hit():
        with urllib.request.urlopen(url, timeout=60) as r:
            results.append((r.status, r.read()))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in results] == [200] * 8
    assert len({b for _, b in results}) == 1


def test_renders_beyond_the_queue_bound_are_refused_with_429(base_url):
    held = 0
    while renders.RENDER_SLOTS.acquire(blocking=False):  # as if 8 renders were waiting
        held += 1
    try:
        url = base_url + "/api/render?id=image-camera&y0=-1&y1=1&x0=-1&x1=1&h=8&w=8"
        assert held == renders.MAX_QUEUED and get(url)[0] == 429
    finally:
        for _ in range(held):
            renders.RENDER_SLOTS.release()
    assert get(url)[0] == 200


def test_model_cache_is_bounded_and_reuses(runs_dir):
    cache = ModelCache(size=2)
    names = ["image-camera", "audio-synthetic", "sdf-sphere"]
    for name in names + names[-1:]:
        cache.get(runs_dir / name / "checkpoint.pt")
    assert cache.loads == 3 and len(cache._models) == 2


def test_decimation_brings_a_large_mesh_under_the_limit():
    trimesh = pytest.importorskip("trimesh")
    mesh = trimesh.creation.icosphere(subdivisions=6)  # 81,920 faces
    v, f, cells = decimate(np.asarray(mesh.vertices), np.asarray(mesh.faces), max_faces=5000)
    assert 1000 < len(f) <= 5000 and cells > 0
    assert f.max() < len(v)
    radius = np.linalg.norm(v, axis=1)
    assert np.abs(radius - 1).max() < 0.05  # still the sphere
    same = decimate(np.asarray(mesh.vertices), np.asarray(mesh.faces), max_faces=10**6)
    assert same[2] == 0 and len(same[1]) == len(mesh.faces)


def test_view_command_rejects_a_missing_folder(tmp_path, capsys):
    from sirenkit.cli import main

    assert main(["view", str(tmp_path / "none")]) == 2
    assert "runs folder not found" in capsys.readouterr().err


def test_a_run_in_progress_is_live(base_url, runs_dir):
    live = runs_dir / "image-live"
    live.mkdir()
    (live / "config.json").write_text((runs_dir / "image-camera" / "config.json").read_text())
    log = live / "metrics.jsonl"
    log.write_text('{"step": 10, "time": 0.1, "lr": 0.001, "loss": 0.5}\n{"step": 2')  # torn
    try:
        rows = {r["id"]: r for r in json.loads(get(base_url + "/api/runs")[1])["runs"]}
        assert rows["image-live"]["state"] == "running"
        assert rows["image-live"]["steps"] == 10 and rows["image-live"]["planned_steps"] == 30
        first = json.loads(get(base_url + "/api/metrics?id=image-live&offset=0")[1])
        assert [r["step"] for r in first["records"]] == [10]  # the torn line waits
        with log.open("a") as f:
            f.write('0, "time": 0.2, "lr": 0.001, "loss": 0.25}\n')
        more = json.loads(get(base_url + f"/api/metrics?id=image-live&offset={first['offset']}")[1])
        assert [r["loss"] for r in more["records"]] == [0.25]
        rows = {r["id"]: r for r in json.loads(get(base_url + "/api/runs")[1])["runs"]}
        assert rows["image-live"]["steps"] == 20 and rows["image-live"]["loss"] == [0.5, 0.25]
    finally:
        shutil.rmtree(live)


def test_view_prints_its_address_and_stops_on_ctrl_c(runs_dir):
    path = os.pathsep.join(["src", os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sirenkit", "view", str(runs_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # a shell's `cmd &` runs the suite with SIGINT ignored, which a child inherits
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)[0]
        assert get(url + "api/runs")[0] == 200
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # show where it hangs (faulthandler)
            proc.send_signal(signal.SIGABRT)
            pytest.fail(f"no exit 30 s after Ctrl-C; its threads:\n{proc.communicate()[1]}")
        assert code == 0
        assert "stopped" in proc.stderr.read()
    finally:
        proc.kill()
