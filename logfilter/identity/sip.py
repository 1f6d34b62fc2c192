"""What one line of a SIP message is, and where the identities in it are: display names and URI user parts.

Pure functions over one line's bytes (no line ending); offsets are into that line. A Span is
one identity: a display name, quoted (`"Jane Roe"`, its quotes part of it) or not (`Jane Roe`),
or the user part of a `sip:` / `sips:` URI (the text before its `@`, a password included) or
the number of a `tel:` URI (up to its first `;`). Hosts, ports, parameters and tags are not
identities, nor are URIs of other schemes (`urn:`, `http:`). A header value is read as a list
of comma-separated elements (RFC 3261 §20: name-addr or addr-spec, each with parameters, or
Contact's `*`); commas and `<`, `>` inside quoted strings do not count, nor commas inside
`<...>`; a comma may end the line (the list goes on on a folded line). A value that does not
read so returns None: the caller fails closed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from logfilter.parsing.events import WHITESPACE

# The line after `... Sending ... >>>>>` / `... Received ... <<<<<` that SIP Server prints before each message.
INTRODUCER = re.compile(rb"(?:^|[ \t:])(?:Sending|Received)[ \t].*(?:>>>>>|<<<<<)[ \t\r]*$")
STATUS_LINE = re.compile(rb"SIP/\d+\.\d+[ \t]+\d{3}(?:[ \t]|$)")
REQUEST_LINE = re.compile(rb"[!%'*+\-.0-9A-Z_`a-z~]+ ([^ \t]+) SIP/\d+\.\d+[ \t\r]*$")
HEADER_LINE = re.compile(rb"([!#$%&'*+\-.0-9A-Z^_`a-z|~]+)[ \t]*:[ \t]*")
# A time stamp that starts a log line (`13:54:59.884:`, `@10:26:01.5600`, `2016-04-20T09:22:09.969`):
# never a header (a header name is a token followed by a colon), so it ends a message cut short.
TIME_STAMP = re.compile(rb"@?(?:\d{4}-\d{2}-\d{2}[T ])?\d{1,2}:\d{2}:\d{2}[.,]\d")
_SCHEME = re.compile(rb"([A-Za-z][A-Za-z0-9+.\-]*):")
_QUOTE, _LT, _GT, _COMMA, _SEMI, _EQ, _STAR, _AT, _BACKSLASH = b'"<>,;=*@\\'
_NO_USER = (-1, -1)


class Span(NamedTuple):
    """One identity in a line: [start, end), and whether its own quotes are part of it (a quoted display name)."""

    start: int
    end: int
    kind: str  # "display" or "user"
    quoted: bool = False


def identities(line: bytes, start: int) -> list[Span] | None:
    """The identities of the header value line[start:], in order; None if it cannot be read so."""
    spans: list[Span] = []
    end = len(line)
    pos = _skip(line, start)
    if pos == end:
        return spans  # an empty value holds no identity
    while True:
        at = _element(line, pos, spans)
        if at is None:
            return None
        pos = _skip(line, at)
        if pos == end:
            return spans
        if line[pos] != _COMMA:
            return None
        pos = _skip(line, pos + 1)
        if pos == end:
            return spans  # the list goes on on a folded line (which the caller fails closed)


def uri_user(line: bytes, start: int, end: int) -> tuple[int, int] | None:
    """Where the user part of the URI line[start:end) is ((-1, -1): it has none); None: not a URI."""
    scheme = _SCHEME.match(line, start, end)
    if scheme is None:
        return None
    name, rest = scheme.group(1).lower(), scheme.end()
    if name in (b"sip", b"sips"):
        at = line.find(b"@", rest, end)
        return (rest, at) if at > rest else _NO_USER
    if name == b"tel":
        stop = rest
        while stop < end and line[stop] not in b";?":
            stop += 1
        return (rest, stop) if stop > rest else _NO_USER
    return _NO_USER  # another scheme: no caller's number of the kinds these rules name


def _element(line: bytes, pos: int, spans: list[Span]) -> int | None:
    """Read one element from `pos` (not a blank); add its identities; return where it ends, or None."""
    if line[pos] == _STAR:
        return pos + 1  # Contact: *
    if line[pos] == _QUOTE:
        close = _quoted_end(line, pos)
        if close is None:
            return None
        if close - pos > 2:  # `""` names nobody
            spans.append(Span(pos, close, "display", True))
        pos = _skip(line, close)
        if pos == len(line) or line[pos] != _LT:
            return None
    else:
        stop = _find_any(line, pos, b'<,;"')
        if stop == len(line) or line[stop] != _LT:
            return _addr_spec(line, pos, spans)
        shown = len(line[pos:stop].rstrip(WHITESPACE)) + pos
        if shown > pos:
            spans.append(Span(pos, shown, "display"))
        pos = stop
    close = line.find(b">", pos)
    if close < 0:
        return None
    user = uri_user(line, pos + 1, close)
    if user is None:
        return None
    if user != _NO_USER:
        spans.append(Span(*user, "user"))
    return _params(line, close + 1)


def _addr_spec(line: bytes, pos: int, spans: list[Span]) -> int | None:
    """A URI without angle brackets: its user part runs to its `@` (even past a `;`, which some
    print in the user part), the URI to the next `;`, `,` or blank; parameters follow."""
    stop = _find_any(line, pos, b", \t\r\v\f")
    at = line.find(b"@", pos, stop)
    end = _find_any(line, at if at >= 0 else pos, b";, \t\r\v\f")
    user = uri_user(line, pos, end)
    if user is None:
        return None
    if user != _NO_USER:
        spans.append(Span(*user, "user"))
    return _params(line, end)


def _params(line: bytes, pos: int) -> int | None:
    """Skip `;name=value` parameters (a value may be quoted, or in `<...>`); return where they end."""
    end = len(line)
    pos = _skip(line, pos)
    while pos < end and line[pos] == _SEMI:
        pos = _skip(line, _find_any(line, pos + 1, b"=;, \t\r\v\f"))
        if pos < end and line[pos] == _EQ:
            pos = _skip(line, pos + 1)
            if pos < end and line[pos] == _QUOTE:
                close = _quoted_end(line, pos)
            elif pos < end and line[pos] == _LT:
                close = line.find(b">", pos) + 1 or None
            else:
                close = _find_any(line, pos, b";, \t\r\v\f")
            if close is None:
                return None
            pos = _skip(line, close)
    return pos


def _quoted_end(line: bytes, pos: int) -> int | None:
    """Where the quoted string starting at `pos` ends (after its closing quote; `\\` escapes), or None."""
    at, end = pos + 1, len(line)
    while at < end:
        byte = line[at]
        if byte == _BACKSLASH:
            at += 2
            continue
        if byte == _QUOTE:
            return at + 1
        at += 1
    return None


def _find_any(line: bytes, pos: int, stops: bytes) -> int:
    """The first position from `pos` holding one of `stops`, or the line's end."""
    end = len(line)
    while pos < end and line[pos] not in stops:
        pos += 1
    return pos


def _skip(line: bytes, pos: int) -> int:
    end = len(line)
    while pos < end and line[pos] in WHITESPACE:
        pos += 1
    return pos


def introduces(body: bytes) -> bool:
    """Whether a line (no line ending) is the introducer SIP Server prints before a message (INTRODUCER).

    The identity reader reads the message after it; a KV block ends at it (engines/blocks.ends)."""
    # The arrows first: most lines have none, and the pattern's search is the slower test.
    return (b">>>>>" in body or b"<<<<<" in body) and INTRODUCER.search(body) is not None
