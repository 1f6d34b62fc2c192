"""How a batch rewrites one input: the same kind comes out, every text log in it masked.

A text log is masked by the pipeline of `run` (`Rewriter._text`, the one call into it).
Compressed data (gzip, bzip2, xz) is decompressed, rewritten and compressed again; an
archive (zip, tar) comes out as an archive with the same members, each text log in it
masked, recursively. Binary data is left out and reported, or with `keep_binary` copied
unchanged; data logfilter cannot read (sniff.Verdict.unreadable) is always left out. Text streams
through; an archive member is spooled (a tar header needs its size first, and a member left
out must not leave an entry), in memory up to 64 MiB and beyond that in a hidden file beside
the output.
"""

from __future__ import annotations

import bz2
import copy
import gzip
import lzma
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from logfilter.batch.outdir import SPOOL_PREFIX
from logfilter.engines.registry import WalkChoice
from logfilter.errors import LogFilterError
from logfilter.names import printable
from logfilter.pipeline import NotALog, OnError, copy_kept, run
from logfilter.rules.compiled import Rules
from logfilter.sinks.streams import StreamSink
from logfilter.sources.archives import (
    DAMAGE,
    DECOMPRESSORS,
    MAX_DEPTH,
    SPOOL,
    Rewound,
    check_tar_end,
    copy_stream,
    damage,
    read_head,
    refuse_overlaps,
)
from logfilter.sources.files import StreamSource
from logfilter.sources.limits import Budget, Limits, Metered
from logfilter.sources.sniff import Kind, judge, read_tail, sniff
from logfilter.sources.tar_headers import NO_DATA, TarHeaders
from logfilter.stats import Stats

Status = Literal["done", "up-to-date", "omitted", "kept", "failed"]

