"""A problem is the paper's equation 1: constraints ``C_m(x, u, grad u, ...) = 0`` on domains.

The loss is ``sum_m weight_m * mean over sampled x in Omega_m of |C_m|^2``; points are drawn
afresh every step. A residual is any function of the field (:class:`~.field.Field`) returning
one value (or ``k`` values) per point, real or complex.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ..errors import SirenkitError, require_file
from .domains import Domain, PointSet
from .field import Field, Transform

Residual = Callable[[Field], torch.Tensor]


@dataclass
class Constraint:
    """``residual(f) = 0`` on ``domain``, enforced at ``points`` random points per step.

    Arguments:
        domain: where it holds (:mod:`sirenkit.problems.domains`).
        residual: ``f -> (N,)`` or ``(N, k)`` tensor, zero where the constraint holds.
        points: points drawn per step; None for a point set means all its points.
        weight: factor of this constraint's mean penalty in the loss; a tuple gives each of
            the residual's ``k`` columns its own: ``sum_k weight_k * mean_points pen(r_k)``
            (several terms on the same points, from one pass of the derivative engine).
        name: shown in the logs (default: the residual function's name when no other
            constraint's has it, else ``c0``, ``c1``... by position; lambdas get the latter).
        penalty: ``square`` (``|r|^2``, the default) or ``abs`` (``|r|``: the norm of the
            paper's equation 1, robust to outliers; the SDF losses are of this kind).
        parts: names of the residual's columns, each logged on its own (unweighted mean
            penalty) as ``loss_<part>``.
        adaptive: residual-based points for the L-BFGS phase (RAD, Wu et al. 2023): its one
            fixed batch keeps ``points`` of ``adaptive * points`` uniform candidates, drawn
            without replacement with probability proportional to ``|residual| / mean
            |residual| + 1`` at the weights Adam ended with, so they gather where the residual
            is large (a shock). Adam's batches stay uniform, fresh every step. 1 (default):
            uniform L-BFGS points too.
    """

    domain: Domain
    residual: Residual
    points: int | None = None
    weight: float | tuple[float, ...] = 1.0
    name: str | None = None
    adaptive: int = 1
    penalty: Literal["square", "abs"] = "square"
    parts: tuple[str, ...] | None = None
    plan: set[str] | None = field(default=None, repr=False, compare=False)
    """The derivatives its residual asks for (learnt on two points before the first use), so
    that every evaluation computes them in one pass, the same way (a resumed run repeats an
    uninterrupted one bit for bit)."""


@dataclass
class Batch:
    """The points (and data values) of every constraint for one step."""

    points: list[torch.Tensor]
    data: list[torch.Tensor | None]
    noise: list[torch.Tensor | None]
    """Uniform draws that pick an adaptive constraint's points among its candidates (drawn with
    the run's generator, so the pick is reproducible); None once picked, or for uniform ones."""

    def shard(self, rank: int, world: int) -> Batch:
        """This rank's slice of every constraint's points (and data) under data-parallel
        training: each rank's mean over its slice, averaged over ranks, is the mean over the
        whole draw. A constraint with fewer points than ranks, or whose points are candidates
        still to be picked (adaptive), stays whole on every rank (its mean is the same on all)."""

        def part(t: torch.Tensor | None, whole: bool) -> torch.Tensor | None:
            return t if t is None or whole else torch.tensor_split(t, world)[rank]

        whole = [
            len(p) < world or u is not None for p, u in zip(self.points, self.noise, strict=True)
        ]
        return Batch(
            [part(p, w) for p, w in zip(self.points, whole, strict=True)],
            [part(d, w) for d, w in zip(self.data, whole, strict=True)],
            list(self.noise),
        )

    def to(self, device: torch.device) -> Batch:
        return Batch(
            [p.to(device) for p in self.points],
            [None if d is None else d.to(device) for d in self.data],
            [None if u is None else u.to(device) for u in self.noise],
        )


class Problem:
    """Constraints on domains, the field's axis names and outputs, and an optional hard
    constraint.

    Arguments:
        constraints: the :class:`Constraint` list.
        names: one name per coordinate axis, e.g. ``("x", "t")``; residuals use them in
            ``f.d("t")`` and domains in ``box.face("t", 0)``.
        outputs: the number of network outputs (2 per complex field), or their names
            (``("u", "v", "p")``): residuals then read ``f["p"].d("x")``, and figures, summaries
            and errors against a reference say each output by name.
        transform: hard constraint, ``T(x, y) -> u``: the field is ``T`` of the points and the
            network's output, e.g. ``lambda x, y: x[:, 1:] * y - torch.sin(pi * x[:, :1])`` to
            impose ``u(x, 0) = -sin(pi x)`` exactly (DeepXDE's ``apply_output_transform``).
        unknowns: coefficients found with the field (an inverse problem), by name: each a
            ``torch.nn.Parameter`` that residuals use directly, e.g. ``nu =
            nn.Parameter(torch.tensor(0.05))`` and ``f.d("t") - nu * f.d("x", "x")``. They
            are trained with the network, logged under their names and checkpointed.
        name: short name for run folders.
    """

    def __init__(
        self,
        constraints: Sequence[Constraint],
        names: Sequence[str],
        *,
        outputs: int | Sequence[str] = 1,
        transform: Transform | None = None,
        unknowns: Mapping[str, nn.Parameter] | None = None,
        name: str = "problem",
    ) -> None:
        self.constraints = list(constraints)
        self.unknowns = check_unknowns(unknowns or {})
        self.start = {k: p.detach().clone() for k, p in self.unknowns.items()}
        """The unknowns' given values, where every fresh run starts them."""
        self.names = tuple(names)
        self.output_names = _output_names(outputs)
        self.outputs = len(self.output_names) if self.output_names else int(outputs)
        self.transform, self.name = transform, name
        if not self.constraints:
            raise SirenkitError("a Problem needs at least one Constraint")
        if len(set(self.names)) != len(self.names) or not all(self.names):
            raise SirenkitError(f"axis names must be distinct and non-empty, got {self.names}")
        if self.outputs < 1:
            raise SirenkitError(f"outputs must be at least 1, got {outputs}")
        for i, c in enumerate(self.constraints):
            if not isinstance(c, Constraint):
                raise SirenkitError(f"constraint {i} is a {type(c).__name__}, not a Constraint")
        defaults = _default_names(self.constraints)
        for c, default in zip(self.constraints, defaults, strict=True):
            c.name = c.name or default
            if c.domain.dim != self.dim:
                raise SirenkitError(
                    f"constraint {c.name}: its domain is {c.domain.dim}-D but the problem has "
                    f"{self.dim} axes {self.names}"
                )
            if c.points is not None and c.points < 1:
                raise SirenkitError(f"constraint {c.name}: points must be positive")
            if c.adaptive < 1:
                raise SirenkitError(f"constraint {c.name}: adaptive must be >= 1")
            weights = c.weight if isinstance(c.weight, tuple) else (c.weight,)
            if not all(w >= 0 for w in weights):
                raise SirenkitError(f"constraint {c.name}: weight must be >= 0, got {c.weight}")
            if c.parts is not None and len(set(c.parts)) != len(c.parts):
                raise SirenkitError(f"constraint {c.name}: part names repeat: {c.parts}")
            if c.penalty not in ("square", "abs"):
                raise SirenkitError(
                    f"constraint {c.name}: penalty must be square or abs, got {c.penalty!r}"
                )

        logged = [c.name for c in self.constraints]
        logged += [p for c in self.constraints for p in c.parts or ()]
        if len(set(logged)) != len(logged):
            raise SirenkitError(
                f"constraint and part names must differ (each is logged as loss_NAME): {logged}"
            )
        taken = {f"loss_{n}" for n in logged} | {f"rms_{c.name}" for c in self.constraints}
        clash = sorted(set(self.unknowns) & taken)
        if clash:
            raise SirenkitError(f"unknown {clash[0]!r} has the log name of a constraint's loss")

    @property
    def dim(self) -> int:
        return len(self.names)

    def sample(self, generator: torch.Generator, adaptive: bool = False) -> Batch:
        """One step's points for every constraint (float32); with ``adaptive``, candidates for
        the constraints that pick their points by residual (picked on first use)."""
        points, data, noise = [], [], []
        for c in self.constraints:
            k = c.adaptive if adaptive else 1
            n = c.points if k == 1 or c.points is None else c.points * k
            x, d = c.domain.draw(n, generator, self.names)
            points.append(x.to(torch.get_default_dtype()))
            data.append(None if d is None else d.to(torch.get_default_dtype()))
            pick = k > 1 and c.points is not None and len(x) > c.points
            noise.append(torch.rand(len(x), generator=generator) if pick else None)
        return Batch(points, data, noise)

    def _pick(self, c: Constraint, model: nn.Module, batch: Batch, i: int) -> None:
        """Keep ``c.points`` of constraint ``i``'s candidates, favouring large residuals
        (Gumbel top-k: sampling without replacement in one pass)."""
        x, d, u = batch.points[i], batch.data[i], batch.noise[i]
        with torch.no_grad():
            r = self.residual(c, model, x, d).abs().pow(2).sum(-1).sqrt()
        w = r / r.mean().clamp_min(1e-30) + 1
        keys = w.log() - (-u.to(w.device).clamp_min(1e-12).log()).log()
        idx = keys.topk(c.points).indices
        batch.points[i] = x[idx]
        batch.data[i] = None if d is None else d[idx]
        batch.noise[i] = None

    def field(self, model: nn.Module, x: torch.Tensor, data=None, plan=None, domain=None) -> Field:
        """The field of ``model`` at ``x`` (with the hard constraint applied); ``domain``:
        where the points were drawn (``f.normal`` asks it)."""
        return Field(
            model,
            x,
            self.names,
            data=data,
            transform=self.transform,
            plan=plan,
            domain=domain,
            outputs=self.output_names,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """How figures and logs name each output: its name, else ``u`` or ``u0``, ``u1``..."""
        if self.output_names:
            return self.output_names
        return ("u",) if self.outputs == 1 else tuple(f"u{i}" for i in range(self.outputs))

    def residual(self, c: Constraint, model: nn.Module, x: torch.Tensor, data=None) -> torch.Tensor:
        """Constraint ``c``'s residual at ``x``, checked: ``(N, k)``; ``x`` and ``data`` are
        taken in the network's dtype (a network cast to float64 mid-run keeps its batch; a
        plain function of x takes them as they are)."""
        if isinstance(model, nn.Module):
            dtype = model_dtype(model)
            x = x.to(dtype)
            data = data.to(dtype) if data is not None and data.is_floating_point() else data
        if c.plan is None:
            probe = self.field(model, x[:2], None if data is None else data[:2], None, c.domain)
            self.check_outputs(probe.u)
            r = c.residual(probe)
            if torch.is_grad_enabled() and isinstance(r, torch.Tensor) and not r.requires_grad:
                raise SirenkitError(
                    f"constraint {c.name}: its residual depends on nothing trained (neither "
                    "the field, f.u, f.d(...), nor an unknown): a constant cannot be fitted"
                )
            c.plan = probe.asked
        f = self.field(model, x, data, c.plan, c.domain)
        r = c.residual(f)
        c.plan |= f.asked
        return check_residual(r, len(x), c.name)

    def penalties(self, model: nn.Module, batch: Batch) -> list[torch.Tensor]:
        """Each constraint's penalty (``|r|^2`` or ``|r|``) at its points, ``(N, k)``."""
        out = []
        for i, c in enumerate(self.constraints):
            if batch.noise[i] is not None:
                self._pick(c, model, batch, i)
            r = self.residual(c, model, batch.points[i], batch.data[i])
            if c.penalty == "abs":
                out.append(r.abs())
            else:
                out.append(r.real.square() + r.imag.square() if r.is_complex() else r.square())
        return out

    def losses(self, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        """Each constraint's mean penalty (``|C_m|^2`` by default) over its points."""
        pens = self.penalties(model, batch)
        return {c.name: p.mean() for c, p in zip(self.constraints, pens, strict=True)}

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``sum_m weight_m * loss_m`` and the detached parts (each named column's too)."""
        total, logs = 0.0, {}
        pens = self.penalties(model, batch)
        for c, p in zip(self.constraints, pens, strict=True):
            if isinstance(c.weight, tuple):
                if len(c.weight) != p.shape[1]:
                    raise SirenkitError(
                        f"constraint {c.name}: {len(c.weight)} weights for a residual of "
                        f"{p.shape[1]} columns"
                    )
                cols = p.mean(0)
                part = sum(w * v for w, v in zip(c.weight, cols, strict=True))
            else:
                cols = p.mean(0) if c.parts else None
                part = c.weight * p.mean()
            total = total + part
            # a column-weighted constraint logs its contribution, a plain one its mean penalty
            logs[f"loss_{c.name}"] = (part if isinstance(c.weight, tuple) else p.mean()).detach()
            if c.parts:
                if len(c.parts) != p.shape[1]:
                    raise SirenkitError(
                        f"constraint {c.name}: {len(c.parts)} part names for a residual of "
                        f"{p.shape[1]} columns"
                    )
                logs |= {f"loss_{n}": v.detach() for n, v in zip(c.parts, cols, strict=True)}
        return total, logs | unknown_values(self.unknowns)

    @torch.no_grad()
    def values(self, model: nn.Module, x: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
        """The field's values at ``x`` ``(N, d)`` (no gradients), ``(N, m)``."""
        x = x.to(model_dtype(model))  # a float64 network is evaluated in float64
        parts = [self.field(model, x[i : i + chunk]).u for i in range(0, len(x), chunk)]
        return self.check_outputs(torch.cat(parts))

    def check_outputs(self, u: torch.Tensor) -> torch.Tensor:
        """``u`` ``(N, m)``, or a one-line error when the network's outputs are not the
        problem's (a 1-output network on a 2-output problem would train on empty columns)."""
        if u.dim() != 2 or u.shape[1] != self.outputs:
            given = f"{self.outputs} {self.output_names}" if self.output_names else self.outputs
            raise SirenkitError(
                f"the network gives {u.shape[-1] if u.dim() else 1} output(s) per point but "
                f"the problem has {given}: build it with out_features={self.outputs}"
            )
        return u


def model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of ``model``'s weights (a float64 network is evaluated in float64)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


RESERVED = ("loss", "step", "time", "lr", "eval", "rel_l2")
"""Names logged for every run, which an unknown cannot take."""


def check_unknowns(unknowns: Mapping[str, Any]) -> dict[str, nn.Parameter]:
    """A problem's unknowns, or a one-line error naming the one that cannot be trained."""
    if not isinstance(unknowns, Mapping):
        raise SirenkitError(
            f"unknowns must be a dict of name -> nn.Parameter, got {type(unknowns).__name__}"
        )
    for k, p in unknowns.items():
        if not (isinstance(k, str) and k.isidentifier()) or k in RESERVED or k.startswith("rel_l2"):
            raise SirenkitError(f"unknown name {k!r}: use an identifier other than {RESERVED}")
        if not isinstance(p, nn.Parameter):
            raise SirenkitError(
                f"unknown {k!r} must be a torch.nn.Parameter, e.g. "
                f"nn.Parameter(torch.tensor(0.1)), that the residuals use; got {type(p).__name__}"
            )
        if not p.is_floating_point() or p.numel() == 0 or not torch.isfinite(p).all():
            raise SirenkitError(f"unknown {k!r} must hold finite real values, got {p.data}")
    if len({id(p) for p in unknowns.values()}) != len(unknowns):
        raise SirenkitError("unknowns: the same Parameter is given under two names")
    return dict(unknowns)


def unknown_values(unknowns: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each unknown's current value to log: ``nu`` for a scalar, ``c_0``, ``c_1``... for the
    entries of a vector."""
    out = {}
    for k, p in unknowns.items():
        v = p.detach().clone().reshape(-1)
        out |= {k: v[0]} if len(v) == 1 else {f"{k}_{i}": e for i, e in enumerate(v)}
    return out


def check_residual(r: Any, n: int, name: str) -> torch.Tensor:
    """A residual as ``(N, k)``, or a one-line error saying what is wrong with its shape."""
    if not isinstance(r, torch.Tensor):
        raise SirenkitError(
            f"constraint {name}: the residual returned a {type(r).__name__}, not a tensor"
        )
    if r.dim() == 1 and len(r) == n:
        return r[:, None]
    if r.dim() == 2 and r.shape[0] == n and r.shape[1] > 0 and not (r.shape[1] == n and n > 1):
        return r
    hint = ""
    if r.dim() == 2 and r.shape == (n, n):
        hint = " (an (N,) tensor broadcast against an (N, 1) one? use x[:, :1], not x[:, 0])"
    raise SirenkitError(
        f"constraint {name}: the residual has shape {tuple(r.shape)}; expected ({n},) or "
        f"({n}, k), one row per point{hint}"
    )


class Reference:
    """The exact (or reference) solution at some points, to score a run by relative L2 error.

    Arguments:
        points: ``(M, d)`` coordinates.
        values: ``(M, m)`` (or ``(M,)``) values.
        domain: where the problem lives; reference points outside it whose value is NaN are
            dropped (e.g. the removed quadrant of the L-shape). Any other NaN is an error.
    """

    def __init__(self, points, values, domain: Domain | None = None) -> None:
        p = torch.as_tensor(np.asarray(points, dtype=np.float64))
        v = torch.as_tensor(np.asarray(values, dtype=np.float64))
        v = v[:, None] if v.dim() == 1 else v.reshape(len(v), -1)
        if p.dim() != 2 or len(p) != len(v):
            raise SirenkitError(
                f"reference: {tuple(p.shape)} points and {tuple(v.shape)} values do not match"
            )
        bad = ~torch.isfinite(v).all(-1)
        if bad.any():
            outside = ~domain.contains(p) if domain is not None else torch.zeros_like(bad)
            inside_bad = int((bad & ~outside).sum())
            if inside_bad:
                where = "inside the domain" if domain is not None else "(no domain given)"
                raise SirenkitError(f"reference holds {inside_bad} NaN/infinite values {where}")
            p, v = p[~bad], v[~bad]
        if not torch.isfinite(p).all():
            raise SirenkitError("reference points hold NaN or infinite coordinates")
        self.points, self.values = p.float(), v.float()
        self.fn: Callable[[torch.Tensor], torch.Tensor] | None = None
        """The exact solution as a function of x, where it was given as one (figures draw it
        on their grid)."""

    @classmethod
    def grid(cls, axes: Sequence[Any], values: Any) -> Reference:
        """Values on the tensor grid of 1-D ``axes`` (``values[i, j]`` at ``(axes[0][i],
        axes[1][j])``), e.g. Burgers.npz's ``x``, ``t`` and ``usol``."""
        axes = [np.asarray(a, dtype=np.float64).reshape(-1) for a in axes]
        v = np.asarray(values, dtype=np.float64)
        if v.shape[: len(axes)] != tuple(len(a) for a in axes):
            raise SirenkitError(
                f"reference grid: values of shape {v.shape} do not match axes of lengths "
                f"{[len(a) for a in axes]}"
            )
        mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(axes))
        return cls(mesh, v.reshape(len(mesh), -1))

    @classmethod
    def load(
        cls, path: str | Path, points: str, values: str, domain: Domain | None = None
    ) -> Reference:
        """Points and values from the arrays ``points`` and ``values`` of an ``.npz`` file."""
        p = require_file(path, "reference file")
        with np.load(p) as d:
            for k in (points, values):
                if k not in d:
                    raise SirenkitError(f"{p}: no array {k!r}; it has {', '.join(d)}")
            return cls(d[points], d[values], domain)

    @classmethod
    def function(
        cls, fn: Callable[[torch.Tensor], torch.Tensor], domain: Domain, names, n: int = 4096
    ) -> Reference:
        """The exact solution ``fn(x)`` at ``n`` fixed points of ``domain``."""
        x = domain.sample(n, torch.Generator().manual_seed(1234), names).float()
        with torch.no_grad():
            v = torch.as_tensor(fn(x))
        v = v[:, None] if v.dim() == 1 else v
        if v.shape[0] != n:
            raise SirenkitError(
                f"reference function returned shape {tuple(v.shape)} for {n} points"
            )
        ref = cls(x, v)
        ref.fn = fn
        return ref

    def check(self, problem: Problem) -> None:
        """A one-line error, before any training, when the points are not the problem's."""
        if self.points.shape[1] != problem.dim:
            raise SirenkitError(
                f"reference points have {self.points.shape[1]} coordinates, the problem "
                f"{problem.dim} axes {problem.names}"
            )

    def error(self, problem: Problem, model: nn.Module) -> float:
        """Relative L2 error ``||u - u_ref|| / ||u_ref||`` over the reference points."""
        return self.errors(problem, model)["rel_l2"]

    def errors(self, problem: Problem, model: nn.Module) -> dict[str, float]:
        """``rel_l2`` over all outputs, and with several outputs each one's own
        (``rel_l2_p``): a pressure off by 50 % hides in the total next to a large velocity."""
        self.check(problem)
        device = next(model.parameters()).device
        u = problem.values(model, self.points.to(device, model_dtype(model))).cpu().double()
        if u.shape != self.values.shape:
            raise SirenkitError(
                f"reference has {self.values.shape[1]} values per point, the field {u.shape[1]}"
            )
        ref = self.values.double()
        out = {"rel_l2": _relative(u, ref)}
        if u.shape[1] > 1:
            for k, label in enumerate(problem.labels):
                out[f"rel_l2_{label}"] = _relative(u[:, k], ref[:, k])
        return out


def _relative(u: torch.Tensor, ref: torch.Tensor) -> float:
    return float((u - ref).norm() / ref.norm().clamp_min(1e-30))


def as_reference(obj: Any, problem: Problem) -> Reference | None:
    """A file's ``reference``: a :class:`Reference`, ``(points, values)`` or a function of x."""
    if obj is None or isinstance(obj, Reference):
        return obj
    if callable(obj):
        return Reference.function(obj, problem.constraints[0].domain, problem.names)
    if isinstance(obj, tuple | list) and len(obj) == 2:
        return Reference(*obj)
    raise SirenkitError(
        f"reference must be a Reference, (points, values) or a function of x; got "
        f"{type(obj).__name__}"
    )


__all__ = ["Batch", "Constraint", "PointSet", "Problem", "Reference", "check_residual"]


def _output_names(outputs: int | Sequence[str]) -> tuple[str, ...] | None:
    """The outputs' names when ``outputs`` gives them (None for a count), checked."""
    if isinstance(outputs, int) and not isinstance(outputs, bool):
        return None
    if isinstance(outputs, str) or not isinstance(outputs, Sequence):
        raise SirenkitError(
            f'outputs must be a count or a tuple of names such as ("u", "v"), got {outputs!r}'
        )
    names = tuple(outputs)
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise SirenkitError(f"output names must be identifiers, got {names}")
    if len(set(names)) != len(names):
        raise SirenkitError(f"output names repeat: {names}")
    return names


def _default_names(constraints: Sequence[Constraint]) -> list[str]:
    """Log names of unnamed constraints: a residual's own function name (``burgers``) where it
    names one constraint only, else the position (``c2``)."""
    names = [getattr(c.residual, "__name__", "") for c in constraints]
    return [n if n.isidentifier() and names.count(n) == 1 else f"c{i}" for i, n in enumerate(names)]
