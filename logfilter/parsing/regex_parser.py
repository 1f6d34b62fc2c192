"""The REGEX line parser, built from grammars/tlib.lark's terminals.

REGEX (engines/handler.py) reads lines in every walk but `--engine reference` (the compiled
scanner hands it the lines it is not sure of).

The Lark parser lexes one token at a time and never backtracks into a token it has
matched. Each terminal is therefore wrapped in an atomic group `(?>...)` here, and the
terminals are chained in the order the grammar rules chain them; a pattern built this way
accepts a line exactly when the grammar does, and splits it into the same tokens. The
differential tests hold `parse_kv_line` / `parse_opener` below equal to lark_parser.py's.
Nothing in this module spells a terminal's pattern itself: change the grammar, not this.
"""

from __future__ import annotations

import re
from functools import cache

from logfilter.parsing.model import KVLine, Layout, Opener, Pair, ParseFailed, Value, ValueKind
from logfilter.parsing.terminals import VALUE_KINDS, leading_blanks, terminal_regex


@cache
def token(name: str) -> str:
    """One terminal of tlib.lark as an atomic group (str pattern)."""
    return f"(?>{terminal_regex(name)})"


def _alternatives(*names: str) -> str:
    # Lark tries a state's terminals in order and takes the first that matches; the value
    # terminals of one state start with different characters, so the order cannot matter.
    return "(?>" + "|".join(f"(?P<{name}>{terminal_regex(name)})" for name in names) + ")"


class _Patterns:
    """Compiled str patterns for parsing one line into model objects (slow path)."""

    def __init__(self) -> None:
        compile_ = re.compile
        self.ws = compile_(token("WS"))
        self.key = compile_(token("KEY"))
        self.list_open = compile_(token("LIST_OPEN"))
        self.c_value = compile_(_alternatives("QUOTED", "INT", "BINARY"))
        self.psdk_head = compile_(
            f"(?P<indent>{token('WS')}?)(?P<key>{token('KEY')})(?P<gap>{token('WS')})"
            f"(?:(?P<suppressed>{token('SUPPRESSED')})|(?P<type>{token('TYPE')})(?P<equals>{token('EQUALS')}))"
        )
        self.psdk_value = compile_(_alternatives("DQUOTED", "INT", "KVLIST"))
        self.trail = compile_(f"{token('WS')}?")
        self.psdk_opener = compile_(terminal_regex("PSDK_KVLIST_LINE"))
        self.c_opener = compile_(_c_opener())
        self.attribute = compile_(terminal_regex("KV_ATTRIBUTE"))
        self.named = compile_(f"{token('BLANKS')}?(?P<attribute>{token('KV_ATTRIBUTE')})")


def _c_opener() -> str:
    """grammar rule c_opener (one line, no line ending); groups indent and attribute."""
    return f"(?P<indent>{token('BLANKS')}?)(?P<attribute>{token('KV_ATTRIBUTE')})(?:{token('BLANKS')}{token('KV_HEADER')}?)?"


@cache
def _patterns() -> _Patterns:
    return _Patterns()


def parse_kv_line(text: str, layout: Layout) -> KVLine:
    """Parse one KV line (no line ending) as parse.parse_kv_line does; raise ParseFailed."""
    p = _patterns()
    return _c_line(p, text) if layout == "c" else _psdk_line(p, text)


def _c_line(p: _Patterns, text: str) -> KVLine:
    indent = p.ws.match(text)
    if indent is None:
        raise ParseFailed
    pair, end = _c_pair(p, text, indent.end())
    trail = p.trail.match(text, end)
    if trail.end() != len(text):  # type: ignore[union-attr]  # an optional group always matches
        raise ParseFailed
    return KVLine("c", indent.group(), pair, trail.group())  # type: ignore[union-attr]


