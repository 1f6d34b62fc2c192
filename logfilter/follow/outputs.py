"""Where a followed file's output goes, and what identifies the file and the point a restart resumes from.

- Fingerprint: a digest of a file's first bytes, which tells it from another file that came
  to have the same device and inode.
- FileOutput: a sanitized file in OUTDIR, written at known offsets, so that a restart cuts
  it back to its checkpoint; StdoutOutput: standard output, shared by every followed file.
- Checkpoint: a point with no KV block open whose output is written.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from logfilter.errors import LogFilterError
from logfilter.names import printable

FINGERPRINT = 1024  # bytes at the start of a file that tell it from another file on the same inode


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
    """A sanitized file in OUTDIR, written at known offsets so that a restart can cut it back.

    Never written through a link: a link in OUTDIR (the file's name, or a folder on its way)
    would send the output out of OUTDIR. Its mode is `mode` (sinks.modes.mode_for of its
    input's), set again on every open: an output is never readable by more users than its input.
    """

    def __init__(self, path: Path, keep: int | None = 0, *, mode: int = 0o600, root: Path | None = None) -> None:
        """Open `path` (under the folder `root`, if given); keep its first `keep` bytes (None: all
        of them) and write after them."""
        self.path, self._root = path, root
        try:
            self._make_folder(path)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
            os.fchmod(self._fd, mode)
            self.end = os.fstat(self._fd).st_size if keep is None else keep
            os.ftruncate(self._fd, self.end)
        except OSError as exc:
            raise self._error(exc) from None

    def _make_folder(self, path: Path) -> None:
        """Make the folder of `path`, refusing a link on its way under `root` (ELOOP)."""
        if self._root is not None:
            at = self._root
            for part in path.parent.relative_to(self._root).parts:
                at = at / part
                if at.is_symlink():
                    raise OSError(errno.ELOOP, "a link")
        path.parent.mkdir(parents=True, exist_ok=True)

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
            self._make_folder(path)
            os.replace(self.path, path)  # a link at `path` is replaced, not followed
        except OSError as exc:
            raise self._error(exc) from None
        self.path = path

    def close(self) -> None:
        os.close(self._fd)

    def _error(self, exc: OSError) -> LogFilterError:
        if exc.errno == errno.ELOOP:
            msg = f"{printable(str(self.path))}: not written: a link is on its way (outputs are never written through links)"
            return LogFilterError(msg)
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
    """A point with no KV block open (a split point, or where the walk is idle) whose output
    is written: where a restart resumes."""

    offset: int  # input bytes before it
    line: int  # input lines before it
    out: int  # output bytes before it (-o OUTDIR)
