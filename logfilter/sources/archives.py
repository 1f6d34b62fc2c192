"""What an input holds, read through compression and archives, and the helpers that read it.

`texts` yields every text log an input holds (scan, keys). Compressed data (gzip, bzip2, xz)
is read through its decompressor, an archive (zip, tar) member by member, recursively. What
is a text log, compressed, archived, binary or unreadable is sources/sniff.py's to judge
(`judge`, `sniff`), for every stream read here. Batch rewrites the same kinds
(batch/rewrite.py) with the readers here.
"""

from __future__ import annotations

import gzip
import io
import lzma
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from logfilter.errors import LogFilterError
from logfilter.names import printable
from logfilter.sources.files import CHUNK
from logfilter.sources.multistream import bzip2_reader, xz_reader
from logfilter.sources.limits import Budget, Limits, Metered
from logfilter.sources.sniff import SNIFF_SIZE, judge, read_tail, sniff
from logfilter.sources.tar_headers import TarHeaders

MAX_DEPTH = 4  # archives in archives, at most
SPOOL = 64 << 20  # bytes of an archive member held in memory; beyond, in a hidden file

DECOMPRESSORS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gzip": lambda stream: gzip.GzipFile(fileobj=stream, mode="rb"),
    "bzip2": bzip2_reader,  # every stream, or an error: BZ2File drops a damaged later stream quietly
    "xz": xz_reader,
}
# What reading or writing a damaged file can raise; the messages name the kind, never data.
DAMAGE = (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error, lzma.LZMAError,
           tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Text:
    """One text log found in an input: its name (`archive!member`), and a stream of it or why not."""

    name: str
    stream: BinaryIO | None
    reason: str | None = None


def texts(
    reader: BinaryIO, name: str, spool_dir: Path | None = None, depth: int = 0, budget: Budget | None = None
) -> Iterator[Text]:
    """Every text log `reader` holds, through compression and archives, in order; read-only.

    What is not a text log comes as a Text with no stream and the reason. Read each stream
    before asking for the next. Damaged data raises LogFilterError (naming `name`) here, or
    one of DAMAGE from the stream's reads; an input past the default Limits (`budget`, made
    at depth 0) raises limits.Exceeded, as in batch.
    """
    budget = budget or Budget(Limits(), name, None, raisable=False)
    head = read_head(reader)
    kind = sniff(head, tail=read_tail(reader) if depth == 0 else None)  # a zip with text in front is a zip
    if depth > MAX_DEPTH and kind not in ("text", "binary"):
        msg = f"{name}: archives nested more than {MAX_DEPTH} deep"
        raise LogFilterError(msg)
    stream: BinaryIO = Rewound(head, reader)  # type: ignore[assignment]
    try:
        if kind == "text":
            yield Text(name, stream)
        elif kind == "binary":
            yield Text(name, None, judge(head).left_out())
        elif kind == "tar":
            with tarfile.open(fileobj=TarHeaders(stream, budget), mode="r|") as archive:  # type: ignore[call-overload]
                for info in archive:
                    budget.member(len(info.name.encode("utf-8", "surrogateescape")))
                    member = archive.extractfile(info) if info.isreg() else None
                    if member is not None:
                        yield from texts(member, f"{name}!{printable(info.name)}", spool_dir, depth + 1, budget)
                check_tar_end(archive, name)
        elif kind == "zip":
            with tempfile.SpooledTemporaryFile(max_size=SPOOL, dir=spool_dir) as seekable:
                copy_stream(stream, seekable)  # a zip is read from its end
                seekable.seek(0)
                with zipfile.ZipFile(seekable) as archive:
                    refuse_overlaps(archive, name)
                    for info in archive.infolist():
                        budget.member(len(info.orig_filename.encode("utf-8", "surrogateescape")))
                        member_name = f"{name}!{printable(info.filename)}"
                        if info.is_dir():
                            continue
                        if info.flag_bits & 0x1:
                            yield Text(member_name, None, "the member is encrypted; cannot read it")
                            continue
                        with archive.open(info) as member:
                            metered = Metered(member, budget)  # type: ignore[arg-type]
                            yield from texts(metered, member_name, spool_dir, depth + 1, budget)  # type: ignore[arg-type]
        else:
            with DECOMPRESSORS[kind](stream) as inner:
                yield from texts(Metered(inner, budget), name, spool_dir, depth + 1, budget)  # type: ignore[arg-type]
    except LogFilterError:
        raise
    except DAMAGE as exc:
        msg = f"{name}: cannot read it as {kind} data ({damage(exc)})"
        raise LogFilterError(msg) from None


def read_head(reader: BinaryIO) -> bytes:
    """The first SNIFF_SIZE bytes (fewer at the end), however short the reads: what `judge` judges."""
    parts, size = [], 0
    while size < SNIFF_SIZE:
        part = reader.read(SNIFF_SIZE - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def check_tar_end(archive: tarfile.TarFile, name: str) -> None:
    """Raise LogFilterError unless the tar ended where it should (see below)."""
    # tarfile ends quietly at a damaged header: what follows must be the zero padding.
    while chunk := archive.fileobj.read(CHUNK):  # type: ignore[union-attr]
        if chunk.strip(b"\x00"):
            msg = f"{name}: a damaged member header, or data after the end of the archive"
            raise LogFilterError(msg)


def refuse_overlaps(archive: zipfile.ZipFile, name: str) -> None:
    """Raise LogFilterError when two zip entries share bytes: entries that all point at one
    compressed bomb make it unpack once per entry (20 entries of a 229 KB zip: 1.35 GB)."""
    end = 0
    for info in sorted(archive.infolist(), key=lambda info: info.header_offset):
        if info.header_offset < end:
            msg = f"{name}: zip entries that overlap (a zip bomb?); not read"
            raise LogFilterError(msg)
        end = info.header_offset + 30 + info.compress_size  # its local header's fixed part and its data, at least


def copy_stream(reader: BinaryIO, writer: BinaryIO) -> None:
    """Copy the rest of `reader` to `writer`, CHUNK bytes at a time."""
    while chunk := reader.read(CHUNK):
        writer.write(chunk)


def damage(exc: BaseException) -> str:
    """What went wrong reading or writing damaged data, in words that never hold its bytes.

    strerror ("No space left on device") never holds data; other exception texts may quote bytes.
    """
    if isinstance(exc, EOFError):
        return "truncated"
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


class Rewound(io.RawIOBase):
    """A stream that gives back the head already read from it, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
