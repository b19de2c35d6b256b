"""The network's field at a batch of points, as a residual sees it.

A residual asks by name for what it needs (``f.u``, ``f.d("t")``, ``f.d("x", "x")``,
``f.lap``...). Nothing is computed before it is asked for, and each quantity is computed once
per step: first and second derivatives come from one call of the derivative engine
(:func:`sirenkit.derivatives.value_and_derivatives`, the closed form for sine networks, autograd
otherwise) covering everything the residual asked for on its previous call, so from the second
step on one pass serves the whole residual. Derivatives of third and higher order go through
nested autograd.

A hard constraint (``Problem(transform=...)``: the field is ``T(x, net(x))``, as DeepXDE's
output transform) keeps the fast engine: the network's derivatives are computed as usual and
the transform is differentiated by autograd on the network's second-order Taylor polynomial at
each point, which has the same value and first and second derivatives there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..derivatives import value_and_derivatives
from ..errors import SirenkitError
from .domains import Domain, resolve_axis

Transform = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``T(x, y) -> u``: the field ``u`` from the points ``x`` ``(N, d)`` and the network's output."""

LEVELS = ("grad", "lap", "diag", "full")
"""What one engine call can carry, besides the value; ``"diag<k>"`` (``"diag0"``...) is the
pure second derivative along axis ``k`` alone (``f.d("x", "x")``: the engine carries only the
axes asked for, so Burgers' ``u_xx`` does not cost ``u_tt`` too)."""


