"""One followed log file: read what it grew by, hold the record in progress, emit whole records.

A record starts at a *split point*: the start of an empty line, or of a line that starts at
column 0 and does not continue the message before it (the PSDK's `message attributes:` and
`Attribute...` lines, and the C `message X` line printed under its event line, do continue
it; formats.md). No KV block is open at a split point, so an engine started fresh there
writes the same bytes as one that read the whole file: checkpoints are taken only there.
Complete lines after the last split point wait for the next one, or for HOLD seconds of
quiet, so a message goes out whole and at most about a second late.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from logfilter.engines.walker import END, HEAD, LineEngine
from logfilter.errors import InputError, LogFilterError
from logfilter.framing import LINES, REST, BoundedFramer, Part
from logfilter.parsing.events import starts_event
from logfilter.sources.files import CHUNK, PACKED, sniff
from logfilter.sources.files import HEAD as SNIFFED
from logfilter.stats import Stats

FINGERPRINT = 1024  # bytes at the start of a file that tell it from another file on the same inode
HOLD = 0.5  # seconds of quiet after which the record in progress is emitted anyway
MAX_HELD = 1 << 20  # bytes of a record in progress held at most before it is emitted anyway
_SPLIT = re.compile(rb"\r?\n|(?!message |Attribute)[^ \t\r\v\f\n]")

Key = tuple[int, int]  # (device, inode)


def printable(path: Path | str) -> str:
    """A path for messages and metric labels: bytes that are not UTF-8 as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def last_split(data: bytes) -> int:
    """Where the last split point in `data` (whole lines) is, or -1 if it has none."""
    end = len(data) - 1  # the final LF starts no line
    while end >= 0:
        start = data.rfind(b"\n", 0, end) + 1
        if _SPLIT.match(data, start):
            return start
        end = start - 1
    return -1


class NotText(LogFilterError):
    """A followed file whose first HEAD bytes, as they arrive, turn out compressed or binary."""


def head_kind(head: bytes) -> str:
    """What a file's first bytes so far are, as pipeline.sniffed judges a live input."""
    return sniff(head, partial=len(head) < SNIFFED)


def last_event(data: bytes) -> int:
    """Where the last split point in `data` (whole lines) that starts a log event is, or -1.

    Unlike any split point, it cannot be inside a value printed over several lines
    (unclosed.py): a fresh engine started there goes on as one that read all before it.
    """
    end = len(data) - 1
    while end >= 0:
        start = data.rfind(b"\n", 0, end) + 1
        if _SPLIT.match(data, start) and starts_event(data[start:end].rstrip(b"\r")):
            return start
        end = start - 1
    return -1


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A digest of a file's first `size` bytes (up to FINGERPRINT)."""

    digest: str
    size: int

    @classmethod
    def of(cls, fd: int, size: int = FINGERPRINT) -> Fingerprint:
        head = os.pread(fd, size, 0)
        return cls(hashlib.blake2b(head, digest_size=16).hexdigest(), len(head))

    def matches(self, fd: int) -> bool:
        """Whether the file open on `fd` starts with the bytes this fingerprint was taken of."""
        return Fingerprint.of(fd, self.size) == self


