"""Where log events start and end, line by line: the one home of every such question.

- `starts_event`: a column-0 line that starts a new log event: a Genesys time stamp with its
  level and id, SIP Server's traffic lines, a Java (PSDK) log line, a message header, a PSDK
  attribute line or a KV attribute opening a block. Such a line ends any KV block and any
  value left open (the walker, engines/walker.py); batch cuts huge files into ranges there
  (`starts_at`), follow starts --from-end there (`last_event`).
- `announced`: the pair count in a C block's header, evidence of where the block ends.
- Values left open (`opened`, `closes`): a value with a line feed in it prints over several
  lines, and the lines after the first start wherever the text does, often at column 0,
  where they would end the block and pass through in clear. So after a KV line that failed
  closed with a quote left open, the walker masks the lines that follow (failed closed too)
  until one ends with that quote (a value runs to the last quote on its line, formats.md)
  or one starts a new log event.
- Split points (`last_split`): where follow may emit a record and take a checkpoint: the
  start of an empty line, or of a column-0 line that does not continue the message before it.
- `continues_message`: whether a line outside KV blocks goes on with the message before it,
  for the JSON lines output.
- Message headers (`message_header`, `header_lines`): a line outside KV blocks with the
  grammar's MESSAGE_HEADER starts a message; the walker counts those (the compiled scanner
  searches HEADER_HINTS in C), the JSON lines name the message by it, and a follow restart counts the lines it sends again.
"""

from __future__ import annotations

import re
from functools import cache

from logfilter.parsing.terminals import blank_chars, message_header_regex, terminal_regex

# A line starting with any of these is indented; one made only of them carries no data.
WHITESPACE = b" \t\r\v\f"
# Every MESSAGE_HEADER match contains one of these (its two alternatives; tests hold it so).
HEADER_HINTS = (b"essage ", b"' ('")
_QUOTE = 39
# A split point: an empty line, or a line at column 0 that is not the PSDK's `message attributes:`
# or `Attribute...` line, nor the C `message X` line printed under its event line (formats.md).
_SPLIT = re.compile(rb"\r?\n|(?!message |Attribute)[^ \t\r\v\f\n]")
# How a log event starts (formats.md): `@10:26:01.5600 ` (a message print), or
# `10:26:01.560 Trc 04541 ` / `2016-04-20T09:22:09.969 Std 00000 ` (time, level, 5-digit id);
# SIP Server's traffic, `10:00:02.525: Sending  [0,UDP] 388 bytes to ...` or without the time,
# `Received [0,UDP] 494 bytes from ...`; a Java (PSDK) log line, `2026-11-22 10:15:01,121 DEBUG `.
# Strict on purpose: a value line such as `10:00 call back` or `9:15:00 said` must not end the value.
_EVENT_START = re.compile(
    rb"@\d{1,2}:\d{2}:\d{2}\.\d{3,4}[ \t]"
    rb"|(?:\d{4}-\d{2}-\d{2}T)?\d{1,2}:\d{2}:\d{2}\.\d{3}[ \t]+(?:Std|Trc|Int|Dbg|Alr)[ \t]+\d{5}(?![^ \t])"
    rb"|(?:\d{1,2}:\d{2}:\d{2}\.\d{3}:[ \t]+)?(?:Sending|Received)[ \t]+\[\d+,[A-Za-z]+\][ \t]+\d+ bytes (?:to|from) "
    rb"|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[.,]\d{3}[ \t]+(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)(?![^ \t])"
)


@cache
def _opening() -> re.Pattern[bytes]:
    # Keys, list marks and PSDK types, then the quote a value starts with.
    key, list_open, type_, equals = (terminal_regex(name) for name in ("KEY", "LIST_OPEN", "TYPE", "EQUALS"))
    # Possessive: what reads as keys stays keys (`'k'(list) ` opens no value).
    chain = f"[ \t]*(?:{key}(?:{list_open}|[ \t]+(?:{type_}{equals})?))*+(?P<quote>['\"])"
    return re.compile(chain.encode())


@cache
def blank_bytes() -> bytes:
    """A bytes pattern for one blank of an attribute line, as the BLANKS terminal: any Unicode blank in UTF-8."""
    return b"(?:" + b"|".join(re.escape(char.encode()) for char in blank_chars()) + b")"


@cache
def _event_words() -> re.Pattern[bytes]:
    header = terminal_regex("MESSAGE_HEADER").encode()
    return re.compile(
        # A message header: `message RequestX`, `'EventRinging' ('2')`; or the C print's
        # `request to 65200(TServer) message RequestX` / `received from ... message EventX`.
        header + rb"|(?:request to|received from)[ \t][^\r\n]*?" + header
        # An attribute at column 0 with a type or a list header after it: the PSDK's
        # `AttributeCallType [int] = 2`, `AttributeUserData [bstr] = KVList: `, a C opener
        # `AttributeUserData  [598] 00 16 00 00..` (blanks of any kind); the PSDK's `message attributes:`;
        # a line ending in `KVList:`, which opens a PSDK block.
        + b"|Attribute[A-Za-z0-9_]*" + blank_bytes() + rb"+\[|message attributes:"
        + b"|" + terminal_regex("PSDK_KVLIST_LINE").encode() + rb"\Z"
    )


