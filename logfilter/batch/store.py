"""Files a cluster worker reads and writes, by local path or fsspec URL, and outputs that
appear only when complete, even where there is no rename.

An output is written to a hidden part beside it whose name holds a token of its own, so two
attempts at one output (a worker taken for dead that is still writing, and its retry) never
write into one part. `commit` then makes it appear whole: on a local disk by fsync and
rename, as AtomicFile does; on an object store (s3://, gs://, az://) by fsspec's move, a
server-side copy and a delete: the object appears only when the copy is complete.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from logfilter.batch.local import RUN_PREFIX, SPOOL_PREFIX
from logfilter.errors import LogFilterError
from logfilter.sinks import PART_SUFFIX

if TYPE_CHECKING:  # fsspec is an optional extra: imported when a URL is first opened
    from fsspec import AbstractFileSystem


def is_url(text: str) -> bool:
    """A URL (scheme://...) rather than a local path."""
    return "://" in text


def local_path(text: str) -> Path | None:
    """The absolute, normalised local path of a plain path or file:// (local://) URL; None
    for any other URL. Symbolic links are resolved, so two spellings of one file compare equal."""
    if not is_url(text):
        return Path(text).resolve()
    fs, path = locate(text)
    return Path(path).resolve() if is_local(fs) else None


def locate(url: str) -> tuple[AbstractFileSystem, str]:
    """The filesystem and path of a local path or fsspec URL (ConfigError when unknown)."""
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(url)  # type: ignore[no-any-return]
    except (ImportError, ValueError) as exc:  # no backend for the scheme, or a bad URL
        scheme = url.partition("://")[0]
        msg = f"{url}: cannot open {scheme}:// URLs ({type(exc).__name__}); install the fsspec backend for them"
        raise LogFilterError(msg) from None


def is_local(fs: AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def stamp(fs: AbstractFileSystem, path: str) -> tuple[int, int | None]:
    """Size and modification time (ns) of a file: what says it changed, as in a local batch."""
    if is_local(fs):
        info = os.stat(path)
        return info.st_size, info.st_mtime_ns
    details = fs.info(path)
    for name in ("mtime", "LastModified", "last_modified", "updated", "modified"):
        value = details.get(name)
        if isinstance(value, (int, float)):
            return int(details["size"]), int(value * 1e9)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                continue
        if isinstance(value, datetime):
            return int(details["size"]), int(value.timestamp() * 1e9)
    return int(details["size"]), None


def open_input(url: str) -> BinaryIO:
    fs, path = locate(url)
    return fs.open(path, "rb")  # type: ignore[no-any-return]


class Output:
    """One output under construction: a uniquely named hidden part, then `commit` or `discard`.

    With `run` (the URL of the run's marker in OUTDIR), `commit` writes the output only while
    the marker is there: a client interrupted removes it, so a task it left running on the
    cluster never puts an output over what a later run makes.
    """

    def __init__(self, url: str, suffix: str = "", run: str | None = None) -> None:
        self.url = url
        self._run = run
        self._fs, self._path = locate(url)
        parent, _, name = self._path.rpartition("/")
        self.part = f"{parent}/.{name}.{uuid.uuid4().hex[:12]}{suffix}{PART_SUFFIX}"
        self.local = is_local(self._fs)
        try:
            self._fs.makedirs(parent, exist_ok=True)
            self.stream: Any = self._fs.open(self.part, "wb")
        except OSError as exc:
            msg = f"{url}: cannot write the output ({exc.strerror or type(exc).__name__})"
            raise LogFilterError(msg) from None

    def close(self) -> None:
        """Finish writing the part (flushed to disk, locally) without making it appear."""
        if self.stream.closed:
            return
        self.stream.flush()
        if self.local:
            os.fsync(self.stream.fileno())
        self.stream.close()

    def commit(self, times_ns: tuple[int, int] | None = None) -> None:
        """Make the output appear complete under its name (locally, with these times)."""
        if self._run is not None and not self._still_running(self._run):
            self.discard()
            msg = f"{self.url}: not written: the run that started it was interrupted"
            raise LogFilterError(msg)
        try:
            self.close()
            if self.local:
                if times_ns is not None:
                    os.utime(self.part, ns=times_ns)
                os.replace(self.part, self._path)
                _fsync_folder(os.path.dirname(self._path))
            else:
                self._fs.mv(self.part, self._path)
        except OSError as exc:
            self.discard()
            msg = f"{self.url}: cannot write the output ({exc.strerror or type(exc).__name__})"
            raise LogFilterError(msg) from None

    def _still_running(self, run: str) -> bool:
        fs, path = locate(run)
        return bool(fs.exists(path))

    def discard(self) -> None:
        try:
            self.stream.close()
        except OSError:
            pass
        remove(self._fs, self.part)

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.stream.closed:
            self.discard()


def remove(fs: AbstractFileSystem, path: str) -> None:
    try:
        fs.rm_file(path)
    except FileNotFoundError:
        pass


def sweep_parts(url: str) -> int:
    """Remove the part and spool files left under OUTDIR `url` (by attempts whose worker died,
    or a run killed), and the markers of runs that are over (call under the lock, if any)."""
    fs, root = locate(url)
    removed = 0
    try:
        found = fs.find(root)
    except FileNotFoundError:
        return 0
    for path in found:
        name = path.rpartition("/")[2]
        if name.startswith(".") and name.endswith(PART_SUFFIX) or name.startswith((SPOOL_PREFIX, RUN_PREFIX)):
            remove(fs, path)
            removed += 1
    return removed


def start_run(outdir: str) -> str:
    """Create this run's marker in OUTDIR (see Output); return its URL, for `end_run`."""
    marker = f"{outdir.rstrip('/')}/{RUN_PREFIX}{uuid.uuid4().hex[:16]}"
    fs, path = locate(marker)
    try:
        fs.makedirs(path.rpartition("/")[0], exist_ok=True)
        fs.pipe_file(path, b"")
    except OSError as exc:
        msg = f"{outdir}: cannot write in the output folder ({exc.strerror or type(exc).__name__})"
        raise LogFilterError(msg) from None
    return marker


def end_run(marker: str) -> None:
    """Remove the run's marker: from now on no task of it writes an output."""
    fs, path = locate(marker)
    remove(fs, path)


def _fsync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
