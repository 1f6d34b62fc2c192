"""Where the loop writes: the Sink it is given, a stream (stdout or a file), or nowhere.

A stream is stdout or a file (run, untag; batch writes each text log into an AtomicFile's
stream, sinks/atomic.py); an output file that stopped short is set aside, never left looking
complete. Nowhere is the NullSink of scan, keys and preview (and of the benchmarks). `std`
is the one check that a standard stream is open at all.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO, Protocol, TextIO

from logfilter.errors import LogFilterError


def std(name: str) -> TextIO:
    """sys.stdin or sys.stdout; a LogFilterError when the process was started with it closed (`>&-`)."""
    stream = getattr(sys, name)
    if stream is None:
        msg = f"<{name}>: standard {name[3:]}put is closed"
        raise LogFilterError(msg)
    return stream


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
    def to_path(cls, path: Path, mode: int | None = None) -> StreamSink:
        """A file opened for writing (created, or emptied); a regular file gets the permission
        bits `mode` (sinks/modes.py) before any byte is written, even one that was there."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666 if mode is None else mode)
            there = os.fstat(fd).st_mode
            if mode is not None and stat.S_ISREG(there):  # devices and pipes are left alone
                os.fchmod(fd, mode & (there | stat.S_IRUSR | stat.S_IWUSR))  # and no wider than it was
            return cls(os.fdopen(fd, "wb"), str(path), owned=True)
        except OSError as exc:
            raise _unwritable(str(path), exc) from None

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(self._name, exc) from None

    def flush(self) -> None:
        if self._live:
            self._flush()

    def _flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(self._name, exc) from None

    def close(self) -> None:
        self._flush()
        if self._owned:
            self._stream.close()


def _unwritable(name: str, exc: OSError) -> LogFilterError:
    return LogFilterError(f"{name}: cannot write the output ({exc.strerror or exc})")


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


class NullSink:
    """Discards everything: the sink of scan, keys and preview, which read their handler instead; benchmarks."""

    def write(self, data: bytes) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
