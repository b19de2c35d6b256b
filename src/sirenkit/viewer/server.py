"""``sirenkit view``: a read-only local web server over a runs folder.

Standard library HTTP (``ThreadingHTTPServer``) on 127.0.0.1 only; pages are static files of
this package (no CDN, no framework) that read JSON, PNG and binary endpoints:

==========================  ===============================================================
``/``, ``/run?r=ID&r=ID``    index of runs; one run, or several side by side
``/api/runs``                index rows (cached by file times)
``/api/run?id=``             a run's summary, config and files
``/api/metrics?id=&offset=`` records of ``metrics.jsonl`` after a byte offset (live curves)
``/api/render?id=...``       an image network re-rendered over a window (PNG)
``/api/slice?id=...``        an SDF network on a plane (PNG)
``/api/field?id=...``        a PDE run's saved fields, one frame (PNG); ``/api/fieldinfo``
``/api/mesh?id=&file=``      a mesh (decimated past 200k faces) for WebGL
``/files/ID/NAME``           a file of a run, with byte ranges (audio and video seeking)
==========================  ===============================================================

Only GET (and HEAD) are answered; anything naming a path outside the runs folder is 404.
"""

from __future__ import annotations

import json
import math
import mimetypes
import re
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import tyro

from ..cli.render import IMAGE_RENDERER
from ..errors import SirenkitError
from .paths import safe_path
from .renders import (
    BadRequest,
    Busy,
    ModelCache,
    field_info,
    field_png,
    mesh_payload,
    png_bytes,
    render_window,
    sdf_slice,
)
from .runs import RunIndex, metrics_since, read_json, run_detail, run_views

STATIC = Path(__file__).parent / "static"
MAX_QUERY = 4096
"""Longest query string accepted."""
MESH_SUFFIXES = (".ply", ".obj", ".off", ".stl")


class NotFound(Exception):
    """Answered with 404 (a missing file and a refused path look the same)."""


@dataclass
class ViewConfig:
    """Serve a local, read-only web viewer over a folder of runs: an index of every run with
    live curves, a page per run (re-rendered zoom, players, 3-D meshes, PDE fields over time),
    and side-by-side comparison. Listens on 127.0.0.1 only; Ctrl-C stops it."""

    runs: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUNS_DIR")] = Path("runs")
    """Folder of run folders (the --out of the training commands)."""
    port: int = 0
    """Port on 127.0.0.1 (0: a free one)."""
    verbose: bool = False
    """Log every request to stderr."""