MAX_WARNINGS = 5  # warnings kept per file; the rest are counted
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


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
        self, rules: Rules, *, choice: WalkChoice, on_error: OnError, keep_binary: bool, spool_dir: Path | None,
        limits: Limits = Limits(), size: int | None = None,
    ) -> None:  # fmt: skip
        """`choice`: the engine and output format; --format jsonl reads only text logs. `limits`:
        what the input (of `size` bytes, when known) may unpack to, every level counted."""
        self._limits, self._size = limits, size
        self._budget = Budget(limits, "", size)
        self._choice = choice
        self._rules = rules
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
        if depth == 0:
            self._budget = Budget(self._limits, name, self._size)
        head = read_head(reader)
        kind = sniff(head, tail=read_tail(reader) if in_place else None)  # a zip with text in front is a zip
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
            stream = Rewound(head, reader)  # type: ignore[assignment]
        try:
            if kind == "text":
                self._text(stream, writer, outcome)
            elif kind == "binary":
                reason = self._left_out(head) or copy_kept(stream, writer)
                if reason is not None:
                    outcome.status, outcome.reason = "omitted", reason
                    return outcome
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

        try:
            run(
                [StreamSource(outcome.name, reader)], self._rules, StreamSink(writer, outcome.name, live=False),
                on_error=self._on_error, warn=warn, stats=outcome.stats, engine=self._choice.engine,
                output_format=self._choice.output_format, all_lines=self._choice.all_lines,
            )  # fmt: skip
        except NotALog as exc:  # what follows its text head is no text log: what was written goes too
            outcome.status, outcome.reason = "omitted", exc.verdict.left_out()

    def _compressed(self, kind: Kind, reader: BinaryIO, writer: BinaryIO, outcome: Outcome, depth: int) -> None:
        with DECOMPRESSORS[kind](reader) as decompressed:
            inner: BinaryIO = Metered(decompressed, self._budget)  # type: ignore[assignment]
            head = read_head(inner)
            mtime = getattr(decompressed, "mtime", None)  # gzip keeps the original's time in its header
            reason = self._left_out(head)
            if reason is not None:  # decided before the compressor writes a header
                outcome.status, outcome.reason = "omitted", reason
                return
            with _compressor(kind, writer, outcome.name, mtime) as packed, self._spool() as spooled:
                if sniff(head) != "zip":
                    content = self.rewrite(Rewound(head, inner), packed, outcome.name, depth + 1)
                else:  # a zip is written by seeking back, which a compressor cannot do
                    content = self._member(Rewound(head, inner), outcome.name, depth, spooled)
                    spooled.seek(0)
                    copy_stream(spooled, packed)
        outcome.kind = kind if content.kind == "text" else f"{content.kind}+{kind}"
        outcome.status, outcome.stats, outcome.warnings, outcome.members = (
            content.status, content.stats, content.warnings, content.members
        )

    def _member(self, reader: BinaryIO, name: str, depth: int, spooled: BinaryIO) -> Outcome:
        """Rewrite one archive member into a spool file; the caller adds it unless it is left out."""
        head = read_head(reader)
        if sniff(head) != "zip":
            return self.rewrite(Rewound(head, reader), spooled, name, depth + 1)
        with self._spool() as seekable:  # a zip is read by seeking: give it a file
            copy_stream(Rewound(head, reader), seekable)
            seekable.seek(0)
            return self.rewrite(seekable, spooled, name, depth + 1, in_place=True)

    def _zip(self, reader: BinaryIO, writer: BinaryIO, outcome: Outcome, depth: int, in_place: bool) -> None:
        with self._spool() as spooled_archive:
            if not in_place:
                copy_stream(reader, spooled_archive)
                spooled_archive.seek(0)
                reader = spooled_archive  # type: ignore[assignment]
            with zipfile.ZipFile(reader) as archive, zipfile.ZipFile(writer, "w") as packed:
                packed.comment = archive.comment
                refuse_overlaps(archive, outcome.name)
                for info in archive.infolist():
                    self._budget.member(len(info.orig_filename.encode("utf-8", "surrogateescape")))
                    copied = _zip_info(info)
                    if info.is_dir():
                        packed.writestr(copied, b"")
                        continue
                    member = f"{outcome.name}!{printable(info.filename)}"
                    if info.flag_bits & 0x1:
                        msg = f"{member}: the member is encrypted; cannot read it"
                        raise LogFilterError(msg)
                    with archive.open(info) as unpacked, self._spool() as spooled:
                        stream: BinaryIO = Metered(unpacked, self._budget)  # type: ignore[assignment]
                        result = self._member(stream, member, depth, spooled)
                        if result.status != "omitted":
                            copied.file_size = spooled.tell()  # decides whether zip64 is needed
                            spooled.seek(0)
                            with packed.open(copied, "w") as out:
                                copy_stream(spooled, out)
                    self._add(outcome, result)

    def _tar(self, reader: BinaryIO, writer: BinaryIO, outcome: Outcome, depth: int) -> None:
        guarded = TarHeaders(reader, self._budget)  # no header larger than the limit reaches tarfile
        with tarfile.open(fileobj=guarded, mode="r|") as archive, tarfile.open(  # type: ignore[call-overload]
            fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT
        ) as packed:
            left_out: set[str] = set()
            for info in archive:
                self._budget.member(len(info.name.encode("utf-8", "surrogateescape")))
                member = f"{outcome.name}!{printable(info.name)}"
                if info.islnk() and info.linkname in left_out:
                    outcome.members.append(Outcome(member, "link", "omitted", reason="a hard link to a member left out"))
                    continue
                if not info.isreg():
                    packed.addfile(_no_data(info, member))
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
            check_tar_end(archive, outcome.name)

    def _add(self, outcome: Outcome, member: Outcome) -> None:
        outcome.members.append(member)
        outcome.stats.add(member.stats)

    def _spool(self) -> tempfile.SpooledTemporaryFile[bytes]:
        return tempfile.SpooledTemporaryFile(max_size=SPOOL, dir=self._spool_dir, prefix=SPOOL_PREFIX)


def _compressor(kind: Kind, writer: BinaryIO, name: str, mtime: int | None) -> BinaryIO:
    if kind == "gzip":
        inner = Path(name.rpartition("!")[2]).name
        inner = inner[:-3] if inner.endswith(".gz") else inner[:-4] + ".tar" if inner.endswith(".tgz") else inner
        return gzip.GzipFile(filename=inner, mode="wb", fileobj=writer, compresslevel=6, mtime=mtime)
    if kind == "bzip2":
        return bz2.BZ2File(writer, "wb")
    return lzma.LZMAFile(writer, "wb", format=lzma.FORMAT_XZ)


def _no_data(info: tarfile.TarInfo, member: str) -> tarfile.TarInfo:
    """The header of a member that is not a file, to copy as it is: links, folders, devices and
    FIFOs carry no data; a type tarfile does not know may, which is neither read nor copied."""
    if info.type not in NO_DATA and info.size:
        msg = f"{member}: a member of an unknown tar type ({printable(info.type)}) that holds data; cannot rewrite the archive"
        raise LogFilterError(msg)
    copied = copy.copy(info)
    copied.size = 0  # a size here would make readers of the output skip the next header
    return copied


def _zip_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A new entry with the member's name, time, permissions and comment (sizes come later)."""
    copied = zipfile.ZipInfo(info.filename, info.date_time)
    copied.compress_type = info.compress_type if info.compress_type in _ZIP_METHODS else zipfile.ZIP_DEFLATED
    copied.external_attr = info.external_attr
    copied.create_system = info.create_system
    copied.comment = info.comment
    return copied


