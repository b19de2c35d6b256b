"""Train several networks on one task with one budget, then report on all of them."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ..errors import SirenkitError
from ..nets.param_match import parameter_count
from ..nets.registry import list_models
from ..training.config import RunOptions, from_dict, to_dict
from ..training.loop import Interrupted
from ..training.metrics_log import read_metrics
from ..training.run import check_train_config, run
from ..training.rundir import new_run_dir
from .config import CompareOptions
from .report import write_report
from .targets import TASKS, resolve


@dataclass
class ModelResult:
    """One network's run inside a comparison."""

    name: str
    run_dir: Path
    parameters: int
    """Trainable real numbers (complex weights count twice)."""
    width: int | None
    """Hidden width the network was built with (after parameter matching)."""
    steps: int
    train_seconds: float
    curve: list[dict[str, float]]
    """Full evaluations: ``{"step", "time", <metric>, ...}`` in step order."""
    final: dict[str, float] = field(default_factory=dict)

    @property
    def seconds_per_step(self) -> float:
        return self.train_seconds / max(1, self.steps)


@dataclass
class Comparison:
    """A finished comparison: its folder, the metric compared and every model's result."""

    root: Path
    task: str
    signal: str
    metric: str
    results: list[ModelResult]
    files: dict[str, Path] = field(default_factory=dict)


def parse_models(text: str) -> list[str]:
    """The model names of ``--models``, checked against the registry."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SirenkitError("--models is empty; give names like siren,relu (see sirenkit models)")
    known = list_models()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SirenkitError(
            f"--models: unknown {', '.join(map(repr, unknown))}; available: {', '.join(known)}"
        )
    if len(set(names)) != len(names):
        raise SirenkitError(f"--models lists a network twice: {text!r}")
    return names


def _check(cfg: CompareOptions) -> None:
    if cfg.curve_every < 1:
        raise SirenkitError(f"--curve-every must be positive, got {cfg.curve_every}")
    if any(s < 1 for s in cfg.at_steps) or any(t <= 0 for t in cfg.at_seconds):
        raise SirenkitError(
            f"--at-steps and --at-seconds must be positive, got {cfg.at_steps}, {cfg.at_seconds}"
        )
    if getattr(cfg, "resume", None) is not None:
        raise SirenkitError(
            "compare does not resume; continue one model's run with `sirenkit fit ... --resume "
            "COMPARISON/MODEL` instead"
        )


def compare(cfg: Any) -> Comparison:
    """Train every model of ``cfg.models`` on ``cfg``'s task and write the comparison folder.

    Arguments:
        cfg: a ``Compare<Task>Config``: the task's ``fit`` options (the same network size,
            training budget and seed for every model) plus :class:`CompareOptions`.

    Returns:
        The :class:`Comparison`; its folder holds one run folder per model and the report files
        (``comparison.md``, ``comparison.json``, ``convergence.png``, ``fits.png``).
    """
    entry = TASKS.get(getattr(cfg, "task", ""))
    if entry is None:
        raise SirenkitError(f"no comparison is defined for task {getattr(cfg, 'task', None)!r}")
    _check(cfg)
    names = parse_models(cfg.models)
    check_train_config(cfg)
    fit_cls: type[RunOptions] = resolve(entry.config)
    base = from_dict(fit_cls, to_dict(cfg))
    # evaluate at every curve point and at every step the table asks for
    base.train.eval_every = math.gcd(cfg.curve_every, *cfg.at_steps)
    task = base.setup()
    root = new_run_dir(cfg.out, cfg.name or f"compare-{task.name}-{task.label}")
    (root / "config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
    metric = task.headline
    results: list[ModelResult] = []
    models: dict[str, nn.Module] = {}
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name}")
        sub = from_dict(fit_cls, to_dict(base))
        sub.model.name = name
        sub.out = root
        sub.name = name
        try:
            outcome = run(sub, task)
        except Interrupted as e:
            print(
                f"\n{name} interrupted at step {e.step}; continue that model with: sirenkit fit "
                f"{task.name} --resume {e.run_dir}",
                file=sys.stderr,
            )
            raise KeyboardInterrupt from None
        models[name] = outcome.model
        spec_kwargs = outcome.model.sirenkit_spec["kwargs"]
        curve = [r for r in read_metrics(outcome.run_dir / "metrics.jsonl") if r.get("eval")]
        results.append(
            ModelResult(
                name=name,
                run_dir=outcome.run_dir,
                parameters=parameter_count(outcome.model),
                width=spec_kwargs.get("hidden_features"),
                steps=sub.train.steps,
                train_seconds=outcome.train_time,
                curve=curve,
                final=dict(outcome.final),
            )
        )
    comparison = Comparison(root, task.name, task.label, metric, results)
    comparison.files = write_report(comparison, cfg)
    if cfg.figure and entry.figure is not None:
        comparison.files["fits"] = resolve(entry.figure)(root / "fits.png", task, models)
    return comparison


def compare_command(cfg: Any) -> Comparison:
    """CLI entry: ``sirenkit compare <task>``; prints the table and where the files are."""
    comparison = compare(cfg)
    print(comparison.files["table"].read_text())
    print(f"comparison written to {comparison.root}")
    return comparison
