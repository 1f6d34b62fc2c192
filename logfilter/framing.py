"""Lines longer than logfilter holds in memory, cut into parts an engine takes one at a time.

A line is held until its LF, so a file with no LF at all (a 100 MB line, a binary file fed
by mistake) would be held whole, and copied several times over while it is read. The
BoundedFramer holds at most MAX_LINE bytes of a line: past that, the line goes to the
engine in parts (LineEngine.overlong): its head, which decides what the line is, the
middle parts, and its end with the line ending. A line inside a KV block fails closed
whole; any other line passes through unchanged. Memory stays near MAX_LINE plus one chunk.
"""

from __future__ import annotations

from collections.abc import Iterable

from logfilter.engines.walker import END, HEAD, MORE, LineEngine

MAX_LINE = 4 << 20  # bytes of one line read whole; longer lines go by parts
LINES = -1  # whole lines, each with its LF
REST = -2  # the unended last line of an input, at most MAX_LINE bytes

Part = tuple[int, bytes]


class BoundedFramer:
    """Cuts a byte stream into whole lines and parts of overlong lines, without losing a byte."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._pending: list[bytes] = []
        self._size = 0
        self._long = False  # inside a line whose head went out

    def feed(self, chunk: bytes) -> list[Part]:
        """The whole lines and line parts this chunk completes, in order.

        A line is overlong when its text (without the LF) is longer than max_line, however the
        reads cut it: its head is always its first max_line + 1 bytes, so what the engine
        decides never depends on the size of the reads.
        """
        parts: list[Part] = []
        pos, size, limit = 0, len(chunk), self.max_line
        if self._long:
            at = chunk.find(b"\n") + 1
            if at == 0:
                return [(MORE, chunk)]
            parts.append((END, chunk[:at]))
            self._long, pos = False, at
        while pos < size:
            at = chunk.find(b"\n", pos)
            if at < 0:
                break
            if self._size + at - pos > limit:  # the line ending here is overlong
                self._start_long(chunk[pos:at], parts)
                parts.append((END, b"\n"))
                self._long, pos = False, at + 1
                continue
            end = chunk.rfind(b"\n", pos) + 1
            if end - pos > limit:  # a later line in the chunk may be overlong: up to the first that is
                end = at + 1
                while (at := chunk.find(b"\n", end)) >= 0 and at - end <= limit:
                    end = at + 1
            lines = chunk[pos:end]
            if self._pending:
                lines = b"".join(self._pending) + lines
                self._pending, self._size = [], 0
            parts.append((LINES, lines))
            pos = end
        if pos < size:
            self._pending.append(chunk[pos:] if pos else chunk)
            self._size += size - pos
            if self._size > limit:
                self._start_long(b"", parts)
        return parts

    def _start_long(self, more: bytes, parts: list[Part]) -> None:
        """Hand out the pending bytes and `more` as the head and first middle part of an overlong line."""
        data = b"".join(self._pending) + more
        self._pending, self._size, self._long = [], 0, True
        cut = self.max_line + 1
        parts.append((HEAD, data[:cut]))
        if len(data) > cut:
            parts.append((MORE, data[cut:]))

    def finish(self) -> list[Part]:
        """What is left at the end of the input: the end of an overlong line, or an unended line."""
        if self._long:
            self._long = False
            return [(END, b"")]
        rest = b"".join(self._pending)
        self._pending, self._size = [], 0
        return [(REST, rest)] if rest else []


def mask_parts(engine: LineEngine, parts: Iterable[Part], lineno: int, out: list[bytes]) -> int:
    """Append the engine's output for `parts` (the first line is `lineno`) to `out`; return the lines read.

    As LineEngine.feed, output for the lines before a failure that raises is already in `out`.
    """
    done = 0
    for kind, data in parts:
        if kind == LINES:
            done += engine.feed(data, lineno + done, out)
        elif kind == REST:
            out.append(engine.process(data, lineno + done))
            done += 1
        else:
            out.append(engine.overlong(data, kind, lineno + done))
            done += kind == END
    return done
