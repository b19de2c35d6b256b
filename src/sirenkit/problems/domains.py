"""Where constraints hold: boxes and their faces, polygons, discs and annuli, point sets.

Every domain draws points uniformly (by volume, area or length) with the run's seeded
``torch.Generator``, afresh every step. Axes may be given by index or by the name the
:class:`~sirenkit.problems.problem.Problem` gives them (``box.face("t", 0)``); names are resolved
when points are drawn. A domain that should have a volume and has none is a one-line error.

``a - b`` is the part of ``a`` outside ``b`` and ``a | b`` their union (both drawn by rejection).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import SirenkitError, require_file

Axis = int | str
Names = Sequence[str] | None
_EPS = 1e-6


def resolve_axis(axis: Axis, names: Names, dim: int) -> int:
    """The index of ``axis`` (an index, or a name among ``names``); a one-line error if none."""
    if isinstance(axis, str):
        if names is None or axis not in names:
            known = ", ".join(names) if names else "none (give the Problem names=...)"
            raise SirenkitError(f"no axis {axis!r}; the problem's axes are: {known}")
        return list(names).index(axis)
    if not 0 <= axis < dim:
        raise SirenkitError(f"axis {axis} does not exist in {dim} dimensions")
    return int(axis)


def _vec(values: Sequence[float] | float, what: str) -> torch.Tensor:
    t = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if not torch.isfinite(t).all():
        raise SirenkitError(f"{what} must be finite, got {t.tolist()}")
    return t


def _uniform(n: int, d: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand((n, d), generator=generator, dtype=torch.float64)


class Domain(ABC):
    """A set of points constraints can be asked to hold on."""

    dim: int
    """Coordinates per point."""

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        """``n`` points ``(n, dim)`` (float64), uniform on the domain, drawn with ``generator``."""

    def draw(
        self, n: int | None, generator: torch.Generator, names: Names = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Points and, for a data domain, the values given there (else None)."""
        if n is None:
            raise SirenkitError(f"{self!r}: give the constraint a number of points (points=N)")
        return self.sample(n, generator, names), None

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        """Which of the points ``(N, dim)`` lie in the domain (boundary included)."""
        raise SirenkitError(f"{type(self).__name__} cannot tell which points it contains")

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        """Outward unit normals ``(N, dim)`` (float64) at points ``x`` of a boundary (what
        ``f.normal`` reads: Neumann and Robin conditions)."""
        raise SirenkitError(
            f"{self!r} is not a boundary with normals: f.normal needs box faces, polygon "
            "edges or circles"
        )

    @property
    def measure(self) -> float:
        """Volume (area, length) of the domain, for proportional sampling of unions."""
        raise SirenkitError(f"{type(self).__name__} has no known measure")

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A box ``(lo, hi)`` holding the domain (for rejection sampling and pictures)."""
        raise SirenkitError(f"{type(self).__name__} has no bounding box")

    def __sub__(self, other: Domain) -> Difference:
        return Difference(self, other)

    def __or__(self, other: Domain) -> Union:
        return Union(self, other)

    def __mul__(self, other: Domain) -> Product:
        return Product(self, other)

    def _check_dim(self, other: Domain) -> None:
        if self.dim != other.dim:
            raise SirenkitError(f"cannot combine a {self.dim}-D and a {other.dim}-D domain")


class Box(Domain):
    """The axis-aligned box ``lo <= x <= hi`` (an interval, a rectangle, a space-time box).

    Arguments:
        lo: lower corner, one value per axis.
        hi: upper corner; every ``hi[k] > lo[k]`` (a flat box is a :meth:`slice` of one).
    """

    def __init__(self, lo: Sequence[float] | float, hi: Sequence[float] | float) -> None:
        self.lo, self.hi = _vec(lo, "Box lo"), _vec(hi, "Box hi")
        if self.lo.shape != self.hi.shape:
            raise SirenkitError(f"Box lo has {len(self.lo)} values and hi {len(self.hi)}")
        flat = (self.hi <= self.lo).nonzero().flatten().tolist()
        if flat:
            k = flat[0]
            raise SirenkitError(
                f"Box has no volume: along axis {k}, hi ({self.hi[k]:g}) <= lo ({self.lo[k]:g})"
            )
        self.dim = len(self.lo)

    def __repr__(self) -> str:
        return f"Box({self.lo.tolist()}, {self.hi.tolist()})"

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        return self.lo + (self.hi - self.lo) * _uniform(n, self.dim, generator)

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        x = x.to(torch.float64)
        return ((x >= self.lo - _EPS) & (x <= self.hi + _EPS)).all(-1)

    @property
    def measure(self) -> float:
        return float((self.hi - self.lo).prod())

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.lo.clone(), self.hi.clone()

    def slice(self, axis: Axis, value: float) -> Slice:
        """The cross-section ``x[axis] = value`` (e.g. a time slice ``box.slice("t", 0.5)``)."""
        return Slice(self, axis, value)

    def face(self, axis: Axis, side: float | str) -> Slice:
        """One face: ``side`` is the coordinate of the face (``lo`` or ``hi`` along ``axis``)
        or ``"min"`` / ``"max"``; ``box.face("t", 0)`` is the initial time of ``t >= 0``."""
        return Slice(self, axis, side, face=True)

    def faces(self, *axes: Axis) -> Faces:
        """Both faces along each of ``axes`` (all faces when none is given: the boundary)."""
        return Faces(self, axes or tuple(range(self.dim)))

    @property
    def boundary(self) -> Faces:
        """Every face of the box."""
        return self.faces()


class Slice(Domain):
    """The cross-section of a box at ``x[axis] = value``; see :meth:`Box.slice`."""

    def __init__(self, box: Box, axis: Axis, value: float | str, face: bool = False) -> None:
        self.box, self.axis, self.value, self.face = box, axis, value, face
        self.dim = box.dim
        if isinstance(axis, int):
            self._value(axis)  # an index is checked now; a name when the problem names axes

    def __repr__(self) -> str:
        return f"{self.box!r}.{'face' if self.face else 'slice'}({self.axis!r}, {self.value!r})"

    def _value(self, k: int) -> float:
        resolve_axis(k, None, self.dim)
        lo, hi = float(self.box.lo[k]), float(self.box.hi[k])
        v = self.value
        if isinstance(v, str):
            if v not in ("min", "max"):
                raise SirenkitError(f"face side must be a coordinate, 'min' or 'max', got {v!r}")
            return lo if v == "min" else hi
        v = float(v)
        if self.face and not (math.isclose(v, lo, abs_tol=1e-9) or math.isclose(v, hi)):
            raise SirenkitError(
                f"{self.axis!r} = {v:g} is not a face of {self.box!r}; its faces along "
                f"{self.axis!r} are at {lo:g} and {hi:g}"
            )
        if not lo - 1e-9 <= v <= hi + 1e-9:
            raise SirenkitError(f"slice {self.axis!r} = {v:g} lies outside [{lo:g}, {hi:g}]")
        return v

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        k = resolve_axis(self.axis, names, self.dim)
        x = self.box.sample(n, generator)
        x[:, k] = self._value(k)
        return x

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        k = resolve_axis(self.axis, names, self.dim)
        on = (x[:, k].to(torch.float64) - self._value(k)).abs() <= _EPS
        return on & self.box.contains(x)

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        if not self.face:
            return super().normals(x, names)
        k = resolve_axis(self.axis, names, self.dim)
        n = torch.zeros(len(x), self.dim, dtype=torch.float64)
        n[:, k] = -1.0 if math.isclose(self._value(k), float(self.box.lo[k])) else 1.0
        return n

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.box.bounds


def shares(weights: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """The part (index into ``weights``) each of ``n`` points goes to, in proportion to the
    weights, by systematic sampling: part ``i`` gets ``floor`` or ``ceil`` of ``n p_i`` points.
    Independent draws leave a part out by chance: two points on a segment's two end faces both
    landed on one end half the time, and an L-BFGS phase on such a batch never saw the other
    boundary condition."""
    cdf = (weights.double() / weights.sum()).cumsum(0)
    u = torch.rand(1, generator=generator, dtype=torch.float64)
    return torch.searchsorted(cdf, (torch.arange(n) + u) / n, right=True).clamp_max(len(cdf) - 1)


class Faces(Domain):
    """Both faces of a box along some axes, drawn in proportion to their areas."""

    def __init__(self, box: Box, axes: Sequence[Axis]) -> None:
        self.box, self.axes, self.dim = box, tuple(axes), box.dim

    def __repr__(self) -> str:
        return f"{self.box!r}.faces{self.axes!r}"

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        ks = [resolve_axis(a, names, self.dim) for a in self.axes]
        extent = self.box.hi - self.box.lo
        area = torch.stack([extent.prod() / extent[k] for k in ks for _ in "lh"])
        x = self.box.sample(n, generator)
        face = shares(area, n, generator)  # face 2i: axis ks[i] at lo, 2i + 1: at hi
        for i, k in enumerate(ks):
            x[face == 2 * i, k] = self.box.lo[k]
            x[face == 2 * i + 1, k] = self.box.hi[k]
        return x

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        ks = [resolve_axis(a, names, self.dim) for a in self.axes]
        x = x.to(torch.float64)
        on = torch.zeros(len(x), dtype=torch.bool)
        for k in ks:
            on |= ((x[:, k] - self.box.lo[k]).abs() <= _EPS) | (
                (x[:, k] - self.box.hi[k]).abs() <= _EPS
            )
        return on & self.box.contains(x)

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        """The normal of the nearest face (at an edge or corner, one of the faces meeting)."""
        ks = [resolve_axis(a, names, self.dim) for a in self.axes]
        x = x.to(torch.float64)
        gaps = torch.stack(
            [
                g
                for k in ks
                for g in ((x[:, k] - self.box.lo[k]).abs(), (self.box.hi[k] - x[:, k]).abs())
            ],
            -1,
        )
        which = gaps.argmin(-1)
        n = torch.zeros(len(x), self.dim, dtype=torch.float64)
        rows = torch.arange(len(x))
        n[rows, torch.as_tensor(ks)[which // 2]] = torch.where(which % 2 == 0, -1.0, 1.0).double()
        return n

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.box.bounds


def _rejection(
    inside, lo: torch.Tensor, hi: torch.Tensor, n: int, fraction: float, gen: torch.Generator
) -> torch.Tensor:
    """``n`` uniform points of a region from uniform draws in its box ``[lo, hi]``."""
    kept: list[torch.Tensor] = []
    have = 0
    for _ in range(1000):
        m = max(16, int(1.2 * (n - have) / max(fraction, 1e-3)))
        x = lo + (hi - lo) * _uniform(m, len(lo), gen)
        x = x[inside(x)]
        kept.append(x)
        have += len(x)
        if have >= n:
            return torch.cat(kept)[:n]
    raise SirenkitError("could not draw points: the domain is (almost) empty")


class Polygon(Domain):
    """A simple 2-D polygon (e.g. the L-shape) given by its vertices in order.

    Arguments:
        vertices: ``(V, 2)`` corners, clockwise or counter-clockwise, not repeated at the end.
    """

    def __init__(self, vertices: Sequence[Sequence[float]]) -> None:
        v = torch.as_tensor(np.asarray(vertices, dtype=np.float64))
        if v.dim() != 2 or v.shape[1] != 2 or len(v) < 3:
            raise SirenkitError(f"Polygon needs (V >= 3, 2) vertices, got {tuple(v.shape)}")
        self.vertices, self.dim = v, 2
        nxt = v.roll(-1, 0)
        self.area = float(0.5 * (v[:, 0] * nxt[:, 1] - nxt[:, 0] * v[:, 1]).sum().abs())
        if self.area <= 1e-12:
            raise SirenkitError("Polygon has no area (its vertices are collinear)")

    def __repr__(self) -> str:
        return f"Polygon({self.vertices.tolist()})"

    @property
    def measure(self) -> float:
        return self.area

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.vertices.min(0).values, self.vertices.max(0).values

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        x = x.to(torch.float64)
        a, b = self.vertices, self.vertices.roll(-1, 0)
        px, py = x[:, :1], x[:, 1:2]
        crosses = (a[:, 1] > py) != (b[:, 1] > py)
        t = (py - a[:, 1]) / torch.where(b[:, 1] == a[:, 1], 1.0, b[:, 1] - a[:, 1])
        xc = a[:, 0] + t * (b[:, 0] - a[:, 0])
        inside = (crosses & (px < xc)).sum(-1) % 2 == 1
        return inside | self.boundary.contains(x)

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        lo, hi = self.bounds
        return _rejection(self.contains, lo, hi, n, self.area / float((hi - lo).prod()), generator)

    @property
    def boundary(self) -> PolygonBoundary:
        """The polygon's edges, drawn in proportion to their lengths."""
        return PolygonBoundary(self.vertices)


