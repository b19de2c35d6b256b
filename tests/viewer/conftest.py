import shutil

import pytest
from benchmarks.viewer import make_runs, serving


@pytest.fixture(scope="package")
def runs_dir(tmp_path_factory):
    """Tiny runs of every task kind, made once for the viewer tests."""
    root = tmp_path_factory.mktemp("runs")
    make_runs(root)
    shutil.copytree(root / "image-camera", root / "image-camera-copy")  # a second run to compare
    return root


@pytest.fixture(scope="package")
def base_url(runs_dir):
    with serving(runs_dir) as url:
        yield url
