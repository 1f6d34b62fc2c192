"""Finds the grammars shipped with logfilter and builds Lark parsers, or reads their terminals, from them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

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
def _grammar_text(name: str) -> str:
    return grammar_path(name).read_text(encoding="utf-8")


def terminals(name: str) -> dict[str, str]:
    """The terminals of grammars/<name>.lark as regular expressions, by name; no parser is built.

    Lark reads the grammar in lexer-only mode (parser=None): the terminals come out as they
    do for a parser, without the parse tables.
    """
    lexer_only = Lark(_grammar_text(name), parser=None, lexer="basic")
    return {terminal.name: terminal.pattern.to_regexp() for terminal in lexer_only.terminals}


def build(name: str, start: tuple[str, ...], transformer: Transformer | None = None) -> Lark:
    """Build an LALR parser (contextual lexer) for grammars/<name>.lark."""
    return Lark(
        _grammar_text(name),
        parser="lalr",
        lexer="contextual",
        start=list(start),
        transformer=transformer,
        maybe_placeholders=False,
    )