class PolygonBoundary(Domain):
    """The edges of a polygon; see :attr:`Polygon.boundary`."""

    def __init__(self, vertices: torch.Tensor) -> None:
        self.a, self.b, self.dim = vertices, vertices.roll(-1, 0), 2
        self.lengths = (self.b - self.a).norm(dim=-1)
        ab = self.b - self.a
        ccw = float((self.a[:, 0] * self.b[:, 1] - self.b[:, 0] * self.a[:, 1]).sum()) > 0
        # (dy, -dx) points to the right of a -> b: outward when the vertices turn left (ccw)
        self._edge_normals = torch.stack([ab[:, 1], -ab[:, 0]], -1) / self.lengths[:, None]
        if not ccw:
            self._edge_normals = -self._edge_normals

    @property
    def measure(self) -> float:
        return float(self.lengths.sum())

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.a.min(0).values, self.a.max(0).values

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        edge = shares(self.lengths, n, generator)
        t = torch.rand((n, 1), generator=generator, dtype=torch.float64)
        return self.a[edge] + t * (self.b[edge] - self.a[edge])

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        x = x.to(torch.float64)[:, None]
        ab = self.b - self.a
        t = (((x - self.a) * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
        dist = (x - (self.a + t[..., None] * ab)).norm(dim=-1)
        return (dist <= _EPS).any(-1)

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        """The outward normal of the nearest edge (at a corner, one of the two)."""
        x = x.to(torch.float64)[:, None]
        ab = self.b - self.a
        t = (((x - self.a) * ab).sum(-1) / (ab * ab).sum(-1)).clamp(0, 1)
        dist = (x - (self.a + t[..., None] * ab)).norm(dim=-1)
        return self._edge_normals[dist.argmin(-1)]


class Annulus(Domain):
    """The 2-D ring ``inner <= |x - center| <= outer`` (a disc when ``inner`` is 0)."""

    def __init__(self, center: Sequence[float], inner: float, outer: float) -> None:
        self.center, self.inner, self.outer, self.dim = _vec(center, "center"), inner, outer, 2
        if len(self.center) != 2:
            raise SirenkitError(f"a disc or annulus is 2-D; got a {len(self.center)}-D center")
        if not 0 <= inner < outer:
            raise SirenkitError(
                f"disc/annulus has no area: needs 0 <= inner < outer, got {inner=}, {outer=}"
            )

    def __repr__(self) -> str:
        return f"Annulus({self.center.tolist()}, {self.inner}, {self.outer})"

    @property
    def measure(self) -> float:
        return math.pi * (self.outer**2 - self.inner**2)

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.center - self.outer, self.center + self.outer

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        u = _uniform(n, 2, generator)
        r = torch.sqrt(self.inner**2 + u[:, 0] * (self.outer**2 - self.inner**2))
        angle = 2 * math.pi * u[:, 1]
        return self.center + r[:, None] * torch.stack([angle.cos(), angle.sin()], -1)

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        r = (x.to(torch.float64) - self.center).norm(dim=-1)
        return (r >= self.inner - _EPS) & (r <= self.outer + _EPS)

    @property
    def boundary(self) -> Domain:
        """The circle(s) bounding the disc or ring."""
        outer = Circle(self.center, self.outer)
        return outer if self.inner == 0 else outer | Circle(self.center, self.inner, inward=True)


class Disc(Annulus):
    """The 2-D disc ``|x - center| <= radius``."""

    def __init__(self, center: Sequence[float], radius: float) -> None:
        super().__init__(center, 0.0, radius)


class Circle(Domain):
    """The circle ``|x - center| = radius`` (the boundary of a disc).

    Arguments:
        inward: its normals point to the center (the inner circle of a ring, whose outside
            is the hole).
    """

    def __init__(
        self, center: Sequence[float] | torch.Tensor, radius: float, *, inward: bool = False
    ) -> None:
        self.center, self.radius, self.dim = _vec(center, "center"), float(radius), 2
        self.inward = inward
        if radius <= 0:
            raise SirenkitError(f"circle radius must be positive, got {radius}")

    def __repr__(self) -> str:
        return f"Circle({self.center.tolist()}, {self.radius})"

    @property
    def measure(self) -> float:
        return 2 * math.pi * self.radius

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.center - self.radius, self.center + self.radius

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        angle = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        return self.center + self.radius * torch.stack([angle.cos(), angle.sin()], -1)

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        return ((x.to(torch.float64) - self.center).norm(dim=-1) - self.radius).abs() <= _EPS

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        r = x.to(torch.float64) - self.center
        n = r / r.norm(dim=-1, keepdim=True).clamp_min(1e-300)
        return -n if self.inward else n


class Difference(Domain):
    """The points of ``a`` outside ``b`` (``a - b``), drawn from ``a`` by rejection."""

    def __init__(self, a: Domain, b: Domain) -> None:
        a._check_dim(b)
        self.a, self.b, self.dim = a, b, a.dim

    def __repr__(self) -> str:
        return f"({self.a!r} - {self.b!r})"

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.a.bounds

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        return self.a.contains(x, names) & ~self._inside_b(x, names)

    def _inside_b(self, x: torch.Tensor, names: Names) -> torch.Tensor:
        return self.b.contains(x, names)

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        kept: list[torch.Tensor] = []
        have = 0
        for _ in range(1000):
            x = self.a.sample(max(16, 2 * (n - have)), generator, names)
            x = x[~self._inside_b(x, names)]
            kept.append(x)
            have += len(x)
            if have >= n:
                return torch.cat(kept)[:n]
        raise SirenkitError(f"{self!r} has no volume: every point drawn from it was removed")


class Union(Domain):
    """The points of ``a`` or ``b`` (``a | b``), uniform on the union."""

    def __init__(self, a: Domain, b: Domain) -> None:
        a._check_dim(b)
        self.a, self.b, self.dim = a, b, a.dim

    def __repr__(self) -> str:
        return f"({self.a!r} | {self.b!r})"

    @property
    def measure(self) -> float:
        return self.a.measure + self.b.measure  # an upper bound where they overlap

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        (la, ha), (lb, hb) = self.a.bounds, self.b.bounds
        return torch.minimum(la, lb), torch.maximum(ha, hb)

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        return self.a.contains(x, names) | self.b.contains(x, names)

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        in_a = self.a.contains(x, names)
        n = torch.zeros(len(x), self.dim, dtype=torch.float64)
        if in_a.any():  # each part asked only for its own points
            n[in_a] = self.a.normals(x[in_a], names)
        if not in_a.all():
            n[~in_a] = self.b.normals(x[~in_a], names)
        return n

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        # Draw from a or b in proportion to their measures; drop b's points inside a (counted
        # by a already), so the union is covered uniformly.
        ma, mb = self.a.measure, self.b.measure
        kept: list[torch.Tensor] = []
        have = 0
        for _ in range(1000):
            m = max(16, 2 * (n - have))
            na = int((torch.rand(m, generator=generator) < ma / (ma + mb)).sum())
            xb = self.b.sample(m - na, generator, names)
            x = torch.cat([self.a.sample(na, generator, names), xb[~self.a.contains(xb, names)]])
            x = x[torch.randperm(len(x), generator=generator)]
            kept.append(x)
            have += len(x)
            if have >= n:
                return torch.cat(kept)[:n]
        raise SirenkitError(f"could not draw points from {self!r}")


class Product(Domain):
    """The points ``(p, q)`` with ``p`` in ``a`` and ``q`` in ``b`` (``a * b``): a spatial
    domain over a time interval, ``disc * sk.domains.Box([0], [1])``; its lateral boundary,
    ``disc.boundary * time``; its initial slice, ``disc * time.face("t", 0)``. The problem's
    first ``a.dim`` axis names belong to ``a``, the rest to ``b``."""

    def __init__(self, a: Domain, b: Domain) -> None:
        self.a, self.b, self.dim = a, b, a.dim + b.dim

    def __repr__(self) -> str:
        return f"({self.a!r} * {self.b!r})"

    def _names(self, names: Names) -> tuple[Names, Names]:
        if names is None:
            return None, None
        return tuple(names[: self.a.dim]), tuple(names[self.a.dim :])

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        na, nb = self._names(names)
        return torch.cat([self.a.sample(n, generator, na), self.b.sample(n, generator, nb)], -1)

    def contains(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        na, nb = self._names(names)
        k = self.a.dim
        return self.a.contains(x[:, :k], na) & self.b.contains(x[:, k:], nb)

    def normals(self, x: torch.Tensor, names: Names = None) -> torch.Tensor:
        """The normal of whichever factor is a boundary (zero along the other's axes)."""
        na, nb = self._names(names)
        k = self.a.dim
        try:
            n = self.a.normals(x[:, :k], na)
            return torch.cat([n, torch.zeros(len(x), self.b.dim, dtype=n.dtype)], -1)
        except SirenkitError:
            n = self.b.normals(x[:, k:], nb)
            return torch.cat([torch.zeros(len(x), k, dtype=n.dtype), n], -1)

    @property
    def measure(self) -> float:
        return self.a.measure * self.b.measure

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        (la, ha), (lb, hb) = self.a.bounds, self.b.bounds
        return torch.cat([la, lb]), torch.cat([ha, hb])


def _read_table(path: Path) -> np.ndarray:
    """A text table of numbers: comma- or whitespace-separated, with or without one header
    line of column names (what a spreadsheet or pandas writes)."""
    with open(path) as fh:
        lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise SirenkitError(f"{path}: no rows")
    sep = "," if "," in lines[0] else None

    def numbers(line: str) -> list[float] | None:
        try:
            return [float(c) for c in line.split(sep)]
        except ValueError:
            return None

    if numbers(lines[0]) is None:
        lines = lines[1:]  # a header
    rows = []
    for i, line in enumerate(lines):
        row = numbers(line)
        if row is None or (rows and len(row) != len(rows[0])):
            what = "a cell that is not a number" if row is None else f"{len(row)} columns"
            raise SirenkitError(f"{path}: row {i + 1} of the data has {what}: {line.strip()!r}")
        rows.append(row)
    if not rows:
        raise SirenkitError(f"{path}: a header and no rows")
    return np.asarray(rows, dtype=np.float64)


class PointSet(Domain):
    """Given points, optionally with values there (a data constraint reads them as ``f.data``).

    Arguments:
        points: ``(N, dim)`` coordinates.
        values: ``(N, k)`` (or ``(N,)``) values at the points, or None.
        replace: draw with replacement (``O(n)`` per step instead of a permutation of all N:
            for large sets, e.g. the 400k-point pool of an SDF fit, where the permutation
            costs ~4 ms a step).

    A constraint with ``points=n`` smaller than N draws a random subset each step; otherwise
    it uses every point.
    """

    def __init__(self, points, values=None, *, replace: bool = False) -> None:
        self.replace = replace
        p = torch.as_tensor(np.asarray(points, dtype=np.float64))
        if p.dim() == 1:
            p = p[:, None]
        if p.dim() != 2 or len(p) == 0:
            raise SirenkitError(f"PointSet needs (N, dim) points, got shape {tuple(p.shape)}")
        if not torch.isfinite(p).all():
            raise SirenkitError(
                f"PointSet: {int((~torch.isfinite(p)).sum())} non-finite coordinates"
            )
        self.points, self.dim, self.values = p, p.shape[1], None
        if values is not None:
            v = torch.as_tensor(np.asarray(values, dtype=np.float64))
            v = v[:, None] if v.dim() == 1 else v.reshape(len(v), -1)
            if len(v) != len(p):
                raise SirenkitError(f"PointSet has {len(p)} points but {len(v)} values")
            bad = int((~torch.isfinite(v)).sum())
            if bad:
                raise SirenkitError(f"PointSet values hold {bad} NaN or infinite entries")
            self.values = v

    def __repr__(self) -> str:
        return f"PointSet({len(self.points)} points)"

    @classmethod
    def load(cls, path: str | Path, points: str = "x", values: str | None = "y") -> PointSet:
        """Points (and values) from a ``.npz`` (arrays named ``points`` and ``values``), or
        from a ``.npy`` / ``.csv`` / ``.txt`` table whose first columns are the coordinates and
        last column the value (``values=None``: coordinates only)."""
        p = require_file(path, "point file")
        if p.suffix == ".npz":
            with np.load(p) as d:
                missing = [k for k in (points, values) if k is not None and k not in d]
                if missing:
                    raise SirenkitError(f"{p}: no array {missing[0]!r}; it has {', '.join(d)}")
                return cls(d[points], None if values is None else d[values])
        table = np.load(p) if p.suffix == ".npy" else _read_table(p)
        if values is None:
            return cls(table)
        if table.ndim != 2 or table.shape[1] < 2:
            raise SirenkitError(
                f"{p}: a table of points and values needs at least 2 columns, it has "
                f"{table.shape[1] if table.ndim == 2 else 1} (values=None: coordinates only)"
            )
        return cls(table[:, :-1], table[:, -1:])

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.points.min(0).values, self.points.max(0).values

    def sample(self, n: int, generator: torch.Generator, names: Names = None) -> torch.Tensor:
        return self.draw(n, generator, names)[0]

    def draw(
        self, n: int | None, generator: torch.Generator, names: Names = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if n is None or (n >= len(self.points) and not self.replace):
            return self.points, self.values
        if self.replace:
            idx = torch.randint(len(self.points), (n,), generator=generator)
        else:
            idx = torch.randperm(len(self.points), generator=generator)[:n]
        return self.points[idx], None if self.values is None else self.values[idx]


__all__ = [
    "Annulus",
    "Box",
    "Circle",
    "Difference",
    "Disc",
    "Domain",
    "Faces",
    "PointSet",
    "Polygon",
    "PolygonBoundary",
    "Product",
    "Slice",
    "Union",
]