def _c_pair(p: _Patterns, text: str, start: int) -> tuple[Pair, int]:
    # A loop, not recursion: a line may open lists thousands deep (a hostile log).
    heads: list[tuple[str, str]] = []  # (key, list mark) of each list the pair opens
    while True:
        key = p.key.match(text, start)
        if key is None:
            raise ParseFailed
        mark = p.list_open.match(text, key.end())
        if mark is None:
            break
        heads.append((key.group(), mark.group()))
        start = mark.end()
        if p.key.match(text, start) is None:
            return _nest(heads, None), start
    sep = p.ws.match(text, key.end())
    value = p.c_value.match(text, sep.end()) if sep is not None else None
    if sep is None or value is None:
        raise ParseFailed
    kind = VALUE_KINDS[value.lastgroup]  # type: ignore[index]
    leaf = Pair(key.group(), sep.group(), Value(kind, value.group()))  # type: ignore[arg-type]
    return _nest(heads, leaf), value.end()


def _nest(heads: list[tuple[str, str]], inner: Pair | None) -> Pair:
    """The chain of lists `heads` (outermost first) around `inner` (None: the last list is empty)."""
    for key, mark in reversed(heads):
        inner = Pair(key, mark, None, True, inner)
    return inner  # type: ignore[return-value]


def _psdk_line(p: _Patterns, text: str) -> KVLine:
    head = p.psdk_head.match(text)
    if head is None:
        raise ParseFailed
    indent, key, gap = head.group("indent"), head.group("key"), head.group("gap")
    if head.group("suppressed") is not None:
        trail = p.trail.match(text, head.end())
        if trail.end() != len(text):  # type: ignore[union-attr]
            raise ParseFailed
        pair = Pair(key, gap + head.group("suppressed"), None, False, None, gap)
        return KVLine("psdk", indent, pair, trail.group(), True)  # type: ignore[union-attr]
    value = p.psdk_value.match(text, head.end())
    if value is None:
        raise ParseFailed
    trail = p.trail.match(text, value.end())
    if trail.end() != len(text):  # type: ignore[union-attr]
        raise ParseFailed
    sep = gap + head.group("type") + head.group("equals")
    if value.lastgroup == "KVLIST":
        pair = Pair(key, sep + value.group(), None, True, None, gap)
    else:
        pair = Pair(key, sep, Value(VALUE_KINDS[value.lastgroup], value.group()), False, None, gap)  # type: ignore[index,arg-type]
    return KVLine("psdk", indent, pair, trail.group())  # type: ignore[union-attr]


def parse_opener(text: str) -> Opener | None:
    """Return the Opener if this line (no line ending) opens a KV block, as lark_parser.py does."""
    p = _patterns()
    # PSDK_KVLIST_LINE has the higher priority: once it matches, the line is a PSDK opener
    # if it matched the whole line, and nothing otherwise.
    psdk = p.psdk_opener.match(text)
    if psdk is not None:
        if psdk.end() != len(text):
            return None
        indent = leading_blanks(text)
        named = p.attribute.match(text, len(indent))
        return Opener("psdk", indent, named.group() if named else "KVList")
    c = p.c_opener.fullmatch(text)
    if c is None:
        return None
    return Opener("c", c.group("indent"), c.group("attribute"))


def unread_opener(text: str) -> Opener | None:
    """An Opener marked `unread` for a line (no line ending) that names a KV attribute where an
    opener would (after blanks only) but that no parser reads as one, such as
    `AttributeUserData=[561]..`; None for any other line. Its block is C unless it holds `KVList:`."""
    named = _patterns().named.match(text)
    if named is None:
        return None
    return Opener("psdk" if "KVList:" in text else "c", leading_blanks(text), named.group("attribute"), unread=True)


# ---------------------------------------------------------------- value kinds


def value_kind(value: bytes) -> ValueKind:
    """The kind of a value token by its first byte: a quote for text, `[` for binary, else int."""
    first = value[:1]
    return "str" if first in _QUOTES else "bin" if first == b"[" else "int"


_QUOTES = (b"'", b'"')


@cache
def row_keys_regex() -> re.Pattern[bytes]:
    """The KEY of each leaf line of a run (row_regex lines): findall from the LF before the run."""
    return re.compile(f"\n{token('WS')}({token('KEY')})".encode())


def key_token_ok(key: str) -> bool:
    """True when `'key'` is one whole KEY token (a key the grammar can produce)."""
    return _patterns().key.fullmatch(f"'{key}'") is not None
