"""Solve a problem: ``sk.solve(problem, network)`` in Python, ``sirenkit solve FILE.py|NAME``.

A problem file is a Python file that defines ``problem`` (a :class:`~.problem.Problem`) and
optionally ``field`` (the network: an ``nn.Module`` or a :class:`~sirenkit.nets.ModelConfig`),
``reference`` (a :class:`~.problem.Reference`, ``(points, values)`` or a function of x) and
defaults of the training flags by their names (``steps``, ``then_lbfgs``,
``lbfgs_float64_after``, ``lr``, ``eval_every``, ``checkpoint_every``). Flags given on the
command line win. ``NAME`` is one of
the built-in examples (:mod:`sirenkit.examples`; ``sirenkit solve --help`` lists them).
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
import tyro
from torch import nn

from ..errors import SirenkitError
from ..nets.config import ModelConfig
from ..nets.siren import Siren
from ..nets.symmetric import Symmetric
from ..training.config import RunOptions, TrainConfig
from ..training.loop import Callback
from .problem import Problem, Reference, as_reference
from .task import PROBLEM_W0, ProblemTask

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA_ENV = "SIRENKIT_DATA"


def examples() -> list[str]:
    """Names of the built-in example problems."""
    return sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))


def data_path(relative: str) -> Path | None:
    """A data file under ``$SIRENKIT_DATA``, else under the repository's ``../shared/data``;
    None when it is in neither (examples then run without a reference)."""
    roots = [Path(os.environ[DATA_ENV])] if os.environ.get(DATA_ENV) else []
    roots += [Path(__file__).resolve().parents[4] / "shared" / "data", Path("../shared/data")]
    for root in roots:
        if (root / relative).is_file():
            return root / relative
    print(
        f"sirenkit: {relative} not found (under ${DATA_ENV} or ../shared/data): "
        "no reference, so no error against it is reported",
        file=sys.stderr,
    )
    return None


TRAIN_DEFAULTS = (
    "steps",
    "then_lbfgs",
    "quasi_newton",
    "lbfgs_float64_after",
    "lr",
    "eval_every",
    "checkpoint_every",
)
"""Training flags a problem file may give defaults for (by these names)."""


@dataclass
class SolveTrainConfig(TrainConfig):
    """How to optimise; flags left unset take the problem file's values, else these."""

    steps: int | None = None  # type: ignore[assignment]
    """Adam steps (default: the file's ``steps``, else 2000)."""
    then_lbfgs: int | None = None  # type: ignore[assignment]
    """L-BFGS iterations after Adam (default: the file's ``then_lbfgs``, else 0)."""
    quasi_newton: Literal["lbfgs", "bfgs"] | None = None  # type: ignore[assignment]
    """The optimiser of the then_lbfgs phase: lbfgs, or bfgs (self-scaled, the whole inverse
    Hessian: small networks; docs/pde.md) (default: the file's ``quasi_newton``, else lbfgs)."""
    lr: float | None = None  # type: ignore[assignment]
    """Peak learning rate of Adam (default: the file's ``lr``, else 1e-3)."""
    eval_every: int | None = None  # type: ignore[assignment]
    """Steps between evaluations (default: the file's, else 500)."""
    checkpoint_every: int | None = None  # type: ignore[assignment]
    """Steps between checkpoints (default: the file's, else 500)."""


_FALLBACK = {
    "steps": 2000,
    "then_lbfgs": 0,
    "quasi_newton": "lbfgs",
    "lbfgs_float64_after": None,
    "lr": 1e-3,
    "eval_every": 500,
    "checkpoint_every": 500,
}


@dataclass
class SolveModelConfig(ModelConfig):
    """The network: the problem file's ``field`` unless a model flag is given."""

    name: Annotated[str | None, tyro.conf.arg(name="model")] = None  # type: ignore[assignment]
    """Network by name (see `sirenkit models`); default: the file's field, else siren."""
    hidden: int | None = None  # type: ignore[assignment]
    """Width of every hidden layer (default: the file's field, else 64)."""
    layers: int | None = None  # type: ignore[assignment]
    """Linear layers in all (default: the file's field, else 4)."""


