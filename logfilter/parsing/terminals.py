"""The grammar's terminals as regular expressions, and the kind of value each value terminal carries.

grammars/tlib.lark writes each terminal once; the walker (message headers, opener hints),
parsing/events.py and the regex parser take their patterns from here. The grammar is read in
Lark's lexer-only mode (grammar.py `terminals`): the reference parser's LALR tables
(lark_parser.py) are built only when a line is parsed with it.

Start-up note (measured on the restructure branch, two cores): building those tables costs a few
ms; importing lark (about 35 ms) and loading a grammar (about 10 ms) cost the rest, here and in
rules/filters.py. A start near 0.1 s needs the terminals without lark: e.g. a table generated
from the grammar, held equal to it by a test.
"""

from __future__ import annotations

import re
from functools import cache

from logfilter.parsing.grammar import terminals

# The kind of value each value terminal carries.
VALUE_KINDS = {"QUOTED": "str", "DQUOTED": "str", "INT": "int", "BINARY": "bin"}


@cache
def _tlib() -> dict[str, str]:
    return terminals("tlib")


def terminal_regex(name: str) -> str:
    """The regular expression of one terminal of grammars/tlib.lark, as written there."""
    return _tlib()[name]


@cache
def message_header_regex() -> re.Pattern[bytes]:
    """The MESSAGE_HEADER terminal as a bytes regex, for counting messages in free lines."""
    return re.compile(terminal_regex("MESSAGE_HEADER").encode())


@cache
def kv_attribute_regex() -> re.Pattern[str]:
    """The KV_ATTRIBUTE terminal: a KV attribute's name (AttributeUserData, ...)."""
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
