import shutil

import pytest
from benchmarks.viewer import make_runs, serving


@pytest.fixture(scope="package")
def runs_dir(tmp_path_factory):
    """Tiny runs of every task kind, made once for the viewer tests."""
    root = tmp_path_factory.mktemp("runs")
    made = make_runs(root, strict=False)  # a broken command fails its own tests, not all
    assert "image-camera" in made, "the tiny image run failed"
    shutil.copytree(root / "image-camera", root / "image-camera-copy")  # a second run to compare
    return root


@pytest.fixture(scope="package")
def base_url(runs_dir):
    with serving(runs_dir) as url:
        yield url


def require_run(runs_dir, *names):
    """Fail with the reason (its command failed while the runs were made) when a run is missing."""
    for name in names:
        if not (runs_dir / name / "summary.json").is_file():
            pytest.fail(
                f"the tiny {name} run failed (its command's error is in the captured output)"
            )
