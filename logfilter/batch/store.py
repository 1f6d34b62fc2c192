"""Where a batch reads and writes: one interface over the local disk and fsspec URLs.

The plan walks inputs and compares places through it, the state reads and writes its
journal through it, and outputs are written through it (it is a `sinks/atomic.py` Files). A path is
a local path or a URL, as the user wrote it or as the store's walk found it; each store
is asked only about paths of its own. `store_for` picks the store: the local disk for a
path, fsspec for a URL (s3://, gs://, file://, ...). fsspec is an optional extra, imported
only when a URL is first used, so a plain local batch never loads it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from logfilter.errors import ConfigError
from logfilter.names import printable
from logfilter.sinks.atomic import AtomicFile, Files, LocalFiles

Kind = Literal["file", "folder", "special"]


@dataclass(frozen=True, slots=True)
class Info:
    """What a batch needs to know of a file: its kind, size and modification time (None when
    the store keeps none), its access and modification times to copy to its output and
    its mode, which limits its output's (None off this machine)."""

    kind: Kind
    size: int
    mtime_ns: int | None
    times_ns: tuple[int, int] | None
    mode: int | None


@dataclass(frozen=True, slots=True)
class Entry:
    """What a walk found under an input: a file (or what may be one: a link), a folder it
    entered, or a folder it could not list (`reason` says why)."""

    path: str  # where to read it (local links resolved, so that the state names one file one way)
    rel: str  # below the input ("" for the input itself), "/"-separated
    name: str  # for messages and the report
    kind: Literal["file", "folder", "unlisted", "outside"] = "file"  # outside: a link out of the input
    reason: str | None = None


class Store(Files, Protocol):
    """A place files are read from and written to: the local disk, or fsspec URLs."""

    appends: bool  # can append to a file (the state's journal); else files are rewritten whole

    def join(self, folder: str, *names: str) -> str:
        """`folder`/`names`..., normalised as this store spells paths (empty names add nothing)."""
        ...

    def name(self, path: str) -> str:
        """The name an input has in OUTDIR: its last component (a local one with links resolved)."""
        ...

    def exists(self, path: str | Path) -> bool:
        """Anything at `path`, a dangling link included (as an input, it then fails alone)."""
        ...

    def key(self, path: str) -> tuple[str, str]:
        """Which store and which absolute path, normalised (local links resolved): a path is
        inside another when its key's path is below the other's."""
        ...

    def identity(self, path: str) -> Hashable | None:
        """What makes two paths one file (on a local disk: device and inode); None when missing."""
        ...

    def local_path(self, path: str) -> Path | None:
        """The path on this machine's filesystem; None for a remote URL."""
        ...

    def stat(self, path: str) -> Info:
        """The file's Info, following links; OSError when it cannot be examined."""
        ...

    def walk(self, root: str, given: str) -> Iterator[Entry]:
        """Every file under the input `root` (named `given` by the user), folders first in
        order; the input itself when it is a file (followed if a link: the user named it). A
        file in a folder reached through a link out of the folder comes as "outside". Refuses
        (ConfigError) an input that cannot be walked."""
        ...

    def find(self, root: str) -> Iterator[str]:
        """Every file under the folder `root`, as found (links not resolved); none when it is missing."""
        ...

    def open_read(self, path: str) -> BinaryIO: ...

    def read_bytes(self, path: str) -> bytes:
        """The whole file; FileNotFoundError when it is not there."""
        ...

    def append(self, path: str, data: bytes, durable: bool) -> None: ...

    def write_whole(self, path: str, data: bytes) -> None:
        """Replace the file with `data`, so that it holds the old bytes or the new, never part."""
        ...


def is_url(text: str) -> bool:
    """A URL (scheme://...) rather than a local path."""
    return "://" in text


class LocalStore(LocalFiles):
    """Files on this machine, by path: walked with os.walk, compared by device and inode."""

    appends = True

    def join(self, folder: str, *names: str) -> str:
        return str(Path(folder, *names))

    def name(self, path: str) -> str:
        return Path(path).resolve().name

    def key(self, path: str) -> tuple[str, str]:
        return "file", str(Path(path).resolve())

    def identity(self, path: str) -> Hashable | None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def local_path(self, path: str) -> Path | None:
        return Path(path)

    def exists(self, path: str | Path) -> bool:
        return os.path.lexists(path)  # a dangling link is there (and fails as an input)

    def stat(self, path: str) -> Info:
        info = os.stat(path)
        kind: Kind = "folder" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "special"
        return Info(kind, info.st_size, info.st_mtime_ns, (info.st_atime_ns, info.st_mtime_ns), info.st_mode)

    def walk(self, root: str, given: str) -> Iterator[Entry]:
        root = str(Path(root))
        if os.path.isfile(root):
            yield Entry(_resolved(root), "", printable(given))
            return
        if not os.path.isdir(root):
            msg = f"{printable(given)}: not a regular file or folder"
            raise ConfigError(msg)
        unlisted: list[OSError] = []
        top = Path(root).resolve()
        for here, dirs, files in os.walk(root, onerror=unlisted.append):
            yield from _unlisted(unlisted, root)
            dirs.sort()
            yield Entry(here, "", printable(here), "folder")
            # A link to a folder is not walked into: it comes as a file, and is then left out.
            for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
                path = os.path.join(here, name)
                rel, resolved = Path(os.path.relpath(path, root)).as_posix(), _resolved(path)
                yield Entry(resolved, rel, printable(path), "outside" if outside(resolved, top) else "file")
        yield from _unlisted(unlisted, root)

    def find(self, root: str) -> Iterator[str]:
        for here, _dirs, files in os.walk(root):
            yield from (os.path.join(here, name) for name in files)

    def open_read(self, path: str) -> BinaryIO:
        return open(path, "rb", buffering=0)

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def append(self, path: str, data: bytes, durable: bool) -> None:
        with open(path, "ab") as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())

    def write_whole(self, path: str, data: bytes) -> None:
        with AtomicFile(path, self) as out:
            out.stream.write(data)
            out.commit()


def outside(resolved: str, top: Path) -> bool:
    """A file reached through a link that resolves out of the input folder `top` (resolved):
    `in/evil.log -> /etc/shadow`, or to the hash key file. A dangling link is not: it fails
    as an input that cannot be read."""
    return os.path.exists(resolved) and not Path(resolved).is_relative_to(top)


def _resolved(path: str) -> str:
    # What is read, with links resolved: the state then names one file one way.
    return str(Path(path).resolve())


def _unlisted(errors: list[OSError], root: str) -> Iterator[Entry]:
    for exc in errors:
        name = printable(exc.filename or root)
        yield Entry(name, "", name, "unlisted", f"{name}: cannot list the folder ({exc.strerror})")
    errors.clear()


LOCAL = LocalStore()


def store_for(path: str, fsspec: bool = False) -> Store:
    """The store of a local path or URL; with `fsspec`, local paths go through fsspec too (as
    every input and OUTDIR of a batch that names a URL does, so all its names are spelled alike)."""
    if not fsspec and not is_url(path):
        return LOCAL
    from logfilter.batch.url_store import UrlStore  # fsspec: an optional extra

    return UrlStore.of(path)
