"""A file that appears under its name only when complete: a batch output, a report or a checkpoint.

On a local disk or an object store (through the `Files` a batch store is); written to a hidden
part beside it (`part_path`), then put under its name whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self, overload

from logfilter.errors import LogFilterError

PART_SUFFIX = ".logfilter-part"

@overload
def part_path(path: Path, tag: str = "") -> Path: ...
@overload
def part_path(path: str, tag: str = "") -> str: ...


def part_path(path: str | Path, tag: str = "") -> str | Path:
    """Where `path` is written before it is complete: hidden, beside it, with a suffix of ours.

    `tag` goes between the name and the suffix: a token of one attempt (batch on a cluster),
    so that two attempts at one output never write into one part.
    """
    if isinstance(path, Path):
        return path.with_name(f".{path.name}{tag}{PART_SUFFIX}")
    parent, slash, name = path.rpartition("/")
    return f"{parent}{slash}.{name}{tag}{PART_SUFFIX}"


class Files(Protocol):
    """Where an AtomicFile is written: the local disk (LOCAL_FILES), or an object store
    through fsspec (batch.url_store). Paths are local paths or URLs of that store."""

    local: bool  # on this machine's disk: fsync and file times apply

    def open_write(self, path: str | Path, mode: int | None = None) -> BinaryIO:
        """A new file open for writing, its folders created; with these permission bits
        (sinks/modes.py) from its creation on, where the store keeps modes."""
        ...

    def publish(self, part: str | Path, path: str | Path, times_ns: tuple[int, int] | None, durable: bool) -> None:
        """Put the complete file `part` under its name `path`, whole or not at all."""
        ...

    def remove(self, path: str | Path) -> None:
        """Remove a file; one that is not there is fine."""
        ...

    def exists(self, path: str | Path) -> bool: ...


class LocalFiles:
    """Files on this machine's disk: renamed into place, and durable when asked (fsync)."""

    local = True

    def open_write(self, path: str | Path, mode: int | None = None) -> BinaryIO:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A part left by a killed run, or a link planted under its name: removed, never written through.
        Path(path).unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666 if mode is None else mode)
        if mode is not None:
            os.fchmod(fd, mode)  # exactly these bits: never readable by more, even for a moment
        return os.fdopen(fd, "wb")

    def publish(self, part: str | Path, path: str | Path, times_ns: tuple[int, int] | None, durable: bool) -> None:
        if times_ns is not None:
            os.utime(part, ns=times_ns)
        os.replace(part, path)
        if durable:
            fsync_folder(os.path.dirname(path) or ".")

    def remove(self, path: str | Path) -> None:
        Path(path).unlink(missing_ok=True)

    def exists(self, path: str | Path) -> bool:
        return os.path.exists(path)


LOCAL_FILES = LocalFiles()


class AtomicFile:
    """A file that appears under its name only when complete, on a local disk or an object store.

    Written to a hidden part beside it (`part_path`); `commit` finishes the part (flushed to
    disk, locally), gives it the times asked for and puts it under its name: on a local disk
    by rename, on an object store by fsspec's move (a server-side copy: the object appears
    only when complete). Leaving the `with` block without `commit` (an error) removes the
    part. One writer per path: batch holds a lock on the output folder, or (`unique`, on a
    cluster, where an attempt taken for dead may still write) every attempt has a part of its own.

    `mode`: the permission bits of the part and so of the file (sinks/modes.py), from the
    part's creation on; None: as the umask says.

    With `run` (the path of a run's marker in OUTDIR, on the same store), `commit` writes the
    output only while the marker is there: a client interrupted removes it, so a task it left
    running on a cluster never puts an output over what a later run makes.
    """

    def __init__(
        self, path: str | Path, files: Files = LOCAL_FILES, *, unique: bool = False, tag: str = "",
        run: str | None = None, mode: int | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        self.part = part_path(path, f".{os.urandom(6).hex()}{tag}" if unique else tag)  # uuid4's 12 hex digits
        self.local = files.local
        self._files = files
        self._run = run
        try:
            self.stream: BinaryIO = files.open_write(self.part, mode)
        except OSError as exc:
            raise _unwritable(path, exc) from None

    def close(self, durable: bool = True) -> None:
        """Finish writing the part (flushed to disk, locally, when `durable`) without making it appear."""
        if self.stream.closed:
            return
        self.stream.flush()
        if durable and self.local:
            os.fsync(self.stream.fileno())
        self.stream.close()

    def commit(self, times_ns: tuple[int, int] | None = None, durable: bool = True) -> None:
        """Make the file appear complete under its name (with these atime and mtime, if given).

        Not `durable`: skip the fsyncs, so the file survives a killed process but maybe not a
        crash of the machine (a checkpoint written often, and durably once in a while).
        """
        if self._run is not None and not self._files.exists(self._run):
            self.discard()
            msg = f"{self.path}: not written: the run that started it was interrupted"
            raise LogFilterError(msg)
        try:
            self.close(durable)
            self._files.publish(self.part, self.path, times_ns if self.local else None, durable)
        except OSError as exc:
            self.discard()
            raise _unwritable(self.path, exc) from None

    def discard(self) -> None:
        """Remove the part; the name is left as it was."""
        try:
            self.stream.close()
        except OSError:
            pass  # e.g. a full disk while flushing: the part goes anyway
        self._files.remove(self.part)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.stream.closed:
            self.discard()


def _unwritable(path: str | Path, exc: OSError) -> LogFilterError:
    return LogFilterError(f"{path}: cannot write the output ({exc.strerror or type(exc).__name__})")


def fsync_folder(folder: str | Path) -> None:
    """Make the renames in `folder` durable: a rename is on disk only once its folder entry is."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
