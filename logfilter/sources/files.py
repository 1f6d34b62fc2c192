"""Inputs as named streams of byte chunks, and the framer that cuts chunks into lines."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from logfilter.errors import LogFilterError

CHUNK = 1 << 20
HEAD = 8192  # what `sniff` needs to see

Kind = Literal["text", "gzip", "bzip2", "xz", "zip", "tar", "binary"]
PACKED = ("gzip", "bzip2", "xz", "zip", "tar")
_NUL_RUNS = re.compile(rb"\x00{16,}")  # zero padding, as a crashed writer leaves in a log
_LONE_CR = re.compile(rb"\r[^\n]")


def cr_only(head: bytes) -> bool:
    """Whether text starting with `head` ends its lines with CR alone (old Mac style): no LF in
    `head` and a CR followed by something else. Its lines would not read as lines, nor its KV
    lines as KV lines, so it would pass through unmasked."""
    return b"\n" not in head and _LONE_CR.search(head) is not None


def sniff(head: bytes, partial: bool = False) -> Kind:
    """The kind of data that starts with `head` (its first HEAD bytes, or all of it).

    `partial`: a live input's first bytes so far, fewer than HEAD. NUL bytes at their end may
    grow into zero padding, and a lone CR may have its LF in the next read, so neither counts yet.
    """
    if partial:
        head = head.rstrip(b"\x00")
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"  # UTF-16 or UTF-32 with a byte-order mark, even with no NUL in sight
    if b"\x00" in head and b"\x00" in _NUL_RUNS.sub(b"", head):
        return "binary"
    if cr_only(head) and not partial:
        return "binary"  # not a text log logfilter can read (archives.unreadable says why)
    return "text"


@dataclass(frozen=True, slots=True)
class FileSource:
    """A file on disk, read in large chunks."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def chunks(self) -> Iterator[bytes]:
        try:
            with open(self.path, "rb", buffering=0) as stream:
                while chunk := stream.read(CHUNK):
                    yield chunk
        except OSError as exc:
            msg = f"{self.path}: cannot read ({exc.strerror or exc})"
            raise LogFilterError(msg) from None


@dataclass(frozen=True, slots=True)
class StdinSource:
    """Standard input. Each read returns what has arrived, so a live pipe is not held back."""

    fd: int = 0
    name: str = "<stdin>"

    def chunks(self) -> Iterator[bytes]:
        while True:
            try:
                chunk = os.read(self.fd, CHUNK)
            except OSError as exc:
                msg = f"{self.name}: cannot read ({exc.strerror or exc})"
                raise LogFilterError(msg) from None
            if not chunk:
                return
            yield chunk


@dataclass(frozen=True, slots=True)
class StreamSource:
    """An open binary stream, such as a member of an archive; `name` says where it came from."""

    name: str
    stream: BinaryIO

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.stream.read(CHUNK):
            yield chunk


Source = FileSource | StdinSource | StreamSource


class LineFramer:
    """Cuts a byte stream into lines that keep their endings, without losing a byte.

    A line is complete at its LF (a CR before it belongs to the ending). The bytes after
    the last LF wait for the next chunk; `finish` hands them out as a last, unended line.
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        """Return the lines this chunk completes."""
        pieces = self.feed_lines(chunk).split(b"\n")
        pieces.pop()  # empty: the lines end with LF
        return [piece + b"\n" for piece in pieces]

    def feed_lines(self, chunk: bytes) -> bytes:
        """Return the lines this chunk completes as one bytes object (maybe empty)."""
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            self._pending.append(chunk)
            return b""
        head = chunk[:end] if end < len(chunk) else chunk
        if self._pending:
            head = b"".join(self._pending) + head
            self._pending = []
        if end < len(chunk):
            self._pending.append(chunk[end:])
        return head

    def finish(self) -> bytes:
        """Return what is left after the last line ending (maybe nothing)."""
        rest = b"".join(self._pending)
        self._pending = []
        return rest
