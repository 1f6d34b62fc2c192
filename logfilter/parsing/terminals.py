"""The terminals of grammars/tlib.lark as regular expressions, read from the grammar's text without building a parser.

Every walk needs a few of them at its start (message headers, opener hints, the regex
parser's tokens); building the Lark parser for them would cost more than the rest of a
`logfilter run` start. tests/unit/test_regex_parser.py holds each equal to what Lark makes of
it. Also here: the kind of value each value terminal carries.
"""

from __future__ import annotations

import re
from functools import cache

from logfilter.parsing.grammar import grammar_text

# The kind of value each value terminal carries.
VALUE_KINDS = {"QUOTED": "str", "DQUOTED": "str", "INT": "int", "BINARY": "bin"}

# `NAME: /regex/flags` or `NAME: "literal"` (an optional `.priority` after the name), one per line.
_DEFINITION = re.compile(
    r'^(?P<name>[A-Z][A-Z0-9_]*)(?:\.-?\d+)?[ \t]*:[ \t]*'
    r'(?:/(?P<regex>(?:[^/\\\n]|\\.)*)/(?P<flags>[imslux]*)|"(?P<literal>(?:[^"\\\n]|\\.)*)")[ \t]*$',
    re.MULTILINE,
)


# As Lark reads a pattern: these escapes become the characters, every other escape stays.
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f"}
_ESCAPE = re.compile(r"\\(.)")


@cache
def _terminals() -> dict[str, str]:
    found = {}
    for match in _DEFINITION.finditer(grammar_text("tlib")):
        if match.group("literal") is not None:
            found[match.group("name")] = re.escape(_ESCAPE.sub(lambda hit: _ESCAPES.get(hit[1], hit[1]), match["literal"]))
            continue
        regex = _ESCAPE.sub(lambda hit: _ESCAPES.get(hit[1], hit[0] if hit[1] != "/" else "/"), match["regex"])
        found[match.group("name")] = f"(?{match['flags']}:{regex})" if match.group("flags") else regex
    return found


def terminal_regex(name: str) -> str:
    """The regular expression of one terminal of grammars/tlib.lark, as written there."""
    return _terminals()[name]


@cache
def message_header_regex() -> re.Pattern[bytes]:
    """The MESSAGE_HEADER terminal as a bytes regex, for counting messages in free lines."""
    return re.compile(terminal_regex("MESSAGE_HEADER").encode())


@cache
def kv_attribute_regex() -> re.Pattern[str]:
    """The KV_ATTRIBUTE terminal: the attribute names whose value is a KV list."""
    return re.compile(terminal_regex("KV_ATTRIBUTE"))


@cache
def opener_hint_regex() -> re.Pattern[bytes]:
    """Bytes every opener contains (a KV attribute name or `KVList:`): a cheap test before parsing."""
    return re.compile(f"{terminal_regex('KV_ATTRIBUTE')}|KVList:".encode())


@cache
def blank_chars() -> str:
    """Every character the BLANKS terminal matches (all of them are below U+3001)."""
    blanks = re.compile(terminal_regex("BLANKS"))
    return "".join(char for char in map(chr, range(0x3001)) if blanks.fullmatch(char))


def leading_blanks(text: str) -> str:
    """The blanks (any Unicode blank but a line ending: the BLANKS terminal) that `text` starts with."""
    return text[: len(text) - len(text.lstrip(blank_chars()))]
