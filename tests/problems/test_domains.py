"""Domains draw where they should, uniformly, and refuse to be empty."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import sirenkit as sk
from sirenkit.problems import domains as D

NAMES = ("x", "t")


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def test_box_interior_faces_and_slices():
    box = D.Box([-1, 0], [1, 0.99])
    x = box.sample(4000, gen())
    assert x.shape == (4000, 2)
    assert (x[:, 0] >= -1).all() and (x[:, 0] <= 1).all()
    assert (x[:, 1] >= 0).all() and (x[:, 1] <= 0.99).all()
    # uniform: each half of x holds about half the points
    assert abs(float((x[:, 0] < 0).float().mean()) - 0.5) < 0.05
    faces = box.faces("x").sample(1000, gen(), NAMES)
    assert set(faces[:, 0].tolist()) == {-1.0, 1.0}
    assert 0.4 < float((faces[:, 0] > 0).float().mean()) < 0.6
    start = box.face("t", 0).sample(100, gen(), NAMES)
    assert (start[:, 1] == 0).all() and box.face("t", 0).contains(start, NAMES).all()
    assert (box.face("t", "max").sample(10, gen(), NAMES)[:, 1] == 0.99).all()
    assert (box.slice("t", 0.5).sample(10, gen(), NAMES)[:, 1] == 0.5).all()
    edge = box.boundary.sample(2000, gen(), NAMES)
    assert box.boundary.contains(edge).all()
    # the boundary's faces are drawn by area: the x faces (length 0.99 each) about as often
    # as the t faces (length 2 each) times 0.99 / 2
    on_x = float((edge[:, 0].abs() == 1).float().mean())
    assert abs(on_x - 0.99 / 2.99) < 0.05


def test_face_must_be_a_face_and_axes_must_exist():
    box = D.Box([-1, 0], [1, 1])
    with pytest.raises(sk.SirenkitError, match="not a face"):
        box.face("x", 0).sample(3, gen(), NAMES)
    with pytest.raises(sk.SirenkitError, match="no axis 'y'"):
        box.faces("y").sample(3, gen(), NAMES)


@pytest.mark.parametrize(
    "make",
    [
        lambda: D.Box([0, 0], [1, 0]),
        lambda: D.Polygon([[0, 0], [1, 1], [2, 2]]),
        lambda: D.Disc([0, 0], 0.0),
        lambda: D.Annulus([0, 0], 1.0, 1.0),
    ],
)
def test_a_domain_without_volume_is_a_one_line_error(make):
    with pytest.raises(sk.SirenkitError) as e:
        make()
    assert "no volume" in str(e.value) or "no area" in str(e.value)
    assert "\n" not in str(e.value)


def lshape() -> D.Polygon:
    return D.Polygon([[0, 0], [1, 0], [1, -1], [-1, -1], [-1, 1], [0, 1]])


def test_polygon_samples_the_lshape_uniformly():
    poly = lshape()
    assert poly.area == pytest.approx(3.0)
    x = poly.sample(6000, gen())
    assert not ((x[:, 0] > 0) & (x[:, 1] > 0)).any()
    # three unit quadrants, a third of the points each
    for sx, sy in [(-1, -1), (-1, 1), (1, -1)]:
        share = float(((x[:, 0] * sx > 0) & (x[:, 1] * sy > 0)).float().mean())
        assert abs(share - 1 / 3) < 0.03
    edge = poly.boundary.sample(800, gen())
    assert poly.boundary.contains(edge).all()
    on_inner = ((edge[:, 0] == 0) & (edge[:, 1] >= 0)) | ((edge[:, 1] == 0) & (edge[:, 0] >= 0))
    assert abs(float(on_inner.float().mean()) - 2 / 8) < 0.05  # 2 of the 8 units of length


def test_difference_union_disc_annulus():
    box = D.Box([-1, -1], [1, 1])
    cut = box - D.Box([0, 0], [1, 1])
    x = cut.sample(500, gen())
    assert lshape().contains(x).all()
    ring = D.Annulus([0.5, 0], 0.2, 0.4)
    r = (ring.sample(2000, gen()) - torch.tensor([0.5, 0.0], dtype=torch.float64)).norm(dim=-1)
    assert (r >= 0.2 - 1e-9).all() and (r <= 0.4 + 1e-9).all()
    # uniform by area: the inner half of the radii holds (0.3^2 - 0.2^2) / (0.4^2 - 0.2^2)
    assert abs(float((r < 0.3).float().mean()) - 5 / 12) < 0.04
    circle = D.Disc([0, 0], 2.0).boundary.sample(50, gen())
    assert torch.allclose(circle.norm(dim=-1), torch.full((50,), 2.0, dtype=torch.float64))
    both = D.Disc([-1, 0], 0.5) | D.Disc([1, 0], 0.5)
    y = both.sample(1000, gen())
    assert both.contains(y).all()
    assert 0.4 < float((y[:, 0] < 0).float().mean()) < 0.6


def test_point_set_draws_points_with_their_values(tmp_path):
    pts = np.random.default_rng(0).random((50, 2))
    vals = pts.sum(1)
    ps = D.PointSet(pts, vals)
    x, v = ps.draw(10, gen())
    assert x.shape == (10, 2) and torch.allclose(v[:, 0], x.sum(1))
    x, v = ps.draw(None, gen())
    assert len(x) == 50
    np.savez(tmp_path / "d.npz", X=pts, y=vals)
    loaded = D.PointSet.load(tmp_path / "d.npz", points="X", values="y")
    assert torch.allclose(loaded.values[:, 0], torch.as_tensor(vals))
    vals[3] = math.nan
    with pytest.raises(sk.SirenkitError, match="NaN"):
        D.PointSet(pts, vals)


@pytest.mark.parametrize(
    "text",
    ["x,y,u\n0,1,2\n3,4,5\n", "0 1 2\n3 4 5\n", "# made by hand\nx y u\n0 1 2\n\n3 4 5\n"],
    ids=["csv-with-header", "whitespace", "comment-and-header"],
)
def test_point_set_reads_tables_as_spreadsheets_write_them(tmp_path, text):
    (tmp_path / "obs.csv").write_text(text)
    ps = D.PointSet.load(tmp_path / "obs.csv")
    assert ps.points.tolist() == [[0.0, 1.0], [3.0, 4.0]]
    assert ps.values[:, 0].tolist() == [2.0, 5.0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y,u\n0,1,2\n3,oops,5\n", "row 2 of the data has a cell that is not a number"),
        ("0,1,2\n3,4\n", "row 2 of the data has 2 columns"),
        ("x,y,u\n", "a header and no rows"),
        ("0\n1\n", "needs at least 2 columns"),
    ],
    ids=["not-a-number", "ragged", "header-only", "one-column"],
)
def test_a_bad_table_is_one_line_naming_the_row(tmp_path, text, message):
    (tmp_path / "obs.csv").write_text(text)
    with pytest.raises(sk.SirenkitError, match=message):
        D.PointSet.load(tmp_path / "obs.csv")


def test_point_set_with_replacement_draws_any_number_of_its_points():
    values = np.arange(10.0)
    pts = sk.domains.PointSet(values[:, None], values, replace=True)
    x, v = pts.draw(25, torch.Generator().manual_seed(0))
    assert x.shape == (25, 1) and torch.equal(x[:, 0], v[:, 0])  # values follow their points
    assert len(torch.unique(x)) <= 10  # repeats: drawn with replacement
    small, _ = sk.domains.PointSet(values[:, None]).draw(25, torch.Generator())
    assert len(small) == 10  # without: every point once


def test_faces_and_edges_get_their_share_of_every_draw():
    """Two points on a segment's end faces: one on each, every time (independent draws put
    both on one end half the time, and an L-BFGS batch then never saw the other condition);
    a polygon's edges get points in proportion to their lengths, to within one."""
    g = torch.Generator().manual_seed(0)
    ends = sk.domains.Box([0], [3]).faces(0)
    for _ in range(20):
        assert sorted(ends.sample(2, g).ravel().tolist()) == [0.0, 3.0]
    rect = sk.domains.Box([0, 0], [2, 1]).boundary.sample(60, g)
    counts = [int((rect[:, 0] == 0).sum()), int((rect[:, 0] == 2).sum())]
    counts += [int((rect[:, 1] == 0).sum()), int((rect[:, 1] == 1).sum())]
    assert counts == [10, 10, 20, 20]
    tri = sk.domains.Polygon([[0, 0], [3, 0], [0, 4]]).boundary.sample(12, g)  # sides 3, 5, 4
    on_x = int((tri[:, 1].abs() < 1e-9).sum())
    on_y = int((tri[:, 0].abs() < 1e-9).sum())
    assert on_x in (3, 4) and on_y in (4, 5) and 12 - on_x - on_y in (4, 5, 6)