@dataclass
class SolveConfig(RunOptions):
    """Solve a problem posed as constraints: a Python file defining `problem`, or a built-in
    example by name."""

    problem: Annotated[
        str,
        tyro.conf.Positional,
        tyro.conf.arg(
            metavar="FILE.py|NAME",
            help=f"A problem file (FILE.py) or a built-in example: {', '.join(examples())}.",
        ),
    ] = "burgers"
    data: Path | None = None
    """Folder of reference data (default: $SIRENKIT_DATA, else ../shared/data beside the repo)."""
    model: SolveModelConfig = field(default_factory=SolveModelConfig)
    train: SolveTrainConfig = field(default_factory=SolveTrainConfig)

    def setup(self) -> ProblemTask:
        return load(self).task


@dataclass
class Loaded:
    """What a problem file gives: the task, its network and the defaults it set."""

    task: ProblemTask
    module: nn.Module | None
    model: ModelConfig
    train: dict[str, Any]
    file: Path


def resolve_file(name: str) -> Path:
    """A problem file path, or the file of a built-in example ``name``."""
    p = Path(name)
    if p.suffix == ".py":
        if not p.is_file():
            raise SirenkitError(f"problem file not found: {p}")
        return p
    if (EXAMPLES / f"{name}.py").is_file():
        return EXAMPLES / f"{name}.py"
    raise SirenkitError(
        f"{name!r} is neither a .py problem file nor a built-in example ({', '.join(examples())})"
    )


def load(cfg: SolveConfig) -> Loaded:
    """Run the problem file of ``cfg`` (seeded by ``--seed``) and collect what it defines."""
    if cfg.data is not None:
        os.environ[DATA_ENV] = str(cfg.data)
    path = resolve_file(cfg.problem)
    torch.manual_seed(cfg.train.seed)  # a network the file builds starts from the run's seed
    try:
        ns = runpy.run_path(str(path), run_name="sirenkit_problem")
    except SirenkitError as e:
        raise SirenkitError(f"{path}: {e}") from None
    problem = ns.get("problem")
    if not isinstance(problem, Problem):
        raise SirenkitError(f"{path} must define `problem = sk.Problem(...)`")
    if problem.name == "problem":
        problem.name = path.stem
    reference = as_reference(ns.get("reference"), problem)
    net = ns.get("field")
    module = net if isinstance(net, nn.Module) else None
    model = net if isinstance(net, ModelConfig) else _config_of(module)
    if net is not None and module is None and not isinstance(net, ModelConfig):
        raise SirenkitError(f"{path}: `field` must be an nn.Module or a ModelConfig")
    w0 = model.w0 if model.w0 is not None else PROBLEM_W0
    task = ProblemTask(problem, reference, w0=w0, label=path.stem)
    train = {k: ns[k] for k in TRAIN_DEFAULTS if k in ns}
    return Loaded(task, module, model, train, path)


def _config_of(module: nn.Module | None) -> ModelConfig:
    """The ModelConfig of a file's network (for --model NAME runs of the same size)."""
    if isinstance(module, Symmetric):
        return _config_of(module.net)
    if isinstance(module, Siren):
        return ModelConfig(
            "siren",
            hidden=module.hidden_features,
            layers=module.hidden_layers + 2,
            w0=module.w0,
            hidden_w0=module.hidden_w0,
        )
    spec = getattr(module, "sirenkit_spec", None)
    if spec is not None and "hidden_features" in spec["kwargs"]:
        kw = spec["kwargs"]
        return ModelConfig(
            spec["name"], hidden=kw["hidden_features"], layers=kw["hidden_layers"] + 2
        )
    return ModelConfig("siren", hidden=64, layers=4)


def with_spec(module: nn.Module, file: Path | None = None) -> nn.Module:
    """Give a network built directly (``sk.Siren(...)``) the spec checkpoints rebuild it from;
    any other module: running ``file`` again rebuilds it (else only its weights are kept)."""
    if getattr(module, "sirenkit_spec", None) is not None:
        return module
    try:
        return _named_spec(module)
    except SirenkitError:
        if file is not None:
            kwargs = {"path": str(Path(file).resolve()), "attr": "field"}
            module.sirenkit_spec = {"name": "file", "kwargs": kwargs}
        else:
            module.sirenkit_spec = {"name": "python", "kwargs": {"type": type(module).__name__}}
        return module


