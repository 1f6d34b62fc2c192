"""Where log events start and end, line by line: the one home of every such question.

- `starts_event`: a column-0 line that starts a new log event (a Genesys time stamp with its
  level and id, a message header or a KV attribute). Batch cuts huge files into ranges there
  (`starts_at`), follow starts --from-end there (`last_event`), and it ends any value left
  open over several lines.
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
  grammar's MESSAGE_HEADER starts a message; the walker and the fast path count those, the
  JSON lines name the message by it, and a follow restart counts the lines it sends again.
"""

from __future__ import annotations

import re
from functools import cache

from logfilter.parsing.terminals import message_header_regex, terminal_regex

# A line starting with any of these is indented; one made only of them carries no data.
WHITESPACE = b" \t\r\v\f"
# Every MESSAGE_HEADER match contains one of these (its two alternatives; tests hold it so).
HEADER_HINTS = (b"essage ", b"' ('")
_QUOTE = 39
# A split point: an empty line, or a line at column 0 that is not the PSDK's `message attributes:`
# or `Attribute...` line, nor the C `message X` line printed under its event line (formats.md).
_SPLIT = re.compile(rb"\r?\n|(?!message |Attribute)[^ \t\r\v\f\n]")
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
    return _EVENT_TIME.match(body) is not None or _event_words().match(body) is not None


def starts_at(head: bytes) -> bool:
    """Whether `head` (bytes from the start of a line) begins with a whole line that starts a log
    event: a walk started fresh there goes on as one that read everything before (batch ranges)."""
    line, newline, _rest = head.partition(b"\n")
    return bool(newline) and starts_event(line.rstrip(b"\r"))


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
    HEADER_HINTS are searched: the fast path finds a chunk's headers at once this way, then
    counts those on free lines.
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
