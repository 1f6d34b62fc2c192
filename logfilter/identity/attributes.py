"""What an attribute line outside KV blocks is: its name, its print, and where its value is.

Two prints (formats.md §2, §3), at any indentation (logs pasted from tickets lose it):
- C: `→AttributeANI→'+14155550123'` or `→AttributeCallID→3`: a single-quoted string runs to the
  last quote on the line; a bare value is one token;
- PSDK: `AttributeANI [str] = "+14155550123"`: a double-quoted string runs to the last double
  quote on the line; a bare value (`[int] = 3`) is one token.
Anything else after a listed name (two tokens, text after the closing quote, a quote that
does not close) cannot be read: the caller fails closed. A quote that does not close leaves
the value open: the lines after it may go on with it (parsing/events.py).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from logfilter.parsing.events import WHITESPACE
from logfilter.parsing.model import Layout

_PSDK = re.compile(rb"[ \t]*(Attribute[A-Za-z0-9_]+)[ \t]+\[[A-Za-z][A-Za-z0-9_]*\][ \t]*=[ \t]*")
_C = re.compile(rb"[ \t]*(Attribute[A-Za-z0-9_]+)[ \t]+")
_QUOTES: dict[Layout, bytes] = {"c": b"'", "psdk": b'"'}
# What logfilter leaves of a value it failed closed: nothing left to read or mask. Unquoted, as
# untag's FAILED_TEXT (engines/untag.py); a KV line's is FAILED_KV_LINE, quoted (engines/blocks.py).
FAILED = b"****"


class Attribute(NamedTuple):
    """An attribute line: its name, print, where its value starts and ends (trailing blanks after)."""

    name: str
    layout: Layout
    start: int
    end: int


def attribute(line: bytes) -> Attribute | None:
    """The attribute line `line` is (no line ending), or None; its value may still be unreadable (`value`)."""
    found = _PSDK.match(line)
    layout: Layout = "psdk"
    if found is None:
        found, layout = _C.match(line), "c"
        if found is None:
            return None
    end = len(line.rstrip(WHITESPACE))
    if end <= found.end():
        return None  # no value: nothing to read or mask
    return Attribute(found.group(1).decode("ascii"), layout, found.end(), end)


def value(line: bytes, found: Attribute) -> tuple[bool, bytes | None]:
    """(readable, open quote): whether the value is one quoted string or one bare token; the quote
    a string starts and does not close (the value goes on after the line), or None."""
    quote = _QUOTES[found.layout]
    text = line[found.start : found.end]
    if text[:1] == quote:
        if len(text) == 1 or line.rfind(quote, found.start + 1, found.end) < 0:
            return False, quote
        return text.endswith(quote), None
    return not any(blank in text for blank in WHITESPACE), None


def already_failed(line: bytes, found: Attribute) -> bool:
    """Whether the value is what logfilter leaves of one it failed closed: `****`, nothing to read."""
    return line[found.start : found.end] == FAILED
