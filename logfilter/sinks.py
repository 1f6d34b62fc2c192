"""Where output bytes go: a stream (stdout or a file), a file that appears only when complete
(batch), or nowhere (benchmarks)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from logfilter.errors import ConfigError, LogFilterError


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class StreamSink:
    """Writes to a binary stream, flushing whenever the pipeline has no more input at hand."""

    def __init__(self, stream: BinaryIO, name: str, owned: bool = False, live: bool = True) -> None:
        self._stream = stream
        self._name = name
        self._owned = owned
        self._live = live  # flush after every chunk read; batch leaves it to the stream

    @classmethod
    def to_path(cls, path: Path) -> StreamSink:
        try:
            return cls(open(path, "wb"), str(path), owned=True)
        except OSError as exc:
            msg = f"{path}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            msg = f"{self._name}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def flush(self) -> None:
        if self._live:
            self._flush()

    def _flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            msg = f"{self._name}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def close(self) -> None:
        self._flush()
        if self._owned:
            self._stream.close()


def set_aside(path: Path) -> Path | None:
    """Rename a regular file that stopped short to `<name>.incomplete` (removed if that fails),
    so that no output that stopped on an error looks complete; return the new path, if any."""
    if not path.is_file():
        return None  # a device or a pipe (/dev/full, /dev/stdout): nothing stays behind
    aside = path.with_name(f"{path.name}.incomplete")
    try:
        os.replace(path, aside)
        return aside
    except OSError:
        path.unlink(missing_ok=True)
        return None


PART_SUFFIX = ".logfilter-part"


def part_path(path: Path) -> Path:
    """Where `path` is written before it is complete: hidden, beside it, with a suffix of ours."""
    return path.with_name(f".{path.name}{PART_SUFFIX}")


class AtomicFile:
    """A file that appears under its name only when complete.

    Written to `part_path(path)`; `commit` flushes it to disk, gives it the times asked
    for, and renames it into place. Leaving the `with` block without `commit` (an error)
    removes the part file. One writer per path: batch holds a lock on the output folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._part = part_path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.stream: BinaryIO = open(self._part, "wb")  # noqa: SIM115 - closed by commit/discard
        except OSError as exc:
            msg = f"{path}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def commit(self, times_ns: tuple[int, int] | None = None, durable: bool = True) -> None:
        """Make the file appear complete under its name (with these atime and mtime, if given).

        Not `durable`: skip the fsyncs, so the file survives a killed process but maybe not a
        crash of the machine (a checkpoint written often, and durably once in a while).
        """
        try:
            self.stream.flush()
            if durable:
                os.fsync(self.stream.fileno())
            self.stream.close()
            if times_ns is not None:
                os.utime(self._part, ns=times_ns)
            os.replace(self._part, self.path)
            if durable:
                _fsync_folder(self.path.parent)
        except OSError as exc:
            self.discard()
            msg = f"{self.path}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def discard(self) -> None:
        """Remove the part file; the name is left as it was."""
        self.stream.close()
        self._part.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.stream.closed:
            self.discard()


@contextmanager
def locked(folder: Path, lock: Path | None = None) -> Iterator[None]:
    """Create `folder` and hold an exclusive lock on it (or on the file `lock`); refuse if held."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644) if lock else os.open(folder, os.O_RDONLY)
    except OSError as exc:
        what = "the lock file" if lock else "the output folder"
        msg = f"{lock or folder}: cannot create {what} ({exc.strerror})"
        raise LogFilterError(msg) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            msg = f"{lock or folder}: another logfilter (batch or follow) is using it"
            raise ConfigError(msg) from None
        yield
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class NullSink:
    """Discards everything; for benchmarks."""

    def write(self, data: bytes) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
