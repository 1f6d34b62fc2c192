"""docs/architecture.md stays true: the names it cites exist, and its tree is what tools/tree.py prints."""

from __future__ import annotations

import importlib
import re
import runpy

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_every_path_and_name_exists() -> None:
    """`engines/blocks.py:Block.enter`: Block.enter in logfilter/engines/blocks.py; `tests/...`: a file."""
    named = re.findall(r"`([\w/]+\.py)(?::([\w.]+))?`", DOC)
    assert len(named) > 30
    for path, name in named:
        if path.startswith(("tests/", "tools/")):  # beside the package, not in it
            assert (ROOT / path).is_file(), path
            continue
        assert (ROOT / "logfilter" / path).is_file(), path
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        found: object = importlib.import_module(f"logfilter.{module}")
        for part in name.split(".") if name else ():
            assert hasattr(found, part), f"{path}:{name}"
            found = getattr(found, part)


def test_the_tree_is_what_tools_tree_prints() -> None:
    """Regenerate it with `.venv/bin/python tools/tree.py` when a module is added, moved or grows."""
    shown = DOC.split("## The package tree", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert shown.splitlines() == runpy.run_path(str(ROOT / "tools" / "tree.py"))["tree"]()
