"""The reference parser: Lark reads one KV line, or a candidate block opener, into model objects.

The grammar's terminals as regular expressions are terminals.py's: they need no parser.
"""

from __future__ import annotations

from functools import cache

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

from logfilter.parsing.grammar import build
from logfilter.parsing.model import KVLine, Layout, Opener, Pair, ParseFailed, Value
from logfilter.parsing.terminals import VALUE_KINDS, kv_attribute_regex, leading_blanks


class _ToModel(Transformer):
    """Builds Opener, KVLine and Pair objects directly while LALR parses (no tree kept)."""

    def c_value(self, children: list[Token]) -> Value:
        (token,) = children
        return Value(VALUE_KINDS[token.type], str(token))  # type: ignore[arg-type]

    def c_leaf(self, children: list) -> Pair:
        key, sep, value = children
        return Pair(str(key), str(sep), value)

    def c_list(self, children: list) -> Pair:
        key, mark, *sub = children
        return Pair(str(key), str(mark), None, True, sub[0] if sub else None)

    def c_line(self, children: list) -> KVLine:
        indent, pair, *trail = children
        return KVLine("c", str(indent), pair, str(trail[0]) if trail else "")

    def psdk_value(self, children: list[Token]) -> Token:
        return children[0]

    def psdk_pair(self, children: list) -> KVLine:
        indent, rest = _split_indent(children)
        key, gap, type_, equals, token, *trail = rest
        sep = f"{gap}{type_}{equals}"
        trail_text = str(trail[0]) if trail else ""
        if token.type == "KVLIST":
            pair = Pair(str(key), sep + str(token), None, True, None, str(gap))
        else:
            value = Value(VALUE_KINDS[token.type], str(token))  # type: ignore[arg-type]
            pair = Pair(str(key), sep, value, False, None, str(gap))
        return KVLine("psdk", indent, pair, trail_text)

    def psdk_suppressed(self, children: list) -> KVLine:
        indent, rest = _split_indent(children)
        key, gap, mark, *trail = rest
        pair = Pair(str(key), f"{gap}{mark}", None, False, None, str(gap))
        return KVLine("psdk", indent, pair, str(trail[0]) if trail else "", True)

    def c_opener(self, children: list[Token]) -> Opener:
        indent = str(children[0]) if children[0].type == "BLANKS" else ""
        attribute = next(str(t) for t in children if t.type == "KV_ATTRIBUTE")
        return Opener("c", indent, attribute)

    def psdk_opener(self, children: list[Token]) -> Opener:
        (line,) = children
        text = str(line)
        indent = leading_blanks(text)
        # The name goes into messages on stderr: only a known attribute name, never line text.
        named = kv_attribute_regex().match(text, len(indent))
        return Opener("psdk", indent, named.group() if named else "KVList")

    def opener(self, children: list[Opener]) -> Opener:
        return children[0]


def _split_indent(children: list) -> tuple[str, list]:
    first = children[0]
    if isinstance(first, Token) and first.type == "WS":
        return str(first), children[1:]
    return "", children


# The start rules of grammars/tlib.lark this parser reads lines with (`header`: for its terminal).
START = ("opener", "c_line", "psdk_line", "header")


@cache
def _parser() -> Lark:
    return build("tlib", START, _ToModel())


def parse_kv_line(text: str, layout: Layout) -> KVLine:
    """Parse one KV line (no line ending) of the given layout; raise ParseFailed."""
    try:
        return _parser().parse(text, start="c_line" if layout == "c" else "psdk_line")
    except LarkError:
        raise ParseFailed from None


def parse_opener(text: str) -> Opener | None:
    """Return the Opener if this line (no line ending) opens a KV block, else None."""
    try:
        return _parser().parse(text, start="opener")
    except LarkError:
        return None