def announced(header: bytes) -> int | None:
    """The top-level pairs a C block's opener line announces, or None (formats.md §5).

    In `[561] 00 14 00 00..` the two bytes after the size count the pairs, big-endian: 20.
    """
    found = _count().search(header)
    return None if found is None else int(found.group(1) + found.group(2), 16)


@cache
def _count() -> re.Pattern[bytes]:
    blanks = blank_bytes() + b"+"
    attribute = terminal_regex("KV_ATTRIBUTE").encode()
    return re.compile(attribute + blanks + rb"\[\d+\]" + blanks + rb"([0-9A-Fa-f]{2})" + blanks + rb"([0-9A-Fa-f]{2})(?![0-9A-Za-z])")


def opened(body: bytes) -> bytes | None:
    """The quote of a key or value this KV line (no line ending) starts and does not close, or None."""
    found = _opening().match(body)
    if found is None:
        return None
    quote = found.group("quote")
    rest = body[found.start("quote") :].rstrip(WHITESPACE)
    return None if len(rest) > 1 and rest.endswith(quote) else quote


def closes(body: bytes, quote: bytes) -> bool:
    """Whether this line (no line ending) ends with `quote`: the last line of a multi-line value."""
    return body.rstrip(WHITESPACE).endswith(quote)


def starts_event(body: bytes) -> bool:
    """Whether a column-0 line (no line ending) starts a new log event or message, ending any value."""
    if not body or body[0] in WHITESPACE:
        return False
    # The header and attribute words at the line's start only: `... got message EventX` inside a value is data.
    return _EVENT_START.match(body) is not None or _event_words().match(body) is not None


def starts_at(head: bytes) -> bool:
    """Whether `head` (bytes from the start of a line) begins with a whole line that starts a log
    event and no message goes on over it: a walk started fresh there goes on as one that read
    everything before (batch ranges), and the JSON lines' messages are not cut."""
    line, newline, _rest = head.partition(b"\n")
    return bool(newline) and is_split(head) and starts_event(line.rstrip(b"\r"))


def continues_message(body: bytes) -> bool:
    """Whether a line outside KV blocks (no line ending) goes on with the message before it.

    Lines that start with a blank do, and so do the PSDK's column-0 `Attribute...` lines and
    a C `message X` line that is no message header itself (printed under its event line).
    Unlike at a split point, a `message X` header line starts a message of its own here.
    """
    if not body:
        return False
    if body[0] in WHITESPACE or body.startswith(b"Attribute"):
        return True
    return body.startswith(b"message ") and message_header_regex().search(body) is None


def message_header(body: bytes) -> re.Match[bytes] | None:
    """The message header on a line (no line ending), or None.

    Only a line outside KV blocks starts a message with it (the walker counts those); inside a
    block the same text is part of a value.
    """
    return message_header_regex().search(body)


def header_lines(data: bytes) -> list[int]:
    """Where each line of `data` with a message header starts, in order, inside KV blocks or not.

    The same lines as `message_header` finds line by line, but only lines holding one of
    HEADER_HINTS are searched: a follow restart counts a stretch's headers at once this way.
    """
    search = message_header_regex().search
    checked: dict[int, bool] = {}
    for hint in HEADER_HINTS:
        at = data.find(hint)
        while at >= 0:
            line_start = data.rfind(b"\n", 0, at) + 1
            line_end = data.find(b"\n", at)
            if line_end < 0:
                line_end = len(data)  # the last line, unended
            if line_start not in checked:
                # A match contains a hint and starts at most two bytes before the first
                # one; a match anchored at the line start needs the search to start there.
                offset = at - line_start
                line = data[line_start:line_end]
                checked[line_start] = bool(search(line, offset - 2 if offset > 2 and line[0] != _QUOTE else 0))
            at = data.find(hint, line_end)
    return sorted(line_start for line_start, header in checked.items() if header)


def last_split(data: bytes) -> int:
    """Where the last split point in `data` (whole lines) is, or -1 if it has none."""
    end = len(data) - 1  # the final LF starts no line
    while end >= 0:
        start = data.rfind(b"\n", 0, end) + 1
        if _SPLIT.match(data, start):
            return start
        end = start - 1
    return -1


def is_split(data: bytes) -> bool:
    """Whether `data` (whole lines) starts at a split point."""
    return _SPLIT.match(data) is not None


def last_event(data: bytes) -> int:
    """Where the last split point in `data` (whole lines) that starts a log event is, or -1.

    Unlike any split point, it cannot be inside a value printed over several lines: a fresh
    walk started there goes on as one that read all before it.
    """
    end = len(data) - 1
    while end >= 0:
        start = data.rfind(b"\n", 0, end) + 1
        if _SPLIT.match(data, start) and starts_event(data[start:end].rstrip(b"\r")):
            return start
        end = start - 1
    return -1
