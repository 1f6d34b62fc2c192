"""Values a KV line opens and leaves open (a multi-line value), and the lines that may end one.

A value with a line feed in it prints over several lines, and the lines after the first
start wherever the text does, often at column 0, where they would end the block and pass
through in clear. So after a KV line that failed closed with a quote left open, the engine
masks the lines that follow (failed closed too) until one ends with that quote (a value runs
to the last quote on its line, formats.md) or one starts a new log event: a Genesys time
stamp with its level and id, a message header or a KV attribute, at column 0.
"""

from __future__ import annotations

import re
from functools import cache

from logfilter.parsing.lark_parser import terminal_regex

_BLANKS = b" \t\r\v\f"
# How a Genesys log event starts (formats.md): `@10:26:01.5600 ` (a message print), or
# `10:26:01.560 Trc 04541 ` / `2016-04-20T09:22:09.969 Std 00000 ` (time, level, 5-digit id).
# Strict on purpose: a value line such as `10:00 call back` or `9:15:00 said` must not end the value.
_EVENT_TIME = re.compile(
    rb"@\d{1,2}:\d{2}:\d{2}\.\d{3,4}[ \t]"
    rb"|(?:\d{4}-\d{2}-\d{2}T)?\d{1,2}:\d{2}:\d{2}\.\d{3}[ \t]+(?:Std|Trc|Int|Dbg|Alr)[ \t]+\d{5}(?![^ \t])"
)


@cache
def _opening() -> re.Pattern[bytes]:
    # Keys, list marks and PSDK types, then the quote a value starts with.
    key, list_open, type_, equals = (terminal_regex(name) for name in ("KEY", "LIST_OPEN", "TYPE", "EQUALS"))
    # Possessive: what reads as keys stays keys (`'k'(list) ` opens no value).
    chain = f"[ \t]*(?:{key}(?:{list_open}|[ \t]+(?:{type_}{equals})?))*+(?P<quote>['\"])"
    return re.compile(chain.encode())


@cache
def _event_words() -> re.Pattern[bytes]:
    # A KV attribute at column 0 is the PSDK's opener: `AttributeUserData [bstr] = KVList: `.
    return re.compile(f"{terminal_regex('MESSAGE_HEADER')}|{terminal_regex('KV_ATTRIBUTE')}[ \t]+\\[".encode())


def opened(body: bytes) -> bytes | None:
    """The quote of a key or value this KV line (no line ending) starts and does not close, or None."""
    found = _opening().match(body)
    if found is None:
        return None
    quote = found.group("quote")
    rest = body[found.start("quote") :].rstrip(_BLANKS)
    return None if len(rest) > 1 and rest.endswith(quote) else quote


def closes(body: bytes, quote: bytes) -> bool:
    """Whether this line (no line ending) ends with `quote`: the last line of a multi-line value."""
    return body.rstrip(_BLANKS).endswith(quote)


def starts_event(body: bytes) -> bool:
    """Whether a column-0 line (no line ending) starts a new log event or message, ending any value."""
    if not body or body[0] in _BLANKS:
        return False
    # The header and attribute words at the line's start only: `... got message EventX` inside a value is data.
    return _EVENT_TIME.match(body) is not None or _event_words().match(body) is not None
