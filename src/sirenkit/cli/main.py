"""``sirenkit``: dispatch to a command, parse its flags with tyro, report errors in one line."""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import typing
from collections.abc import Sequence

from ..runtime import sleeping_openmp_threads
from .commands import COMMANDS, Command


def _load(ref: str):
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)


def _usage(prefix: tuple[str, ...] = ()) -> str:
    from .. import __version__

    rows = [c for c in COMMANDS if c.words[: len(prefix)] == prefix]
    width = max(len(" ".join(c.words)) for c in rows)
    lines = [
        f"sirenkit {__version__}: implicit neural representations with sine networks (SIREN)",
        "",
        "usage: sirenkit COMMAND [ARGS] (sirenkit COMMAND --help for its options)",
        "",
        "commands:",
        *(f"  {' '.join(c.words):<{width}}  {c.summary}" for c in rows),
    ]
    return "\n".join(lines)


def _find(argv: Sequence[str]) -> tuple[Command | None, int]:
    best, n = None, 0
    for c in COMMANDS:
        k = len(c.words)
        if tuple(argv[:k]) == c.words and k > n:
            best, n = c, k
    return best, n


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named by ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    sleeping_openmp_threads()  # before torch is imported
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        from .. import __version__

        print(f"sirenkit {__version__}")
        return 0
    command, n = _find(argv)
    if command is None:
        group = tuple(w for w in argv[:1])
        if any(c.words[:1] == group for c in COMMANDS):
            if not argv[1:2] or argv[1] in ("-h", "--help"):
                print(_usage(group))
                return 0
            print(
                f"sirenkit: error: unknown command {' '.join(argv[:2])!r}\n\n{_usage(group)}",
                file=sys.stderr,
            )
            return 2
        print(f"sirenkit: error: unknown command {argv[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    import tyro  # after the listings above, which need neither tyro nor torch

    from ..errors import ForeignRun, SirenkitError, require_finite_options

    prog = "sirenkit " + " ".join(command.words)
    try:
        config_cls = _load(command.config)
        cfg = tyro.cli(
            config_cls,
            args=_switches(argv[n:], _bool_flags(config_cls)),
            prog=prog,
            description=(config_cls.__doc__ or command.summary).strip(),
            config=(tyro.conf.OmitArgPrefixes,),
        )
        require_finite_options(cfg)
        _report(prog, _load(command.entry)(cfg))
    except ForeignRun as e:
        owner = [" ".join(c.words) for c in COMMANDS if c.config == e.config]
        hint = f"; resume it with sirenkit {owner[0]}" if owner else ""
        print(f"{prog}: error: {_one_line(e)}{hint}", file=sys.stderr)
        return 2
    except SirenkitError as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except _interrupted() as e:
        print(
            f"\n{prog}: interrupted at step {e.step}; checkpoint kept in {e.run_dir}. "
            f"Continue with: {prog} --resume {e.run_dir}",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sirenkit fit image --help | head`: the reader left, say nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:
        where = _user_frame(e)
        if where is None or os.environ.get("SIRENKIT_TRACEBACK"):
            raise
        print(f"{prog}: error: {where}: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 2
    return 0


def _user_frame(e: BaseException) -> str | None:
    """``FILE:LINE`` of the innermost frame of ``e``'s traceback in the user's own code (a
    problem file, a residual), or None when the error arose in sirenkit or a library alone:
    a mistake in a user's file is theirs to fix at that line, a bug of ours keeps its
    traceback (and ``SIRENKIT_TRACEBACK=1`` keeps it for theirs too)."""
    import sysconfig
    import traceback
    from pathlib import Path

    ours = Path(__file__).resolve().parents[1]
    libraries = {Path(sysconfig.get_paths()[k]).resolve() for k in ("stdlib", "purelib", "platlib")}
    found = None
    for frame in traceback.extract_tb(e.__traceback__):
        path = Path(frame.filename)
        if not path.is_file():
            continue
        path = path.resolve()
        if path.is_relative_to(ours) or any(path.is_relative_to(lib) for lib in libraries):
            continue
        found = f"{frame.filename}:{frame.lineno}"
    return found


def _bool_flags(cls: type) -> set[str]:
    """The flag names of a config dataclass's ``bool`` options, nested ones included (tyro
    makes each a switch: ``--force`` and ``--no-force``)."""
    hints = typing.get_type_hints(cls)
    names: set[str] = set()
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name)
        if hint is bool:
            names.add(f.name.replace("_", "-"))
        elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
            names |= _bool_flags(hint)
    return names


def _switches(args: Sequence[str], flags: set[str]) -> list[str]:
    """``--force True`` / ``--force False`` (the spelling before switches) as ``--force`` /
    ``--no-force``, with a note, so that older scripts keep working."""
    out, i = [], 0
    while i < len(args):
        name, _, value = args[i].removeprefix("--").partition("=")
        name = name.replace("_", "-")
        if not value and i + 1 < len(args) and args[i].startswith("--"):
            value, skip = args[i + 1], 2
        else:
            skip = 1
        if args[i].startswith("--") and name in flags and value in ("True", "False"):
            switch = f"--{name}" if value == "True" else f"--no-{name}"
            print(f"sirenkit: note: {name} is a switch now: {switch}", file=sys.stderr)
            out.append(switch)
            i += skip
        else:
            out.append(args[i])
            i += 1
    return out


def _one_line(e: Exception) -> str:
    """An error's message on one line (a wrapped library message may span several)."""
    return " ".join(line.strip() for line in str(e).splitlines() if line.strip())


def _report(prog: str, outcome: object) -> None:
    """One closing line for a training command: where the results are and how it ended
    (the progress bar is gone by then; other ranks of a distributed run have no metrics)."""
    run_dir, final = getattr(outcome, "run_dir", None), getattr(outcome, "final", None)
    task = getattr(outcome, "task", None)
    if run_dir is None or final is None or task is None:
        return
    shown = ", ".join(f"{k} {v:.4g}" for k, v in task.report(final).items())
    seconds = getattr(outcome, "train_time", 0.0)
    stopped = getattr(outcome, "stopped", None)
    ended = f" (ended early: {stopped})" if stopped else ""
    print(
        f"{prog}: {seconds:.1f} s of training{ended}; {shown or 'no metrics'}; results in {run_dir}"
    )


def _interrupted() -> type[BaseException] | tuple[()]:
    """The training loop's interrupt, if the loop was ever imported (else it cannot have been
    raised: ``--help`` need not import torch to find that out)."""
    loop = sys.modules.get("sirenkit.training.loop")
    return loop.Interrupted if loop is not None else ()
