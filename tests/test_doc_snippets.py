"""The Python blocks of README.md and docs/*.md parse, and every sirenkit name they import or
use (``from sirenkit.x import Y``, ``sk.Y.z``) exists: a renamed API cannot leave a stale doc."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def snippets() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        for k, m in enumerate(BLOCK.finditer(doc.read_text())):
            out.append((f"{doc.relative_to(ROOT)}#{k}", m.group(1)))
    return out


def sirenkit_names(tree: ast.AST) -> list[str]:
    """Dotted sirenkit names a snippet relies on, e.g. ``sirenkit.tasks.audio.FitAudioConfig``."""
    aliases: dict[str, str] = {}
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "sirenkit":
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else "sirenkit"
                    names.append(a.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sirenkit":
            for a in node.names:
                names.append(f"{node.module}.{a.name}")
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, inner = [], node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in aliases:
                names.append(".".join([aliases[inner.id], *reversed(chain)]))
    return names


def resolve(dotted: str) -> None:
    """Import the longest module prefix, then getattr the rest (only while it is a module or
    class: attributes of instances are not followed)."""
    parts = dotted.split(".")
    obj, i = None, len(parts)
    while i > 0:
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            break
        except ModuleNotFoundError:
            i -= 1
    for name in parts[i:]:
        if not (isinstance(obj, type) or type(obj).__name__ == "module"):
            return
        obj = getattr(obj, name)  # AttributeError: the doc names what does not exist


@pytest.mark.parametrize(("where", "code"), snippets(), ids=[w for w, _ in snippets()])
def test_a_doc_snippet_parses_and_names_what_exists(where: str, code: str) -> None:
    tree = ast.parse(code, filename=where)
    for dotted in sirenkit_names(tree):
        try:
            resolve(dotted)
        except AttributeError as e:
            pytest.fail(f"{where}: {dotted}: {e}")
