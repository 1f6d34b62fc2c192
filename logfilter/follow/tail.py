"""One followed log file: read what it grew by, hold the record in progress, emit whole records.

A record starts at a *split point* (parsing/events.py): the start of an empty line, or of a
line that starts at column 0 and does not continue the message before it. No KV block is
open at a split point, so a walk started fresh there writes the same bytes as one that read
the whole file: checkpoints are taken only there. Complete lines after the last split point
wait for the next one, or for HOLD seconds of quiet, so a message goes out whole and at most
about a second late.

The file goes through the same InputStream as every input of the loop (pipeline.py): its
head is judged as it arrives and it is framed as it grows; the framed lines are held here
and walked at split points.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from logfilter.engines.handler import Walk
from logfilter.errors import InputError, LogFilterError
from logfilter.follow.outputs import FINGERPRINT, Checkpoint, Fingerprint, Output
from logfilter.framing import END, HEAD, LINES, REST, Part
from logfilter.names import printable
from logfilter.parsing.events import is_split, last_split
from logfilter.pipeline import InputStream
from logfilter.sources.files import CHUNK
from logfilter.sources.sniff import SNIFF_SIZE, Verdict
from logfilter.stats import Stats

HOLD = 0.5  # seconds of quiet after which the record in progress is emitted anyway
MAX_HELD = 1 << 20  # bytes of a record in progress held at most before it is emitted anyway

Key = tuple[int, int]  # (device, inode)


class NotText(LogFilterError):
    """A followed file whose head, as it arrives, turns out no text log (compressed or binary)."""


class Tail:
    """One input file being followed into one Output through one walk.

    The file is read by offset (pread), so a rename does not disturb it and a deleted file
    is read to its end while it is open.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        key: Key,
        output: Output,
        walk: Walk,
        stats: Stats,
        at: Checkpoint,
        *,
        quiet_since: float = 0.0,
        intent: Callable[[], None] | None = None,
    ) -> None:
        self.path, self.fd, self.key = path, fd, key
        self.fingerprint = Fingerprint.of(fd)
        self.output, self.stats = output, stats
        # A restart inside the head goes on judging it from the bytes already read.
        head = os.pread(fd, min(at.offset, SNIFF_SIZE), 0) if at.offset else b""
        self.stream = InputStream(walk, self._refuse, head=head, judge_at_end=False)
        self.next_walk: Walk | None = None  # new rules, taken at the next split point
        self.parts: list[Part] = []  # framed and not yet taken (a failed write stops taking)
        self.held: list[bytes] = []  # whole lines read and not yet emitted
        self.held_size = 0
        self.split = -1  # where in the held bytes the last split point is
        self.offset = at.offset  # next byte to read
        self.emitted = at.offset  # input bytes whose output is written
        self.line = at.line  # input lines whose output is written
        self.checkpoint = at
        self.size = at.offset  # the file's size when last looked at
        self.quiet_since = quiet_since  # when the file last grew
        self.retiring: float | None = None  # since when it is no longer under a followed name
        # Why the file stopped at an unparsable line under --on-error fail ("" while it did not):
        # nothing more of it is read or emitted.
        self.failure = ""
        self.unflushed = False  # lines went into the walk with no flush after them (jsonl holds them)
        self.sent = 0  # input offset that records handed to the output may reach (stdout)
        self.intent = intent  # told before a write that moves `sent` (stdout)
        self._unwritten: tuple[bytes, int, int, bool] | None = None

    @property
    def name(self) -> str:
        return printable(str(self.path))

    @property
    def failed(self) -> bool:
        """Whether an unparsable line stopped the file under --on-error fail."""
        return bool(self.failure)

    @property
    def walk(self) -> Walk:
        """The walk of this file (the stream's)."""
        return self.stream.walk

    @walk.setter
    def walk(self, walk: Walk) -> None:
        self.stream.walk = walk

    def renamed(self, path: Path) -> None:
        """The file is at `path` now (it is read by its descriptor: nothing else changes)."""
        self.path = path

    def reads(self, fd: int, key: Key) -> None:
        """Read the file open on `fd`, known as `key`, from now on (the copy of the one read so far)."""
        self.fd, self.key = fd, key

    def retire(self, now: float) -> None:
        """The file is no longer under a followed name since `now`: it is read to its end, then finished."""
        self.retiring = now

    def walk_from_next_split(self, walk: Walk) -> None:
        """Take `walk` (new rules) at the next split point."""
        self.next_walk = walk

    def output_replaced(self, output: Output) -> None:
        """Write to `output` (a new file under the old output's name) from here on: a restart re-sends what went since."""
        self.output = output
        at = self.checkpoint
        self.checkpoint = Checkpoint(at.offset, at.line, 0)

    def refresh_fingerprint(self) -> None:
        """Fingerprint the file again if it was shorter than a fingerprint when last taken."""
        if self.fingerprint.size < min(self.size, FINGERPRINT):
            self.fingerprint = Fingerprint.of(self.fd)

    def lag(self) -> int:
        """Input bytes not yet emitted."""
        return max(self.size - self.emitted, 0)

    def truncated(self) -> bool:
        """Whether the file is now shorter than what was read of it."""
        self.size = os.fstat(self.fd).st_size
        return self.size < self.offset

    def step(self, now: float, budget: int = 8 * CHUNK) -> bool:
        """Write what is waiting, read up to `budget` bytes, emit whole records; True if more is there.

        Raises LogFilterError when the output cannot be written (the output is kept for the
        next step) and InputError for an unparsable line under --on-error fail.
        """
        self._write_unwritten()
        self._take_parts()
        got = 0
        while got < budget:
            chunk = os.pread(self.fd, CHUNK, self.offset)
            if not chunk:
                break
            parts = self.stream.frame(chunk)  # raises NotText before anything of the chunk goes out
            self.offset += len(chunk)
            got += len(chunk)
            self.stats.bytes_in += len(chunk)
            self.parts += parts
            self._take_parts()
        if got:
            self.quiet_since = now
        self.size = max(self.size, self.offset)
        if (self.held or self.unflushed) and (now - self.quiet_since >= HOLD or self.held_size >= MAX_HELD):
            self._emit(self._take(self.held_size), at_split=False)
        return got >= budget

    def drain(self) -> None:
        """Emit every complete line read (on stop); a line still being written stays unread."""
        self._write_unwritten()
        self._take_parts()
        self._emit_records()
        if self.held or self.unflushed:
            self._emit(self._take(self.held_size), at_split=False)

    def finish(self) -> None:
        """Read to the end and emit everything, the last line too, ended or not: the file is done."""
        self.step(self.quiet_since, budget=1 << 62)
        self.end_text()

    def end_text(self) -> None:
        """Emit everything read, the last line too, ended or not; read nothing more."""
        self.drain()
        for kind, rest in self.stream.finish():
            if kind == REST:
                out: list[bytes] = []
                self.stream.walk_parts([(kind, rest)], self.line + 1, out)
                self._unwritten = (b"".join(out) + self.walk.flush(True), len(rest), 1, True)
                self._write_unwritten()
            else:
                self.parts.append((kind, rest))
                self._take_parts()

    def restart(self, fd: int, key: Key, walk: Walk) -> None:
        """Start over on a file that was truncated: the same output, a fresh walk, from byte 0."""
        self.fd, self.key, self.next_walk = fd, key, None
        self.sent = 0
        self.fingerprint = Fingerprint.of(fd)
        self.stream, self.parts = InputStream(walk, self._refuse, judge_at_end=False), []
        self.held, self.held_size, self.split = [], 0, -1
        self.offset = self.emitted = self.line = self.size = 0
        self.checkpoint = Checkpoint(0, 0, self.output.end)

    def _refuse(self, verdict: Verdict) -> NotText:
        return NotText(verdict.not_followed(self.name) + " (no more of it is written)")

    def _take_parts(self) -> None:
        """Hold whole lines and emit records; write the parts of an overlong line as they come."""
        while self.parts:
            kind, data = self.parts[0]
            if kind == LINES:
                del self.parts[0]
                self._hold(data)
                self._emit_records()  # raises LogFilterError; the output is kept for the next try
                continue
            if kind == HEAD and self.held:
                # The lines before it go first, their message left open: the line may continue it.
                self._emit(self._take(self.held_size), at_split=False, flush=False)
            del self.parts[0]
            out: list[bytes] = []
            try:
                self.stream.walk_parts([(kind, data)], self.line + 1, out)
            except InputError as exc:
                self.failure = str(exc)  # stopped at this line's head
                raise
            self._unwritten = (b"".join(out), len(data), int(kind == END), False)
            self.unflushed = True
            self._write_unwritten()

    def _hold(self, lines: bytes) -> None:
        if not lines:
            return
        split = last_split(lines)
        if split >= 0:
            self.split = self.held_size + split
        self.held.append(lines)
        self.held_size += len(lines)

    def _take(self, size: int) -> bytes:
        data = b"".join(self.held)
        rest = data[size:]
        self.held = [rest] if rest else []
        self.held_size = len(rest)
        self.split = -1  # the split point found last was at `size` or before
        return data[:size]

    def _emit_records(self) -> None:
        """Emit the held lines before the last split point."""
        if self.split >= 0:
            self._emit(self._take(self.split), at_split=True)

    def _emit(self, data: bytes, at_split: bool, flush: bool = True) -> None:
        # A split point inside a value left open (or an overlong line) is no record boundary:
        # there the new rules would start with no block open, and its lines would pass in clear.
        if (
            self.next_walk is not None
            and not self.walk.inside_value
            and (self.checkpoint.offset == self.emitted or is_split(data))
        ):
            self.walk, self.next_walk = self.next_walk, None  # new rules start at a split point
        out: list[bytes] = []
        try:
            lines = self.stream.walk_parts([(LINES, data)], self.line + 1, out) if data else 0
            if not flush or at_split and self.walk.inside_value:
                at_split, self.unflushed = False, True  # the value, and its message, go on after it
            else:
                out.append(self.walk.flush(at_split))  # what a walk of whole messages (jsonl) holds
                self.unflushed = False
        except InputError as exc:
            self.failure = str(exc)  # its walk stopped inside a line
            done = b"".join(out)  # the lines before the one that stopped it
            self.output.write(done)
            self.stats.wrote(done)
            raise
        self._unwritten = (b"".join(out), len(data), lines, at_split)
        self._write_unwritten()

    def _write_unwritten(self) -> None:
        """Write the output the walk made last; if that fails, keep it for the next try."""
        if self._unwritten is None:
            return
        data, size, lines, at_split = self._unwritten
        if self.intent is not None:
            self.sent = self.emitted + size
            self.intent()
        self.output.write(data)  # raises LogFilterError
        self._unwritten = None
        self.stats.wrote(data, self.walk.mid_line)
        self.emitted += size
        self.line += lines
        # No block open: a fresh walk would go on alike (unless a value is left open).
        if (at_split or self.walk.idle) and not self.walk.inside_value:
            self.checkpoint = Checkpoint(self.emitted, self.line, self.output.end)
