"""One huge text log cut into byte ranges at message boundaries, and the ranges' outcomes joined.

A range begins at a line that starts a log event (a time stamp, a message header or a KV
attribute at column 0; parsing/events.starts_event): such a line ends any KV block (engines/blocks.belongs)
and any value left open over several lines (parsing/events.py), so a walk started fresh there
goes on exactly as the one that read everything before it, and the ranges masked apart and concatenated are the
bytes of the file masked whole. A line longer than SNIFF_SIZE is never a cut. A cut is also moved
on past a line whose first 8 KiB would not sniff as text (a NUL, an archive's magic), so every range is masked as the text it is.

Each range numbers its lines from 1; `join` shifts the line numbers in the warnings by the
lines of the ranges before, and keeps the first MAX_WARNINGS, as one pass over the file would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from logfilter.batch.rewrite import MAX_WARNINGS, Outcome
from logfilter.parsing.events import WHITESPACE, starts_at
from logfilter.sources.sniff import SNIFF_SIZE, judge

SPLIT_SIZE = 1 << 30  # files over 1 GiB are split ...
RANGE_SIZE = 256 << 20  # ... into ranges of about 256 MiB
_WINDOW = 1 << 16  # bytes read at a time while looking for the next boundary
_NOT_FIRST = frozenset(WHITESPACE + b"\n")


@dataclass(frozen=True, slots=True)
class Range:
    """Bytes [start, end) of one input; end None means to the end of the file."""

    index: int
    start: int
    end: int | None


def cuts(stream: BinaryIO, size: int, range_size: int) -> list[Range]:
    """The ranges of a seekable text input of `size` bytes, each about `range_size` long.

    Reads a few KiB at each candidate cut, never the whole input. One range when no
    boundary is found (one endless message): the file is then done whole.
    """
    starts = [0]
    goal = range_size
    while goal < size:
        found = _boundary(stream, goal, size)
        if found is None:
            break
        starts.append(found)
        goal = found + range_size
    ends: list[int | None] = [*starts[1:], None]
    return [Range(index, start, end) for index, (start, end) in enumerate(zip(starts, ends, strict=True))]


def _boundary(stream: BinaryIO, offset: int, size: int) -> int | None:
    """The first offset at or after `offset` where a range may begin, or None."""
    stream.seek(offset - 1)
    position = offset - 1  # the byte before: a line begins after a line feed
    carry = b""
    while position < size:
        window = carry + stream.read(_WINDOW)
        if len(window) <= len(carry):
            return None
        base = position - len(carry)
        search = 0
        while (newline := window.find(b"\n", search)) >= 0:
            start = newline + 1
            if start >= len(window):
                break  # the next line starts in the next window
            if window[start] not in _NOT_FIRST and _starts_range(stream, base + start):
                return base + start
            search = start
        position = base + len(window)
        carry = window[-1:]
        stream.seek(position)
    return None


def _starts_range(stream: BinaryIO, offset: int) -> bool:
    """Whether the line at `offset` starts a log event (which ends any value left open over
    several lines, parsing/events.py) and the SNIFF_SIZE bytes from there are judged a text log."""
    here = stream.tell()
    stream.seek(offset)
    head = stream.read(SNIFF_SIZE)
    stream.seek(here)
    return starts_at(head) and judge(head).is_text


def join(name: str, parts: list[Outcome]) -> Outcome:
    """The outcome of the whole file from the outcomes of its ranges, in order."""
    whole = Outcome(name, "text")
    lines = 0
    for part in parts:
        if part.status == "failed":
            return Outcome(name, "text", "failed", reason=_shift(part.reason or "", name, lines))
        for warning in part.warnings:
            if len(whole.warnings) < MAX_WARNINGS:
                whole.warnings.append(_shift(warning, name, lines))
        whole.stats.add(part.stats)
        lines += part.stats.lines
    return whole


def _shift(message: str, name: str, lines: int) -> str:
    """`name:N: ...` with N counted from the start of the file instead of the range."""
    prefix = f"{name}:"
    if not message.startswith(prefix):
        return message
    number, colon, rest = message[len(prefix) :].partition(":")
    if not colon or not number.isdigit():
        return message
    return f"{prefix}{int(number) + lines}:{rest}"