def _named_spec(module: nn.Module) -> nn.Module:
    """The spec of a network sirenkit can build by name, or an error saying it cannot."""
    if getattr(module, "sirenkit_spec", None) is not None:
        return module
    if isinstance(module, Symmetric):
        kwargs = {"net": _named_spec(module.net).sirenkit_spec, "axes": module.axes}
        kwargs |= {"parity": module.parity, "center": module.center}
        module.sirenkit_spec = {"name": "symmetric", "kwargs": kwargs}
        return module
    if isinstance(module, Siren) and module.outermost_linear:
        module.sirenkit_spec = {
            "name": "siren",
            "kwargs": {
                "in_features": module.in_features,
                "hidden_features": module.hidden_features,
                "hidden_layers": module.hidden_layers,
                "out_features": module.out_features,
                "w0": module.w0,
                "hidden_w0": module.hidden_w0,
            },
        }
        return module
    raise SirenkitError(f"sirenkit cannot build a {type(module).__name__} by name")


def _fill(cfg: SolveConfig, loaded: Loaded) -> nn.Module | None:
    """Fill the flags left unset from the file; the file's network unless a model flag is set."""
    for k in TRAIN_DEFAULTS:
        if getattr(cfg.train, k) is None:
            setattr(cfg.train, k, loaded.train.get(k, _FALLBACK[k]))
    m = cfg.model
    use_module = loaded.module is not None and m.name is None and m.hidden is None
    use_module = use_module and m.layers is None and m.w0 is None
    base = loaded.model
    m.name = m.name or base.name
    m.hidden = m.hidden or base.hidden
    m.layers = m.layers or base.layers
    if m.w0 is None:
        m.w0 = base.w0
    if use_module:
        module = with_spec(loaded.module, loaded.file)
        m.name = module.sirenkit_spec["name"]  # "file": the file's own module
        return module
    return None


def solve_command(cfg: SolveConfig, callbacks: Sequence[Callback] = ()):
    """CLI entry: ``sirenkit solve FILE.py|NAME`` (``callbacks``: as :func:`run`'s)."""
    from ..training.run import run

    if cfg.resume is not None:
        return run(cfg, callbacks=callbacks)
    loaded = load(cfg)
    module = _fill(cfg, loaded)
    return run(cfg, loaded.task, model=module, callbacks=callbacks)


def solve(
    problem: Problem,
    network: nn.Module | ModelConfig | str | None = None,
    *,
    reference: Reference | Any = None,
    steps: int = 2000,
    then_lbfgs: int = 0,
    lr: float = 1e-3,
    out: str | Path = "runs",
    name: str | None = None,
    progress: bool = True,
    **train: Any,
):
    """Train ``network`` until the constraints of ``problem`` hold; returns the run's outcome
    (``.model``, ``.final`` metrics, ``.run_dir`` with figures and a checkpoint).

    Arguments:
        problem: the constraints.
        network: an ``nn.Module`` (e.g. ``sk.Siren(2, 64, 2, 1)``), a ``ModelConfig`` or a
            name of ``sirenkit models``; default a SIREN 64 wide with 4 layers.
        reference: exact solution for the relative L2 error: a :class:`Reference`,
            ``(points, values)`` or a function of x.
        steps: Adam steps. then_lbfgs: L-BFGS iterations after them.
        lr: Adam's peak learning rate (cosine schedule unless ``schedule=`` says otherwise).
        out, name: where the run folder goes.
        progress: show a progress bar.
        **train: other :class:`~sirenkit.training.TrainConfig` fields (``seed``,
            ``schedule``...).
    """
    from ..training.run import run

    module = None
    if isinstance(network, str):
        network = ModelConfig(network, hidden=64, layers=4)
    if isinstance(network, nn.Module):
        module = with_spec(network)
        model_cfg = _config_of(module)
    else:
        model_cfg = network or ModelConfig("siren", hidden=64, layers=4)
    unknown = set(train) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise SirenkitError(f"solve: unknown training option(s) {', '.join(sorted(unknown))}")
    cfg = SolveConfig(
        problem=problem.name,
        model=SolveModelConfig(**{f.name: getattr(model_cfg, f.name) for f in fields(ModelConfig)}),
        train=SolveTrainConfig(
            steps=steps, then_lbfgs=then_lbfgs, lr=lr, progress=progress, **train
        ),
        out=Path(out),
        name=name,
    )
    for k in TRAIN_DEFAULTS:
        if getattr(cfg.train, k) is None:
            setattr(cfg.train, k, _FALLBACK[k])
    w0 = model_cfg.w0 if model_cfg.w0 is not None else PROBLEM_W0
    task = ProblemTask(problem, as_reference(reference, problem), w0=w0)
    return run(cfg, task, model=module)