class Viewer:
    """State shared by the request threads: the runs folder, the index cache, the models."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.index = RunIndex(self.root)
        self.models = ModelCache()
        self._mesh_cache: dict[tuple[Path, float], tuple[bytes, dict]] = {}
        self._mesh_lock = threading.Lock()

    def run_folder(self, run_id: str) -> Path:
        folder = safe_path(self.root, run_id)
        if folder is None or not folder.is_dir() or not (folder / "config.json").is_file():
            raise NotFound
        return folder

    def run_file(self, run_id: str, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise NotFound
        folder = self.run_folder(run_id)
        path = safe_path(self.root, f"{folder.relative_to(self.root).as_posix()}/{name}")
        if path is None or not path.is_file():
            raise NotFound
        return path

    def mesh(self, path: Path) -> tuple[bytes, dict]:
        key = (path, path.stat().st_mtime)
        with self._mesh_lock:
            if key not in self._mesh_cache:
                if len(self._mesh_cache) >= 4:
                    self._mesh_cache.pop(next(iter(self._mesh_cache)))
                self._mesh_cache[key] = mesh_payload(path)
            return self._mesh_cache[key]


def _one(q: dict[str, list[str]], name: str, default: str | None = None) -> str:
    values = q.get(name)
    if not values:
        if default is None:
            raise BadRequest(f"missing parameter {name!r}")
        return default
    return values[0]


def _float(q: dict[str, list[str]], name: str, default: float | None = None) -> float:
    text = _one(q, name, None if default is None else repr(default))
    try:
        v = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    if not math.isfinite(v):
        raise BadRequest(f"{name} must be finite")
    return v


def _int(q: dict[str, list[str]], name: str, default: int | None = None) -> int:
    text = _one(q, name, None if default is None else str(default))
    if not re.fullmatch(r"-?\d{1,9}", text):
        raise BadRequest(f"{name} must be an integer")
    return int(text)


class Handler(BaseHTTPRequestHandler):
    viewer: Viewer
    verbose = False
    server_version = "sirenkit-view"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    # --- read-only: every writing method is refused -------------------------------------------
    def _refuse(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"read-only viewer\n", "text/plain",
                   extra={"Allow": "GET, HEAD"})  # fmt: skip

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        self._head_only = head
        try:
            self._route()
        except NotFound:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        except (BadRequest, SirenkitError) as e:
            self._send(HTTPStatus.BAD_REQUEST, f"{e}\n".encode(), "text/plain")
        except Busy as e:
            self._send(HTTPStatus.TOO_MANY_REQUESTS, f"{e}\n".encode(), "text/plain",
                       extra={"Retry-After": "1"})  # fmt: skip
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug must not stop the server: answer 500 and go on
            self.log_error("internal error on %r: %r", self.path, e)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n", "text/plain")

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str,
        *,
        extra: dict[str, str] | None = None,
        cache: bool = False,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if not getattr(self, "_head_only", False):
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, data: Any) -> None:
        body = json.dumps(_finite(data), allow_nan=False, default=str).encode()
        self._send(HTTPStatus.OK, body, "application/json")

    def _route(self) -> None:
        if len(self.path) > MAX_QUERY or not self.path.startswith("/"):
            raise BadRequest("request line too long or not a path")
        parts = urlsplit(self.path)
        path, q = parts.path, parse_qs(parts.query, max_num_fields=32)
        v = self.viewer
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path == "/run":
            return self._static("run.html")
        if path.startswith("/static/"):
            return self._static(path[len("/static/") :])
        if path.startswith("/files/"):
            target = safe_path(v.root, path[len("/files/") :])
            if target is None or not target.is_file():
                raise NotFound
            return self._file(target)
        if path == "/api/runs":
            return self._json({"root": str(v.root), "runs": v.index.rows()})
        if path == "/api/run":
            return self._json(run_detail(v.root, v.run_folder(_one(q, "id"))))
        if path == "/api/metrics":
            folder = v.run_folder(_one(q, "id"))
            offset = _int(q, "offset", 0)
            if offset < 0:
                raise BadRequest("offset must be >= 0")
            records, end = metrics_since(folder / "metrics.jsonl", offset)
            return self._json({"records": records, "offset": end})
        if path == "/api/render":
            return self._render(q)
        if path == "/api/slice":
            config = read_json(v.run_folder(_one(q, "id")) / "config.json")
            model, facts = v.models.get(v.run_file(_one(q, "id"), "checkpoint.pt"))
            if "sdf" not in run_views(config, str(facts["task"])):
                raise BadRequest("slices are drawn for runs of signed distance fields")
            rgb = sdf_slice(model, _int(q, "axis", 2), _float(q, "pos", 0.0), _int(q, "n", 256))
            return self._send(HTTPStatus.OK, png_bytes(rgb), "image/png")
        if path in ("/api/field", "/api/fieldinfo"):
            npz = v.run_file(_one(q, "id"), _one(q, "file", "fields.npz"))
            if npz.suffix != ".npz":
                raise BadRequest("file must be a .npz of fields")
            try:
                if path == "/api/fieldinfo":
                    return self._json(field_info(npz))
                png = field_png(npz, _one(q, "which"), _int(q, "frame", 0), _one(q, "part", "real"))
            except (KeyError, OSError, ValueError) as e:
                if isinstance(e, BadRequest):
                    raise
                raise BadRequest(f"{npz.name} holds no network/reference fields") from None
            return self._send(HTTPStatus.OK, png, "image/png")
        if path == "/api/mesh":
            mesh = v.run_file(_one(q, "id"), _one(q, "file"))
            if mesh.suffix.lower() not in MESH_SUFFIXES:
                raise BadRequest("file must be a mesh (.ply, .obj, .off, .stl)")
            body, info = v.mesh(mesh)
            return self._send(
                HTTPStatus.OK, body, "application/octet-stream", extra={"X-Mesh": json.dumps(info)}
            )
        raise NotFound

    def _render(self, q: dict[str, list[str]]) -> None:
        model, facts = self.viewer.models.get(self.viewer.run_file(_one(q, "id"), "checkpoint.pt"))
        if facts["renderer"] != IMAGE_RENDERER:  # what the run declares, not its task's name
            raise BadRequest("zoom re-renders image runs")
        window = (_float(q, "y0"), _float(q, "y1"), _float(q, "x0"), _float(q, "x1"))
        img = render_window(model, window, (_int(q, "h"), _int(q, "w")))
        self._send(HTTPStatus.OK, png_bytes(img), "image/png")

    def _static(self, name: str) -> None:
        target = safe_path(STATIC, name)
        if target is None or not target.is_file():
            raise NotFound
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".js":
            ctype = "text/javascript"
        self._send(HTTPStatus.OK, target.read_bytes(), ctype)

    def _file(self, target: Path) -> None:
        """A run's file, whole or a byte range (media elements seek with ranges)."""
        size = target.stat().st_size
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        rng = self.headers.get("Range")
        start, end = 0, size - 1
        status = HTTPStatus.OK
        if rng:
            m = re.fullmatch(r"bytes=(\d{0,15})-(\d{0,15})", rng.strip())
            if not m or (not m[1] and not m[2]):
                return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain",
                                  extra={"Content-Range": f"bytes */{size}"})  # fmt: skip
            if m[1]:
                start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
            else:
                start = max(0, size - int(m[2]))
            if start > end or start >= size:
                return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain",
                                  extra={"Content-Range": f"bytes */{size}"})  # fmt: skip
            status = HTTPStatus.PARTIAL_CONTENT
        with target.open("rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        extra = {"Accept-Ranges": "bytes"}
        if status == HTTPStatus.PARTIAL_CONTENT:
            extra["Content-Range"] = f"bytes {start}-{end}/{size}"
        self._send(status, body, ctype, extra=extra)


def _finite(v: Any) -> Any:
    """JSON has no NaN or infinity: they become null (summary.json may hold a NaN metric)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def make_server(root: Path, port: int = 0, verbose: bool = False) -> ThreadingHTTPServer:
    """A viewer server bound to 127.0.0.1 (not yet serving); ``port`` 0 picks a free port."""
    root = Path(root)
    if not root.is_dir():
        raise SirenkitError(f"runs folder not found: {root}")
    if not 0 <= port <= 65535:
        raise SirenkitError(f"--port must be in 0..65535, got {port}")
    handler = type("ViewerHandler", (Handler,), {"viewer": Viewer(root), "verbose": verbose})
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as e:
        raise SirenkitError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
    server.daemon_threads = True
    return server


def view_command(cfg: ViewConfig) -> None:
    server = make_server(cfg.runs, cfg.port, cfg.verbose)
    host, port = server.server_address[:2]
    print(f"sirenkit view: {Path(cfg.runs).resolve()} at http://{host}:{port}/ (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nsirenkit view: stopped", file=sys.stderr)
    finally:
        server.server_close()
