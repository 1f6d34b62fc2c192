"""What a batch input holds, and how each kind is rewritten: the same kind comes out.

A text log is masked by the pipeline of `run`. Compressed data (gzip, bzip2, xz) is
decompressed, rewritten and compressed again; an archive (zip, tar) comes out as an archive
with the same members, each text log in it masked, recursively. Binary data is left out and
reported, or with `keep_binary` copied unchanged. Binary means a NUL byte in the first 8 KiB
(as git decides) that is not part of a run of NULs: a log padded with zeros after a crash is
still a log, and is masked; UTF-16 text, images and core dumps are binary. Text streams through; an archive member is spooled (a tar
header needs its size first, and a member left out must not leave an entry), in memory up
to 64 MiB and beyond that in a hidden file beside the output.
"""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import lzma
import os
import re
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from logfilter.errors import LogFilterError
from logfilter.engines.registry import Choice
from logfilter.pipeline import OnError, run
from logfilter.rules.compiled import Rules
from logfilter.sinks import StreamSink
from logfilter.sources.files import CHUNK, StreamSource
from logfilter.sources.sniff import SNIFF_SIZE, Kind, judge, sniff
from logfilter.sources.multistream import bzip2_reader, xz_reader
from logfilter.stats import Stats

Status = Literal["done", "up-to-date", "omitted", "kept", "failed"]

MAX_DEPTH = 4
MAX_WARNINGS = 5
SPOOL = 64 << 20

_COMPRESSED: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gzip": lambda stream: gzip.GzipFile(fileobj=stream, mode="rb"),
    "bzip2": bzip2_reader,  # every stream, or an error: BZ2File drops a damaged later stream quietly
    "xz": xz_reader,
}
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
# What reading or writing a damaged file can raise; the messages name the kind, never data.
DAMAGE = (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error, lzma.LZMAError,
           tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile)  # fmt: skip


@dataclass(slots=True)
class Outcome:
    """What happened to one input file or archive member. Names and counts, never data."""

    name: str
    kind: str = "text"
    status: Status = "done"
    stats: Stats = field(default_factory=Stats)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    members: list[Outcome] = field(default_factory=list)


