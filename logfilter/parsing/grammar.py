"""Finds the grammars shipped with logfilter and builds Lark parsers from them, once (lark is imported only then)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark, Transformer

_PACKAGE = Path(__file__).resolve().parent.parent
# In a wheel the grammars sit inside the package; in a source checkout or an editable
# install they sit at the top of the repository.
_CANDIDATES = (_PACKAGE / "grammars", _PACKAGE.parent / "grammars")


def grammar_path(name: str) -> Path:
    """Return the path of grammars/<name>.lark, wherever this installation keeps it."""
    for folder in _CANDIDATES:
        path = folder / f"{name}.lark"
        if path.is_file():
            return path
    msg = f"grammar {name}.lark is missing from this installation"
    raise FileNotFoundError(msg)


@cache
def grammar_text(name: str) -> str:
    """The text of grammars/<name>.lark."""
    return grammar_path(name).read_text(encoding="utf-8")


def build(name: str, start: tuple[str, ...], transformer: Transformer | None = None) -> Lark:
    """Build an LALR parser (contextual lexer) for grammars/<name>.lark."""
    from lark import Lark  # only where a parser is built: lark is slow to import

    return Lark(
        grammar_text(name),
        parser="lalr",
        lexer="contextual",
        start=list(start),
        transformer=transformer,
        maybe_placeholders=False,
    )
