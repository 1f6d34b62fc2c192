"""The bounded framer: a byte stream cut into whole lines, and lines too long to hold into parts.

A line is held until its LF, so a file with no LF at all (a 100 MB line, a binary file fed
by mistake) would be held whole, and copied several times over while it is read. The
BoundedFramer holds at most MAX_LINE bytes of a line: past that, the line goes to the
walk in parts (Walker.overlong): its head, which decides what the line is, the middle
parts, and its end with the line ending. Every command frames its input here, so memory
stays near MAX_LINE plus one chunk whatever the input.
"""

from __future__ import annotations

MAX_LINE = 4 << 20  # bytes of one line read whole; longer lines go by parts
LINES = -1  # whole lines, each with its LF
REST = -2  # the unended last line of an input, at most MAX_LINE bytes
# The parts of an overlong line: its first max_line + 1 bytes, the bytes after them (any
# number of these parts), and its end with the line ending (none at the end of the input).
HEAD, MORE, END = 0, 1, 2

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
        reads cut it: its head is always its first max_line + 1 bytes, so what the walk
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
            if self._pending:  # one copy: the held bytes and this chunk's lines joined at once
                lines = b"".join((*self._pending, memoryview(chunk)[pos:end]))
                self._pending, self._size = [], 0
            else:
                lines = chunk[pos:end]
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