class Rewriter:
    """Rewrites one input (a stream) into one output stream under the compiled Rules."""

    def __init__(
        self, chain: Rules, *, choice: Choice, on_error: OnError, keep_binary: bool, spool_dir: Path
    ) -> None:
        """`choice`: the engine and output format; --format jsonl reads only text logs."""
        self._choice = choice
        self._chain = chain
        self._on_error: OnError = on_error
        self._keep_binary = keep_binary
        self._spool_dir = spool_dir

    def rewrite(
        self, reader: BinaryIO, writer: BinaryIO, name: str, depth: int = 0, in_place: bool = False
    ) -> Outcome:
        """Rewrite what `reader` holds into `writer`; raise LogFilterError when it cannot be read.

        `in_place`: the reader is a seekable file, so a zip is read where it is, not copied.
        An outcome with status "omitted" means nothing was written: the caller leaves the
        output out.
        """
        head = _read_head(reader)
        kind = sniff(head)
        outcome = Outcome(name, kind)
        if self._choice.output_format == "jsonl" and kind not in ("text", "binary"):
            msg = f"{name}: {kind} data; --format jsonl reads only text logs (extract archives and compressed logs first)"
            raise LogFilterError(msg)
        if depth > MAX_DEPTH and kind not in ("text", "binary"):
            msg = f"{name}: archives nested more than {MAX_DEPTH} deep"
            raise LogFilterError(msg)
        if in_place and kind == "zip":
            reader.seek(0)
            stream: BinaryIO = reader
        else:
            stream = _Rewound(head, reader)  # type: ignore[assignment]
        try:
            if kind == "text":
                self._text(stream, writer, outcome)
            elif kind == "binary":
                reason = self._left_out(head)
                if reason is not None:
                    outcome.status, outcome.reason = "omitted", reason
                    return outcome
                _copy(stream, writer)
                outcome.status = "kept"
            elif kind == "zip":
                self._zip(stream, writer, outcome, depth, in_place)
            elif kind == "tar":
                self._tar(stream, writer, outcome, depth)
            else:
                self._compressed(kind, stream, writer, outcome, depth)
        except LogFilterError:
            raise
        except DAMAGE as exc:
            msg = f"{name}: cannot read or rewrite it as {kind} data ({damage(exc)})"
            raise LogFilterError(msg) from None
        return outcome

    def _left_out(self, head: bytes) -> str | None:
        """Why data starting with `head` is left out, or None when it is rewritten or kept."""
        verdict = judge(head)
        if verdict.kind != "binary":
            return None
        return verdict.unreadable() or (None if self._keep_binary else verdict.left_out())

    def _text(self, reader: BinaryIO, writer: BinaryIO, outcome: Outcome) -> None:
        def warn(message: str) -> None:
            if len(outcome.warnings) < MAX_WARNINGS:
                outcome.warnings.append(message)

        run(
            [StreamSource(outcome.name, reader)], self._chain, StreamSink(writer, outcome.name, live=False),
            on_error=self._on_error, warn=warn, stats=outcome.stats, engine=self._choice.engine,
            output_format=self._choice.output_format, all_lines=self._choice.all_lines,
        )  # fmt: skip

    def _compressed(self, kind: Kind, reader: BinaryIO, writer: BinaryIO, outcome: Outcome, depth: int) -> None:
        with _COMPRESSED[kind](reader) as inner:
            head = _read_head(inner)
            mtime = getattr(inner, "mtime", None)  # gzip keeps the original's time in its header
            reason = self._left_out(head)
            if reason is not None:  # decided before the compressor writes a header
                outcome.status, outcome.reason = "omitted", reason
                return
            with _compressor(kind, writer, outcome.name, mtime) as packed, self._spool() as spooled:
                if sniff(head) != "zip":
                    content = self.rewrite(_Rewound(head, inner), packed, outcome.name, depth + 1)
                else:  # a zip is written by seeking back, which a compressor cannot do
                    content = self._member(_Rewound(head, inner), outcome.name, depth, spooled)
                    spooled.seek(0)
                    _copy(spooled, packed)
        outcome.kind = kind if content.kind == "text" else f"{content.kind}+{kind}"
        outcome.status, outcome.stats, outcome.warnings, outcome.members = (
            content.status, content.stats, content.warnings, content.members
        )

    def _member(self, reader: BinaryIO, name: str, depth: int, spooled: BinaryIO) -> Outcome:
        """Rewrite one archive member into a spool file; the caller adds it unless it is left out."""
        head = _read_head(reader)
        if sniff(head) != "zip":
            return self.rewrite(_Rewound(head, reader), spooled, name, depth + 1)
        with self._spool() as seekable:  # a zip is read by seeking: give it a file
            _copy(_Rewound(head, reader), seekable)
            seekable.seek(0)
            return self.rewrite(seekable, spooled, name, depth + 1, in_place=True)

    def _zip(self, reader: BinaryIO, writer: BinaryIO, outcome: Outcome, depth: int, in_place: bool) -> None:
        with self._spool() as spooled_archive:
            if not in_place:
                _copy(reader, spooled_archive)
                spooled_archive.seek(0)
                reader = spooled_archive  # type: ignore[assignment]
            with zipfile.ZipFile(reader) as archive, zipfile.ZipFile(writer, "w") as packed:
                packed.comment = archive.comment
                for info in archive.infolist():
                    copied = _zip_info(info)
                    if info.is_dir():
                        packed.writestr(copied, b"")
                        continue
                    member = f"{outcome.name}!{printable(info.filename)}"
                    if info.flag_bits & 0x1:
                        msg = f"{member}: the member is encrypted; cannot read it"
                        raise LogFilterError(msg)
                    with archive.open(info) as stream, self._spool() as spooled:
                        result = self._member(stream, member, depth, spooled)
                        if result.status != "omitted":
                            copied.file_size = spooled.tell()  # decides whether zip64 is needed
                            spooled.seek(0)
                            with packed.open(copied, "w") as out:
                                _copy(spooled, out)
                    self._add(outcome, result)

    def _tar(self, reader: BinaryIO, writer: BinaryIO, outcome: Outcome, depth: int) -> None:
        with tarfile.open(fileobj=reader, mode="r|") as archive, tarfile.open(
            fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT
        ) as packed:
            left_out: set[str] = set()
            for info in archive:
                member = f"{outcome.name}!{printable(info.name)}"
                if info.islnk() and info.linkname in left_out:
                    outcome.members.append(Outcome(member, "link", "omitted", reason="a hard link to a member left out"))
                    continue
                if not info.isreg():
                    packed.addfile(copy.copy(info))
                    continue
                stream = archive.extractfile(info)
                assert stream is not None  # a regular member always has data
                with self._spool() as spooled:
                    result = self._member(stream, member, depth, spooled)
                    if result.status != "omitted":
                        copied = copy.copy(info)
                        copied.type, copied.sparse = tarfile.REGTYPE, None  # written out in full
                        copied.pax_headers = {
                            k: v for k, v in info.pax_headers.items() if k != "size" and not k.startswith("GNU.sparse")
                        }
                        copied.size = spooled.tell()
                        spooled.seek(0)
                        packed.addfile(copied, spooled)
                    else:
                        left_out.add(info.name)
                self._add(outcome, result)
            _check_tar_end(archive, outcome.name)

    def _add(self, outcome: Outcome, member: Outcome) -> None:
        outcome.members.append(member)
        outcome.stats.add(member.stats)

    def _spool(self) -> tempfile.SpooledTemporaryFile[bytes]:
        return tempfile.SpooledTemporaryFile(max_size=SPOOL, dir=self._spool_dir, prefix=".logfilter-spool-")


