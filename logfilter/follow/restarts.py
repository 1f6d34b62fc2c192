"""Where a file found is taken up: at its checkpoint, at its last message, or at its start.

At its checkpoint even when it was renamed, truncated or moved away while logfilter was
stopped; at its last message with --from-end on a first start. And how many records a
restart sends to stdout again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from time import monotonic

from logfilter.follow.discovery import find_copy, find_inode
from logfilter.follow.files import Files
from logfilter.follow.options import Options, Say
from logfilter.follow.outputs import Checkpoint, FileOutput
from logfilter.follow.state import Saved, StateFile
from logfilter.follow.tail import Key
from logfilter.parsing.events import header_lines, last_event
from logfilter.sources.files import CHUNK


class Restarts:
    """Takes up the files found, from the checkpoints the state file held at the start."""

    def __init__(self, options: Options, files: Files, state: StateFile, say: Say) -> None:
        self.options, self.files, self.state, self.say = options, files, state, say
        self._saved: dict[Key, Saved] = {}  # checkpoints of files not taken up yet
        self.resent = 0  # records sent to stdout again after a restart

    def load(self) -> None:
        """Read the checkpoints (a ConfigError for a state file that is not ours or is damaged)."""
        self._saved = self.state.load()

    def has_checkpoint(self, key: Key) -> bool:
        """Whether the file `key` was checkpointed and is not taken up yet."""
        return key in self._saved

    def take_up(self, key: Key, fd: int, path: Path, rel: Path, first: bool) -> None:
        """Follow the text file open on `fd`: from its checkpoint, if it is the file checkpointed."""
        saved = self._saved.pop(key, None)
        if saved is not None and saved.failed and saved.is_in(fd):
            self._still_failed(key, fd, path, saved)
            return
        if saved is not None and saved.is_in(fd):
            self._resume(key, fd, path, rel, saved)
            return
        if saved is not None and saved.path == Path(os.path.abspath(path)):
            self._copied_while_stopped(saved, path)
        from_end = first and self.options.from_end and self.state.new  # later files: all of them
        at = _end_split(fd) if from_end else Checkpoint(0, 0, 0)
        self.files.open(key, fd, path, rel, at, fresh=True)
        if not first:
            self.files.rotated("new")
        self.say(f"following {path}" + (f" from line {at.line + 1}" if at.line else ""))

    def _resume(self, key: Key, fd: int, path: Path, rel: Path, saved: Saved) -> None:
        """Go on from a checkpoint; the output, under its recorded name, is renamed to `rel` if needed."""
        at, files = saved.checkpoint, self.files
        if files.outdir is not None:
            recorded = saved.output
            have = FileOutput.size_of(files.output_path(recorded))
            if have < at.out:
                self.say(f"{path}: its output {recorded} is missing or shorter than checkpointed; writing it anew")
                files.open(key, fd, path, rel, Checkpoint(0, 0, 0), fresh=True)
                return
            tail = files.open(key, fd, path, recorded, at, fresh=False)
            if recorded != rel:  # renamed while logfilter was stopped
                files.moved(tail, path, rel)
        else:
            files.open(key, fd, path, rel, at, fresh=False)
        again = _header_lines(fd, at.offset, saved.sent) if files.to_stdout else 0
        self.resent += again
        note = f"; sending {again} messages again (sent before the stop, maybe only in part)" if again else ""
        self.say(f"resuming {path} at line {at.line + 1}{note}")

    def _still_failed(self, key: Key, fd: int, path: Path, saved: Saved) -> None:
        """A file that stopped at a line it could not read is not read again: it would stop there again.

        It is kept, failed, with its output whole, until it is renamed away, deleted or
        truncated, or its state entry is removed.
        """
        tail = self.files.open(key, fd, path, saved.output, saved.checkpoint, fresh=False)
        tail.failure = saved.failed
        self.files.fail(tail)

    def _copied_while_stopped(self, saved: Saved, path: Path) -> None:
        """A checkpointed file was truncated while we were stopped: finish its text from its copy."""
        copy = find_copy(path.parent, saved.fingerprint, saved.checkpoint.offset, exclude=set(self.files.tails))
        if copy is None:
            self.say(f"{path}: truncated while logfilter was stopped; what was written after line "
                     f"{saved.checkpoint.line + 1} and before the truncation was not read")  # fmt: skip
            return
        cpath, cfd, ckey = copy
        self._resume(ckey, cfd, cpath, saved.output.with_name(cpath.name), saved)

    def resume_missing(self, found: set[Key]) -> None:
        """Checkpointed files no longer under a followed name: finish them if they can be found."""
        for key, saved in self._saved.items():
            if key in found:
                continue  # under a followed name, and not taken in yet: the next scan will
            beside = find_inode(saved.path.parent, key)
            fd = _open(beside) if beside is not None else None
            if beside is not None and fd is not None:
                if saved.is_in(fd):
                    self._resume(key, fd, beside, saved.output.with_name(beside.name), saved)
                    self.files.start_retiring(self.files.tails[key], monotonic(), "not under a followed name")
                    continue
                os.close(fd)
            if saved.checkpoint.offset < saved.size:
                self.say(f"{saved.path}: gone while logfilter was stopped; what was written after line "
                         f"{saved.checkpoint.line + 1} was not read")  # fmt: skip
        self._saved = {}


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _end_split(fd: int) -> Checkpoint:
    """The last split point of a file that starts a log event (--from-end): its last record is
    read again, never cut, and never entered inside a value printed over several lines."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - CHUNK)
        window = os.pread(fd, end - start, start)
        cut = 0 if start == 0 else window.find(b"\n") + 1
        if start and not cut:
            end = start
            continue
        lines = window[cut:] if window.endswith(b"\n") else window[cut:] + b"\n"
        split = last_event(lines)
        if split >= 0:
            offset = start + cut + split
            return Checkpoint(offset, _count_lines(fd, offset), 0)
        end = start + cut
    return Checkpoint(0, 0, 0)


def _count_lines(fd: int, end: int) -> int:
    return sum(chunk.count(b"\n") for chunk in _chunks(fd, 0, end))


def _header_lines(fd: int, start: int, end: int) -> int:
    """Lines with a message header in a range of a file, inside KV blocks too: the messages a
    restart sends again, counted in the bytes before any walk (which would need the rules and
    the block state there), so a value that reads like a header counts: never too few."""
    return len(header_lines(b"".join(_chunks(fd, start, end))))


def _chunks(fd: int, start: int, end: int) -> Iterator[bytes]:
    while start < end and (chunk := os.pread(fd, min(CHUNK, end - start), start)):
        start += len(chunk)
        yield chunk
