"""Print logfilter's package tree: each module (.py, and compiled .pyx), its line count and the first line of its docstring.

docs/architecture.md holds this output, and tests/unit/test_architecture.py keeps it so:
    .venv/bin/python tools/tree.py
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "logfilter"


def tree(package: Path = PACKAGE) -> list[str]:
    """One line per module (a package is its __init__.py), in path order; the total last."""
    rows, total = [], 0
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.pyx")]):
        parts = path.relative_to(package.parent).parts
        name = f"{parts[-2]}/" if path.name == "__init__.py" else path.name
        depth = len(parts) - (2 if path.name == "__init__.py" else 1)
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        total += lines
        summary = (_docstring(text) if path.suffix == ".pyx" else ast.get_docstring(ast.parse(text)) or "").partition("\n")[0]
        rows.append(f"{'  ' * depth + name:<22}{lines:>4}  {summary}")
    return [*rows, f"{'':<22}{total:>4}  lines in {len(rows)} modules"]


def _docstring(text: str) -> str:
    """A Cython module's docstring (Python's parser cannot read the module)."""
    found = re.search(r'^"""(.*?)"""', text, re.MULTILINE | re.DOTALL)
    return found.group(1) if found else ""


if __name__ == "__main__":
    print("\n".join(tree()))