@dataclass(frozen=True, slots=True)
class Text:
    """One text log found in an input: its name (`archive!member`), and a stream of it or why not."""

    name: str
    stream: BinaryIO | None
    reason: str | None = None


def texts(reader: BinaryIO, name: str, spool_dir: Path | None = None, depth: int = 0) -> Iterator[Text]:
    """Every text log `reader` holds, through compression and archives, in order; read-only.

    What is not a text log comes as a Text with no stream and the reason. Read each stream
    before asking for the next. Damaged data raises LogFilterError (naming `name`) here, or
    one of DAMAGE from the stream's reads.
    """
    head = _read_head(reader)
    kind = sniff(head)
    if depth > MAX_DEPTH and kind not in ("text", "binary"):
        msg = f"{name}: archives nested more than {MAX_DEPTH} deep"
        raise LogFilterError(msg)
    stream: BinaryIO = _Rewound(head, reader)  # type: ignore[assignment]
    try:
        if kind == "text":
            yield Text(name, stream)
        elif kind == "binary":
            yield Text(name, None, judge(head).left_out())
        elif kind == "tar":
            with tarfile.open(fileobj=stream, mode="r|") as archive:
                for info in archive:
                    member = archive.extractfile(info) if info.isreg() else None
                    if member is not None:
                        yield from texts(member, f"{name}!{printable(info.name)}", spool_dir, depth + 1)
                _check_tar_end(archive, name)
        elif kind == "zip":
            with tempfile.SpooledTemporaryFile(max_size=SPOOL, dir=spool_dir) as seekable:
                _copy(stream, seekable)  # a zip is read from its end
                seekable.seek(0)
                with zipfile.ZipFile(seekable) as archive:
                    for info in archive.infolist():
                        member_name = f"{name}!{printable(info.filename)}"
                        if info.is_dir():
                            continue
                        if info.flag_bits & 0x1:
                            yield Text(member_name, None, "the member is encrypted; cannot read it")
                            continue
                        with archive.open(info) as member:
                            yield from texts(member, member_name, spool_dir, depth + 1)  # type: ignore[arg-type]
        else:
            with _COMPRESSED[kind](stream) as inner:
                yield from texts(inner, name, spool_dir, depth + 1)
    except LogFilterError:
        raise
    except DAMAGE as exc:
        msg = f"{name}: cannot read it as {kind} data ({damage(exc)})"
        raise LogFilterError(msg) from None


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def escape_controls(text: str, keep_tabs: bool = False) -> str:
    """Text for a terminal: control characters as escapes (`\\x1b`), so none acts on it."""
    pattern = _CONTROLS_BUT_TAB if keep_tabs else _CONTROLS
    return pattern.sub(lambda hit: hit.group().encode("unicode_escape").decode(), text)


def printable(name: str) -> str:
    """A file name as text for messages and JSON: bytes that are not UTF-8 as \\x escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _read_head(reader: BinaryIO) -> bytes:
    parts, size = [], 0
    while size < SNIFF_SIZE:
        part = reader.read(SNIFF_SIZE - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _check_tar_end(archive: tarfile.TarFile, name: str) -> None:
    # tarfile ends quietly at a damaged header: what follows must be the zero padding.
    while chunk := archive.fileobj.read(CHUNK):  # type: ignore[union-attr]
        if chunk.strip(b"\x00"):
            msg = f"{name}: a damaged member header, or data after the end of the archive"
            raise LogFilterError(msg)


def _copy(reader: BinaryIO, writer: BinaryIO) -> None:
    while chunk := reader.read(CHUNK):
        writer.write(chunk)


def damage(exc: BaseException) -> str:
    """What went wrong reading or writing damaged data, in words that never hold its bytes.

    strerror ("No space left on device") never holds data; other exception texts may quote bytes.
    """
    if isinstance(exc, EOFError):
        return "truncated"
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


def _compressor(kind: Kind, writer: BinaryIO, name: str, mtime: int | None) -> BinaryIO:
    if kind == "gzip":
        inner = Path(name.rpartition("!")[2]).name
        inner = inner[:-3] if inner.endswith(".gz") else inner[:-4] + ".tar" if inner.endswith(".tgz") else inner
        return gzip.GzipFile(filename=inner, mode="wb", fileobj=writer, compresslevel=6, mtime=mtime)
    if kind == "bzip2":
        return bz2.BZ2File(writer, "wb")
    return lzma.LZMAFile(writer, "wb", format=lzma.FORMAT_XZ)


def _zip_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A new entry with the member's name, time, permissions and comment (sizes come later)."""
    copied = zipfile.ZipInfo(info.filename, info.date_time)
    copied.compress_type = info.compress_type if info.compress_type in _ZIP_METHODS else zipfile.ZIP_DEFLATED
    copied.external_attr = info.external_attr
    copied.create_system = info.create_system
    copied.comment = info.comment
    return copied


class _Rewound(io.RawIOBase):
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