class Field:
    """The field ``u`` at points ``x`` ``(N, d)``, with its derivatives on demand.

    Arguments:
        model: the network ``(N, d) -> (N, m)``.
        x: the points.
        names: the axes' names (``("x", "t")``); ``d`` also takes indices.
        data: values a data constraint gives at the points (``f.data``), or None.
        transform: output transform of a hard constraint, or None.
        plan: engine levels to compute at the first request (what the residual asked for
            last time), see :data:`LEVELS`.
        domain: the domain the points were drawn from (:attr:`normal` asks it for normals).
        outputs: the outputs' names (``("u", "v", "p")``), which ``f["p"]`` reads by; None:
            by index only.
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        names: Sequence[str],
        *,
        data: torch.Tensor | None = None,
        transform: Transform | None = None,
        plan: set[str] | None = None,
        domain: Domain | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        self.model, self.x, self.names, self.transform = model, x, tuple(names), transform
        self.outputs = None if outputs is None else tuple(outputs)
        self._domain = domain
        self._data = data
        self.asked: set[str] = set()
        """Engine levels the residual asked for (the next step's ``plan``)."""
        self._plan = set(plan or ())
        self._have: set[str] | None = None
        self._value: torch.Tensor | None = None
        self._grad: torch.Tensor | None = None
        self._diag: torch.Tensor | None = None
        self._diag_axes: set[int] | None = None
        """The axes ``_diag`` holds (None: all)."""
        self._lap: torch.Tensor | None = None
        self._hess: torch.Tensor | None = None
        self._high: dict[tuple[int, ...], torch.Tensor] = {}
        self._leaf: torch.Tensor | None = None
        self._moved: dict[tuple, Field] = {}
        self.engine_calls = 0
        """Passes of the derivative engine so far (tests check the cache with it)."""
        self._create_graph = torch.is_grad_enabled()

    # -- what a residual reads ----------------------------------------------------------------
    @property
    def u(self) -> torch.Tensor:
        """The field's values, ``(N, m)`` (``f.u[:, i]`` is output ``i``)."""
        if self._value is None:
            self._compute(set())
        return self._value

    @property
    def data(self) -> torch.Tensor:
        """The values a data domain (:class:`~sirenkit.problems.domains.PointSet`) gives here."""
        if self._data is None:
            raise SirenkitError("f.data: this constraint's domain carries no values (PointSet)")
        return self._data

    def coord(self, axis: str | int) -> torch.Tensor:
        """One coordinate of the points, ``(N, 1)`` (``f.coord("t")``)."""
        k = resolve_axis(axis, self.names, self.x.shape[1])
        return self.x[:, k : k + 1]

    @property
    def normal(self) -> torch.Tensor:
        """The outward unit normal of the boundary at the points, ``(N, d)`` (the
        constraint's domain must be a boundary: box faces, polygon edges, circles)."""
        if self._domain is None:
            raise SirenkitError("f.normal: these points come from no domain with normals")
        return self._domain.normals(self.x.detach(), self.names).to(self.x)

    @property
    def dn(self) -> torch.Tensor:
        """The normal derivative ``grad u . n`` of every output, ``(N, m)`` (Neumann and
        Robin conditions: ``f.dn - g``, ``f.dn + a * f.u - g``)."""
        g = self._need("grad", self._grad_of)
        return (g * self.normal[:, None, :]).sum(-1)

    def d(self, *axes: str | int) -> torch.Tensor:
        """The partial derivative along ``axes`` (``f.d("x", "x")`` is u_xx), ``(N, m)``."""
        if not axes:
            return self.u
        ks = tuple(sorted(resolve_axis(a, self.names, self.x.shape[1]) for a in axes))
        if len(ks) == 1:
            return self._need("grad", self._grad_of)[..., ks[0]]
        if len(ks) == 2 and ks[0] == ks[1]:
            return self._need(f"diag{ks[0]}", lambda: self._diag_along(ks[0]))[..., ks[0]]
        if len(ks) == 2:
            return self._need("full", self._hess_of)[..., ks[0], ks[1]]
        return self._higher(ks)

    @property
    def grad(self) -> torch.Tensor:
        """The gradient: ``(N, d)`` for one output, the Jacobian ``(N, m, d)`` for several."""
        g = self._need("grad", self._grad_of)
        return g[:, 0] if g.shape[1] == 1 else g

    @property
    def lap(self) -> torch.Tensor:
        """The Laplacian of every output (sum over all axes), ``(N, m)``."""
        return self._need("lap", self._lap_of)

    @property
    def hessian(self) -> torch.Tensor:
        """Second derivatives: ``(N, d, d)`` for one output, ``(N, m, d, d)`` for several."""
        h = self._need("full", self._hess_of)
        return h[:, 0] if h.shape[1] == 1 else h

    @property
    def div(self) -> torch.Tensor:
        """The divergence of the output vector (needs as many outputs as axes), ``(N, 1)``."""
        g = self._need("grad", self._grad_of)
        if g.shape[1] != g.shape[2]:
            raise SirenkitError(
                f"f.div needs one output per axis ({g.shape[2]}); the field has {g.shape[1]}"
            )
        return g.diagonal(dim1=1, dim2=2).sum(-1, keepdim=True)

    def at(self, **coords: float | torch.Tensor) -> Field:
        """The field at the same points with some coordinates replaced: ``f.at(x=1)`` on the
        face x = -1 gives a periodic condition (``f.u - f.at(x=1).u``, and ``f.d("x") -
        f.at(x=1).d("x")`` for its derivative), ``f.at(x=-f.coord("x"))`` a symmetry. Its
        derivatives are those at the new points (no chain rule through the replacement)."""
        if not coords:
            raise SirenkitError("f.at needs a coordinate to replace, e.g. f.at(x=1.0)")
        key = tuple(sorted((k, v) for k, v in coords.items() if isinstance(v, int | float)))
        if len(key) == len(coords) and key in self._moved:
            return self._moved[key]
        x = self.x.detach().clone()
        for axis, value in coords.items():
            k = resolve_axis(axis, self.names, x.shape[1])
            v = torch.as_tensor(value, dtype=x.dtype, device=x.device).detach()
            if v.dim() == 2 and v.shape[1] == 1:
                v = v[:, 0]
            if v.dim() > 1 or (v.dim() == 1 and len(v) != len(x)):
                raise SirenkitError(
                    f"f.at({axis}=...): a number or one value per point ({len(x)}, 1) is "
                    f"needed, got shape {tuple(v.shape)}"
                )
            if not torch.isfinite(v).all():
                raise SirenkitError(f"f.at({axis}=...): the new coordinates hold NaN or inf")
            x[:, k] = v
        moved = Field(self.model, x, self.names, transform=self.transform, outputs=self.outputs)
        moved._create_graph = self._create_graph
        if len(key) == len(coords):
            self._moved[key] = moved
        return moved

    def __getitem__(self, key: str | int) -> OutputField:
        """One output, by its name in ``Problem(outputs=("u", "v", "p"))`` or its index:
        ``f["p"].d("x")`` is ``f.d("x")[:, 2:3]``."""
        m = self.u.shape[1]
        if isinstance(key, str) and self.outputs is not None and key in self.outputs:
            return OutputField(self, self.outputs.index(key))
        if isinstance(key, int) and not isinstance(key, bool) and -m <= key < m:
            return OutputField(self, key % m)
        named = f"; its outputs are: {', '.join(self.outputs)}" if self.outputs else ""
        if isinstance(key, str) and self.outputs is None:
            named = ' (name them: Problem(..., outputs=("u", "v")))'
        raise SirenkitError(f"f[{key!r}]: no such output; the field has {m}{named}")

    @property
    def complex(self) -> ComplexField:
        """The same field read as complex: outputs (0, 1) are the real and imaginary parts of
        the first complex output, (2, 3) of the second..."""
        return ComplexField(self)

    # -- computing -----------------------------------------------------------------------------
    def _need(self, level: str, get: Callable[[], torch.Tensor | None]) -> torch.Tensor:
        self.asked.add(level)
        out = get()
        if out is None:
            self._compute({level})
            out = get()
        return out

    def _grad_of(self) -> torch.Tensor | None:
        return self._grad

    def _lap_of(self) -> torch.Tensor | None:
        if self._lap is None and self._diag is not None and self._diag_axes is None:
            self._lap = self._diag.sum(-1)
        if self._lap is None and self._hess is not None:
            self._lap = self._hess.diagonal(dim1=-2, dim2=-1).sum(-1)
        return self._lap

    def _diag_of(self) -> torch.Tensor | None:
        if self._diag is None and self._hess is not None:
            self._diag, self._diag_axes = self._hess.diagonal(dim1=-2, dim2=-1), None
        return self._diag if self._diag_axes is None else None

    def _diag_along(self, k: int) -> torch.Tensor | None:
        """The Hessian diagonal if it holds axis ``k`` (all of it, or the axes asked for)."""
        full = self._diag_of()
        if full is not None or self._diag is None:
            return full
        return self._diag if k in self._diag_axes else None

    def _hess_of(self) -> torch.Tensor | None:
        return self._hess

    def _compute(self, levels: set[str]) -> None:
        """One engine pass covering ``levels``, what was computed before and the plan."""
        want = levels | self._plan | (self._have or set())
        self._plan = set()
        along = {int(level[4:]) for level in want if level.startswith("diag") and level != "diag"}
        # a Laplacian or a transform's Taylor polynomial needs every axis: the whole diagonal
        if along and (want & {"lap", "diag"} or self.transform is not None):
            want = (want - {f"diag{k}" for k in along}) | {"diag"}
            along = set()
        if "full" in want:
            want -= {"diag", "lap"} | {f"diag{k}" for k in along}
            along = set()
        if "diag" in want:
            want.discard("lap")
        self.engine_calls += 1
        # A transform's second derivatives need the network's along the same axes; a
        # Laplacian alone does not give them.
        if self.transform is not None and "lap" in want:
            want = (want - {"lap"}) | {"diag"}
        out = value_and_derivatives(
            self.model,
            self.x,
            gradient=bool(want),
            laplacian="lap" in want,
            hessian_diagonal=sorted(along) if along else "diag" in want,
            hessian="full" in want,
            create_graph=self._create_graph,
        )
        self._have = want
        self._diag = self._lap = self._hess = None
        self._diag_axes = along if along and len(along) < self.x.shape[1] else None
        if self.transform is None:
            self._value, self._grad = out.value, out.gradient
            self._lap, self._diag, self._hess = out.laplacian, out.hessian_diagonal, out.hessian
        else:
            self._transformed(out.value, out.gradient, out.hessian_diagonal, out.hessian, want)

    def _transformed(self, y, jac, diag, hess, want: set[str]) -> None:
        """Value and derivatives of ``T(x, y(x))`` from the network's (Taylor polynomial)."""
        with torch.enable_grad():
            x = self.x.detach().requires_grad_(True)
            dx = x - self.x.detach()
            taylor = y
            if jac is not None:
                taylor = taylor + (jac * dx[:, None, :]).sum(-1)
            if hess is not None:
                taylor = taylor + 0.5 * torch.einsum("nmij,ni,nj->nm", hess, dx, dx)
            elif diag is not None:
                taylor = taylor + 0.5 * (diag * (dx * dx)[:, None, :]).sum(-1)
            u = self._apply_transform(x, taylor)
            self._value = u if self._create_graph else u.detach()
            if not want:
                return
            cg = self._create_graph
            second = bool(want & {"diag", "full"})
            grads = [_grad(u[:, c], x, cg or second) for c in range(u.shape[1])]
            self._grad = torch.stack(grads, 1)
            if "full" in want:
                rows = [
                    torch.stack([_grad(g[:, i], x, cg) for i in range(x.shape[1])], 1)
                    for g in grads
                ]
                self._hess = torch.stack(rows, 1)
            elif "diag" in want:
                cols = [
                    torch.stack([_grad(g[:, i], x, cg)[:, i] for i in range(x.shape[1])], -1)
                    for g in grads
                ]
                self._diag = torch.stack(cols, 1)
            if not cg:
                for name in ("_grad", "_hess", "_diag"):
                    t = getattr(self, name)
                    if t is not None:
                        setattr(self, name, t.detach())

    def _apply_transform(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        u = self.transform(x, y)
        if u.dim() == 1:
            u = u[:, None]
        broadcast = u.dim() == 2 and u.shape[1] == x.shape[0] != y.shape[-1]
        if u.shape[0] != x.shape[0] or u.dim() != 2 or broadcast:
            raise SirenkitError(
                f"the output transform returned shape {tuple(u.shape)} for {x.shape[0]} points "
                f"and a network output of {tuple(y.shape)}; expected ({x.shape[0]}, outputs): "
                "keep the batch axis (x[:, :1], not x[:, 0])"
            )
        return u

    def _higher(self, ks: tuple[int, ...]) -> torch.Tensor:
        """A derivative of order >= 3 by nested autograd (cached by multi-index)."""
        self.asked.add("grad")
        if ks in self._high:
            return self._high[ks]
        if self._leaf is None:
            with torch.enable_grad():
                self._leaf = self.x.detach().requires_grad_(True)
                y = self.model(self._leaf)
                if self.transform is not None:
                    y = self._apply_transform(self._leaf, y)
                self._high[()] = y
        with torch.enable_grad():
            prev = self._high.get(ks[:-1])
            if prev is None:
                prev = self._higher(ks[:-1])
            cols = [_grad(prev[:, c], self._leaf, True)[:, ks[-1]] for c in range(prev.shape[1])]
            out = torch.stack(cols, -1)
        if not self._create_graph:
            out = out.detach()
        self._high[ks] = out
        return out


def _grad(y: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(
        y.sum(), x, create_graph=create_graph, retain_graph=True, allow_unused=True
    )
    return torch.zeros_like(x) if g is None else g


def _pairs(t: torch.Tensor) -> torch.Tensor:
    """Channels (2k, 2k + 1) of axis 1 as the real and imaginary parts of complex channel k."""
    if t.shape[1] % 2:
        raise SirenkitError(
            f"a complex field needs an even number of outputs (real, imaginary); got {t.shape[1]}"
        )
    return torch.complex(t[:, 0::2], t[:, 1::2])


class ComplexField:
    """A :class:`Field` with outputs paired into complex values (``f.complex``)."""

    def __init__(self, field: Field) -> None:
        self.field = field

    @property
    def u(self) -> torch.Tensor:
        """Complex values ``(N, m / 2)``."""
        return _pairs(self.field.u)

    @property
    def dn(self) -> torch.Tensor:
        """Complex normal derivative on a boundary, ``(N, m / 2)``."""
        return _pairs(self.field.dn)

    def d(self, *axes: str | int) -> torch.Tensor:
        """Complex partial derivative along ``axes``, ``(N, m / 2)``."""
        return _pairs(self.field.d(*axes))

    @property
    def lap(self) -> torch.Tensor:
        """Complex Laplacian ``(N, m / 2)``."""
        return _pairs(self.field.lap)

    @property
    def grad(self) -> torch.Tensor:
        """Complex Jacobian ``(N, m / 2, d)``."""
        return _pairs(self.field._need("grad", self.field._grad_of))


class OutputField:
    """One output of a :class:`Field` (``f["p"]``, ``f[2]``): the same quantities, each
    ``(N, 1)`` (``grad`` ``(N, d)``, ``hessian`` ``(N, d, d)``), from the same engine pass."""

    def __init__(self, field: Field, index: int) -> None:
        self.field, self.index = field, index
        self._cols = slice(index, index + 1)

    @property
    def u(self) -> torch.Tensor:
        """The output's values ``(N, 1)``."""
        return self.field.u[:, self._cols]

    def d(self, *axes: str | int) -> torch.Tensor:
        """Its partial derivative along ``axes``, ``(N, 1)``."""
        return self.field.d(*axes)[:, self._cols]

    @property
    def lap(self) -> torch.Tensor:
        """Its Laplacian ``(N, 1)``."""
        return self.field.lap[:, self._cols]

    @property
    def dn(self) -> torch.Tensor:
        """Its normal derivative on a boundary ``(N, 1)``."""
        return self.field.dn[:, self._cols]

    @property
    def grad(self) -> torch.Tensor:
        """Its gradient ``(N, d)``."""
        return self.field._need("grad", self.field._grad_of)[:, self.index]

    @property
    def hessian(self) -> torch.Tensor:
        """Its Hessian ``(N, d, d)``."""
        return self.field._need("full", self.field._hess_of)[:, self.index]
