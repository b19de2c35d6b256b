"""The comparison's table (Markdown and JSON) and convergence plot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..training.config import to_dict

if TYPE_CHECKING:
    from .run import Comparison, ModelResult


def value_at_step(result: ModelResult, metric: str, step: int) -> float | None:
    """The metric of the evaluation at ``step``; None if the run stopped earlier."""
    for r in result.curve:
        if r["step"] == step:
            return r.get(metric)
    return None


def value_at_seconds(result: ModelResult, metric: str, seconds: float) -> float | None:
    """The metric of the last evaluation at or before ``seconds`` of training; None if the run
    trained for less time than that (or had not been evaluated yet)."""
    if result.train_seconds < seconds:
        return None
    before = [r for r in result.curve if r["time"] <= seconds]
    return before[-1].get(metric) if before else None


def rows(comparison: Comparison, at_steps: Sequence[int], at_seconds: Sequence[float]) -> list:
    """One dict per model: parameters, width, timing, the metric at set steps and seconds."""
    m = comparison.metric
    out = []
    for r in comparison.results:
        row: dict[str, Any] = {
            "model": r.name,
            "parameters": r.parameters,
            "width": r.width,
            "s/step": r.seconds_per_step,
        }
        row.update({f"{m} @{s} steps": value_at_step(r, m, s) for s in at_steps})
        row.update({f"{m} @{t:g} s": value_at_seconds(r, m, t) for t in at_seconds})
        row.update({f"final {k}": v for k, v in r.final.items()})
        out.append(row)
    return out


def markdown_table(table: Sequence[dict[str, Any]]) -> str:
    """A Markdown table over the keys of the first row ('-' for missing values)."""
    columns = list(table[0])

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 0.1 else f"{v:.2f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in table]
    return "\n".join(lines)


def plot_convergence(path: Path, comparison: Comparison) -> Path:
    """The metric of every model against step and against training seconds."""
    from ..viz.figures import pyplot

    plt = pyplot()
    m = comparison.metric
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for r in comparison.results:
        pts = [x for x in r.curve if x.get(m) is not None]
        axes[0].plot([x["step"] for x in pts], [x[m] for x in pts], label=r.name)
        axes[1].plot([x["time"] for x in pts], [x[m] for x in pts], label=r.name)
    for ax, xlabel in zip(axes, ("step", "training seconds"), strict=True):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(m)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"{comparison.task}: {comparison.signal}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(comparison: Comparison, cfg: Any) -> dict[str, Path]:
    """Write ``comparison.md``, ``comparison.json`` and ``convergence.png`` into the folder."""
    root = comparison.root
    table = rows(comparison, cfg.at_steps, cfg.at_seconds)
    t = cfg.train
    settings = (
        f"{comparison.task} `{comparison.signal}`, {t.steps} steps, batch "
        f"{t.batch_size or 'full'}, {'Muon and Adam' if t.optimizer == 'muon' else 'Adam'} "
        f"lr {t.lr:g} ({t.schedule}), seed {t.seed}, "
        f"--hidden {cfg.model.hidden} --layers {cfg.model.layers}, parameter matching "
        f"{'on' if cfg.model.param_match else 'off'}; seconds are training time only."
    )
    md = root / "comparison.md"
    md.write_text(f"{settings}\n\n{markdown_table(table)}\n")
    payload = {
        "task": comparison.task,
        "signal": comparison.signal,
        "metric": comparison.metric,
        "settings": to_dict(cfg),
        "table": table,
        "models": [
            {
                "name": r.name,
                "run_dir": str(r.run_dir),
                "parameters": r.parameters,
                "width": r.width,
                "steps": r.steps,
                "train_seconds": r.train_seconds,
                "seconds_per_step": r.seconds_per_step,
                "final": r.final,
                "curve": r.curve,
            }
            for r in comparison.results
        ],
    }
    js = root / "comparison.json"
    js.write_text(json.dumps(payload, indent=2) + "\n")
    return {
        "table": md,
        "json": js,
        "convergence": plot_convergence(root / "convergence.png", comparison),
    }