class Output(Protocol):
    end: int  # bytes written so far

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class FileOutput:
    """A sanitized file in OUTDIR, written at known offsets so that a restart can cut it back."""

    def __init__(self, path: Path, keep: int | None = 0) -> None:
        """Open `path`; keep its first `keep` bytes (None: all of them) and write after them."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self.end = os.fstat(self._fd).st_size if keep is None else keep
            os.ftruncate(self._fd, self.end)
        except OSError as exc:
            raise self._error(exc) from None

    @staticmethod
    def size_of(path: Path) -> int:
        """The size of an output file, -1 when there is none."""
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return -1

    def write(self, data: bytes) -> None:
        view, at = memoryview(data), self.end
        try:
            while view:
                done = os.pwrite(self._fd, view, at)
                view, at = view[done:], at + done
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self.end)  # no torn record is left to look complete
            except OSError:
                pass
            raise self._error(exc) from None
        self.end = at

    def replaced(self) -> bool:
        """Whether the name no longer leads to the file written (deleted, or another file put there)."""
        try:
            there, ours = os.stat(self.path), os.fstat(self._fd)
        except OSError:
            return True
        return (there.st_dev, there.st_ino) != (ours.st_dev, ours.st_ino)

    def sync(self) -> None:
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            raise self._error(exc) from None

    def rename(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, path)
        except OSError as exc:
            raise self._error(exc) from None
        self.path = path

    def close(self) -> None:
        os.close(self._fd)

    def _error(self, exc: OSError) -> LogFilterError:
        return LogFilterError(f"{self.path}: cannot write the output ({exc.strerror or exc})")


class StdoutOutput:
    """Standard output, shared by every followed file; each write is whole records of one file.

    A write that fails part way is finished by the next try of the same bytes, and no other
    file's bytes go out before it, so a message is never torn or interleaved.
    """

    def __init__(self) -> None:
        self.end = 0
        self._fd = sys.stdout.fileno()
        self._partial: bytes | None = None  # bytes of which `_done` went out before a failure
        self._done = 0

    def write(self, data: bytes) -> None:
        if self._partial is not None and data is not self._partial:
            msg = "<stdout>: cannot write the output (another file's message is still going out)"
            raise LogFilterError(msg)
        view = memoryview(data)[self._done :]
        try:
            while view:
                done = os.write(self._fd, view)
                self._done += done
                view = view[done:]
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._partial = data
            msg = f"<stdout>: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None
        self._partial, self._done = None, 0
        self.end += len(data)

    def close(self) -> None:
        pass


@dataclass(slots=True)
class Checkpoint:
    """A point with no KV block open (a split point, or where the engine is idle) whose output
    is written: where a restart resumes."""

    offset: int  # input bytes before it
    line: int  # input lines before it
    out: int  # output bytes before it (-o OUTDIR)


class Tail:
    """One input file being followed into one Output through one engine.

    The file is read by offset (pread), so a rename does not disturb it and a deleted file
    is read to its end while it is open.
    """

    def __init__(
        self, path: Path, fd: int, key: Key, output: Output, engine: LineEngine, stats: Stats, at: Checkpoint
    ) -> None:
        self.path, self.fd, self.key = path, fd, key
        self.fingerprint = Fingerprint.of(fd)
        self.output, self.engine, self.stats = output, engine, stats
        self.next_engine: LineEngine | None = None  # new rules, taken at the next split point
        self.framer = BoundedFramer()
        self.parts: list[Part] = []  # framed and not yet taken (a failed write stops taking)
        self.held: list[bytes] = []  # whole lines read and not yet emitted
        self.held_size = 0
        self.split = -1  # where in the held bytes the last split point is
        self.offset = at.offset  # next byte to read
        self.emitted = at.offset  # input bytes whose output is written
        self.line = at.line  # input lines whose output is written
        self.checkpoint = at
        self.size = at.offset  # the file's size when last looked at
        self.quiet_since = 0.0  # when the file last grew
        self.retiring: float | None = None  # since when it is no longer under a followed name
        self.failed = False  # stopped by an unparsable line under --on-error fail
        self.unflushed = False  # lines went into the engine with no flush after them (jsonl holds them)
        self.sent = 0  # input offset that records handed to the output may reach (stdout)
        self.intent: Callable[[int], None] | None = None  # told that before a write
        self._unwritten: tuple[bytes, int, int, bool] | None = None

    @property
    def name(self) -> str:
        return printable(self.path)

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
            if self.offset < SNIFFED:
                self._check_head(self.offset + len(chunk))  # before anything of the chunk goes out
            self.offset += len(chunk)
            got += len(chunk)
            self.stats.bytes_in += len(chunk)
            self.parts += self.framer.feed(chunk)
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
        for kind, rest in self.framer.finish():
            if kind == REST:
                self._unwritten = (self.engine.process(rest, self.line + 1) + self.engine.flush(True), len(rest), 1, True)
                self._write_unwritten()
            else:
                self.parts.append((kind, rest))
                self._take_parts()

    def restart(self, fd: int, key: Key, engine: LineEngine) -> None:
        """Start over on a file that was truncated: the same output, a fresh engine, from byte 0."""
        self.fd, self.key, self.engine, self.next_engine = fd, key, engine, None
        self.sent = 0
        self.fingerprint = Fingerprint.of(fd)
        self.framer, self.parts = BoundedFramer(), []
        self.held, self.held_size, self.split = [], 0, -1
        self.offset = self.emitted = self.line = self.size = 0
        self.checkpoint = Checkpoint(0, 0, self.output.end)

    def _check_head(self, end: int) -> None:
        """Raise NotText when the file's first `end` bytes (up to SNIFFED) are not a text log."""
        kind = head_kind(os.pread(self.fd, min(end, SNIFFED), 0))
        if kind in PACKED or kind == "binary":
            raise NotText(f"{self.name}: {kind} data, not a text log; not followed (no more of it is written)")

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
            try:
                out = self.engine.overlong(data, kind, self.line + 1)
            except InputError:
                self.failed = True  # stopped at this line's head: nothing more is read or emitted
                raise
            self._unwritten = (out, len(data), int(kind == END), False)
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
            self.next_engine is not None
            and not self.engine.inside_value
            and (self.checkpoint.offset == self.emitted or _SPLIT.match(data))
        ):
            self.engine, self.next_engine = self.next_engine, None  # new rules start at a split point
        out: list[bytes] = []
        try:
            lines = self.engine.feed(data, self.line + 1, out) if data else 0
            if not flush or at_split and self.engine.inside_value:
                at_split, self.unflushed = False, True  # the value, and its message, go on after it
            else:
                out.append(self.engine.flush(at_split))  # what an engine of whole messages (jsonl) holds
                self.unflushed = False
        except InputError:
            self.failed = True  # its engine stopped inside a line: nothing more is read or emitted
            done = b"".join(out)  # the lines before the one that stopped it
            self.output.write(done)
            self.stats.wrote(done)
            raise
        self._unwritten = (b"".join(out), len(data), lines, at_split)
        self._write_unwritten()

    def _write_unwritten(self) -> None:
        """Write the output the engine made last; if that fails, keep it for the next try."""
        if self._unwritten is None:
            return
        data, size, lines, at_split = self._unwritten
        if self.intent is not None:
            self.intent(self.emitted + size)
        self.output.write(data)  # raises LogFilterError
        self._unwritten = None
        self.stats.wrote(data, self.engine.mid_line)
        self.emitted += size
        self.line += lines
        # No block open: a fresh engine would go on alike (unless a value is left open).
        if (at_split or self.engine.idle) and not self.engine.inside_value:
            self.checkpoint = Checkpoint(self.emitted, self.line, self.output.end)
