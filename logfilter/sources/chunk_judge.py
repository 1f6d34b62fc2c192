"""Judging the bytes after an input's text head as they go by: a stretch that is no text log stops it.

sniff.judge decides on an input's head (and a file's trailer); a ChunkJudge goes on from there for
the loop (pipeline.py), chunk by chunk, with the same verdicts (sniff.Verdict, its `offset`
saying where the stretch starts).
"""

from __future__ import annotations

import re

from logfilter.sources.sniff import LONE_CR, NUL_RUNS, SNIFF_SIZE, Kind, Verdict

# Bytes no text log holds (NUL aside, which a few logs do): C0 controls but TAB, LF, VT, FF, CR and ESC.
_CONTROLS = bytes(range(0x01, 0x09)) + bytes(range(0x0E, 0x1B)) + bytes(range(0x1C, 0x20)) + b"\x7f"
# The records of a zip (local header, central directory, end records, data descriptor) and a tar header.
_ARCHIVE_RECORD = re.compile(rb"PK(?:\x03\x04|\x01\x02|\x05\x06|\x06\x06|\x06\x07|\x07\x08)|ustar(?:\x00|  \x00)")


class ChunkJudge:
    """Judges the bytes after an input's head as they go by, chunk by chunk (the loop's, pipeline.py).

    A text head may be followed by what is no text log: binary data (a core dump, compressed
    data), UTF-16 text, an archive's records (a zip with text in front, read from a pipe), or
    text with CR-only line ends. Each would pass through unread. The common chunk costs a
    search for a NUL and one for an LF per 4 KiB: C-speed scans.

    A NUL alone does not make binary data (a few logs carry one in a value): a window of the
    input (SNIFF_SIZE bytes, aligned as the head is) does when more than 1% of it is control
    bytes, NULs in runs of 16 or more (zero padding) aside; an archive record does (each has a
    NUL within a few bytes of its signature). A stretch of more than SNIFF_SIZE bytes without
    an LF does when it holds a CR that ends no line, as a head would (sniff.judge). The verdict
    never depends on how the input was read: the counts only grow as a window fills.
    """

    _LF_WINDOW = SNIFF_SIZE // 2  # an LF-less stretch of SNIFF_SIZE holds a whole such window
    _CARRY = 8  # bytes before a chunk searched with it: a record's signature may end the chunk before

    def __init__(self, head: bytes) -> None:
        last_lf = head.rfind(b"\n")
        self._offset = len(head)  # where the next chunk starts in the input
        self._window = head[len(head) - len(head) % SNIFF_SIZE :]  # the window being filled, so far
        self._gap = len(head) - last_lf - 1  # bytes since the last LF
        self._lone = LONE_CR.search(head, last_lf + 1) is not None  # a CR that ends no line among them
        self._carry = head[-self._CARRY :]

    def feed(self, chunk: bytes) -> Verdict | None:
        """The Verdict on the input when `chunk` shows it is no text log from some byte on, else None."""
        offset, carry, window = self._offset, self._carry, self._window
        self._offset += len(chunk)
        self._carry = chunk[-self._CARRY :] if len(chunk) >= self._CARRY else (carry + chunk)[-self._CARRY :]
        filled = self._offset % SNIFF_SIZE  # bytes of the last window, once this chunk is in
        self._window = window + chunk if filled > len(chunk) else chunk[len(chunk) - filled :] if filled else b""
        if b"\x00" in chunk or b"\x00" in window:
            verdict = self._binary(carry + chunk, offset - len(carry)) or self._controls(window + chunk, offset - len(window))
            if verdict is not None:
                return verdict
        return self._lines(chunk, offset, carry[-1:] == b"\r")

    @staticmethod
    def _binary(data: bytes, offset: int) -> Verdict | None:
        record = _ARCHIVE_RECORD.search(data)
        if record is None:
            return None
        kind: Kind = "zip" if record.group().startswith(b"PK") else "tar"
        return Verdict(kind, head=data[record.start() : record.start() + SNIFF_SIZE], offset=offset + record.start())

    @staticmethod
    def _controls(data: bytes, offset: int) -> Verdict | None:
        """The first window of `data` (from `offset`, a window start) with a NUL that is binary data."""
        at = data.find(b"\x00")
        while at >= 0:
            start = at - at % SNIFF_SIZE
            window = data[start : start + SNIFF_SIZE]
            if len(window) < SNIFF_SIZE:
                window = window.rstrip(b"\x00")  # a run of NULs at the end may yet grow into padding
            text = NUL_RUNS.sub(b"", window)
            if text.count(0) + len(text) - len(text.translate(None, _CONTROLS)) > SNIFF_SIZE // 100:
                return Verdict("binary", head=data[at : at + SNIFF_SIZE], offset=offset + at)  # from a NUL: UTF-16 shows
            at = data.find(b"\x00", start + SNIFF_SIZE)
        return None

    def _lines(self, chunk: bytes, offset: int, cr_before: bool) -> Verdict | None:
        if cr_before and chunk[:1] not in (b"\r", b"\n"):
            self._lone = True  # a CR that ends the chunk before and no line
        first = chunk.find(b"\n")
        if first < 0:
            return self._gone_on(chunk, offset)
        gap, self._gap = self._gap + first, 0
        if gap > SNIFF_SIZE and (self._lone or LONE_CR.search(chunk, 0, first)):
            return self._cr_only(chunk[:first], offset + first - gap)
        last = chunk.rfind(b"\n")
        at = first + 1
        while at + self._LF_WINDOW <= last:  # a window with no LF: a line longer than it, looked at closely
            if chunk.find(b"\n", at, at + self._LF_WINDOW) >= 0:
                at += self._LF_WINDOW
                continue
            start, end = chunk.rfind(b"\n", 0, at) + 1, chunk.find(b"\n", at)
            if end - start > SNIFF_SIZE and LONE_CR.search(chunk, start, end):
                return self._cr_only(chunk[start:end], offset + start)
            at = end + 1
        self._lone = False
        return self._gone_on(chunk[last + 1 :], offset + last + 1)

    def _gone_on(self, rest: bytes, offset: int) -> Verdict | None:
        """`rest` (no LF in it) goes on with the line before it."""
        self._gap += len(rest)
        self._lone = self._lone or LONE_CR.search(rest) is not None
        if self._gap > SNIFF_SIZE and self._lone:
            return self._cr_only(rest, offset + len(rest) - self._gap)
        return None

    @staticmethod
    def _cr_only(stretch: bytes, offset: int) -> Verdict:
        return Verdict("binary", True, stretch[:SNIFF_SIZE], max(offset, 0))
