"""The batch store over fsspec: inputs and OUTDIR as URLs (s3://, gs://, az://, file://, ...).

Used when a batch names a URL (with --scheduler): then local paths go through fsspec's local
filesystem too, so that all the run's names are spelled alike. An object store cannot
append, so the state is rewritten whole (store.Store.appends), and there is no rename: an
output appears by a server-side copy of its part, complete or not at all. On fsspec's local
filesystem (a path, or a file:// URL) outputs are renamed into place and made durable, as
on the local store. fsspec is imported when the first URL is opened.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Hashable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from logfilter.batch.store import LOCAL, Entry, Info, Kind, is_url, outside
from logfilter.errors import LogFilterError
from logfilter.names import printable
from logfilter.sinks.atomic import LOCAL_FILES

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


def locate(url: str) -> tuple[AbstractFileSystem, str]:
    """The filesystem and path of a local path or fsspec URL (LogFilterError when unknown)."""
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


class UrlStore:
    """The files of one fsspec filesystem, by URL (or local path, on the local filesystem)."""

    appends = False

    def __init__(self, fs: AbstractFileSystem) -> None:
        self._fs = fs
        self.local = is_local(fs)

    @classmethod
    def of(cls, url: str) -> UrlStore:
        """The store of the filesystem `url` is on."""
        return cls(locate(url)[0])

    def join(self, folder: str, *names: str) -> str:
        return "/".join([folder.rstrip("/"), *(name for name in names if name)])

    def name(self, path: str) -> str:
        return locate(path)[1].rstrip("/").rpartition("/")[2]

    def key(self, path: str) -> tuple[str, str]:
        fs, where = locate(path)
        if is_local(fs):
            return LOCAL.key(where)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        return protocol, posixpath.normpath("/" + where.lstrip("/"))

    def identity(self, path: str) -> Hashable | None:
        return self.key(path)

    def local_path(self, path: str) -> Path | None:
        return Path(locate(path)[1]).resolve() if self.local else None

    def exists(self, path: str | Path) -> bool:
        fs, where = locate(str(path))
        return bool(fs.exists(where)) or is_local(fs) and os.path.islink(where)  # a dangling link is there

    def stat(self, path: str) -> Info:
        fs, where = locate(path)
        if is_local(fs):
            return LOCAL.stat(where)
        details = fs.info(where)
        kind: Kind = {"file": "file", "directory": "folder"}.get(details.get("type"), "special")  # type: ignore[assignment]
        return Info(kind, int(details["size"]), _mtime_ns(details), None, None)

    def walk(self, root: str, given: str) -> Iterator[Entry]:
        fs, top = locate(root)
        top = top.rstrip("/")
        folder = fs.isdir(top)
        for path in sorted(fs.find(top) if folder else [top]):
            source = fs.unstrip_protocol(path) if is_url(given) else path
            # A link out of a local input folder is left out, as on the local store.
            away = folder and is_local(fs) and outside(os.path.realpath(path), Path(top).resolve())
            yield Entry(source, path[len(top) :].lstrip("/"), printable(source), "outside" if away else "file")

    def find(self, root: str) -> Iterator[str]:
        fs, top = locate(root)
        try:
            found = fs.find(top)
        except FileNotFoundError:
            return
        yield from (fs.unstrip_protocol(path) for path in found)

    def open_read(self, path: str) -> BinaryIO:
        fs, where = locate(path)
        return fs.open(where, "rb")  # type: ignore[no-any-return]

    def read_bytes(self, path: str) -> bytes:
        fs, where = locate(path)
        return fs.cat_file(where)  # type: ignore[no-any-return]

    def append(self, path: str, data: bytes, durable: bool) -> None:
        msg = "an fsspec store rewrites files whole (appends is False)"
        raise NotImplementedError(msg)

    def write_whole(self, path: str, data: bytes) -> None:
        fs, where = locate(path)
        fs.makedirs(where.rpartition("/")[0], exist_ok=True)
        fs.pipe_file(where, data)  # one put: the old file or the new one

    # --- sinks/atomic.py Files: how an AtomicFile is written here ---

    def open_write(self, path: str | Path, mode: int | None = None) -> BinaryIO:
        fs, where = locate(str(path))
        if self.local:  # a local file keeps the mode asked for, as on the local store
            return LOCAL_FILES.open_write(where, mode)
        fs.makedirs(where.rpartition("/")[0], exist_ok=True)
        return fs.open(where, "wb")  # type: ignore[no-any-return]

    def publish(self, part: str | Path, path: str | Path, times_ns: tuple[int, int] | None, durable: bool) -> None:
        fs, where = locate(str(path))
        if self.local:
            LOCAL_FILES.publish(locate(str(part))[1], where, times_ns, durable)
        else:
            fs.mv(locate(str(part))[1], where)

    def remove(self, path: str | Path) -> None:
        fs, where = locate(str(path))
        try:
            fs.rm_file(where)
        except FileNotFoundError:
            pass


def _mtime_ns(details: dict[str, object]) -> int | None:
    """The modification time an object store gives, under whichever name it uses; None if none."""
    for name in ("mtime", "LastModified", "last_modified", "updated", "modified"):
        value = details.get(name)
        if isinstance(value, (int, float)):
            return int(value * 1e9)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                continue
        if isinstance(value, datetime):
            return int(value.timestamp() * 1e9)
    return None
