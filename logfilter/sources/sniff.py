"""Whether an input is a text log logfilter can read, judged on all of it: its head, what follows, its trailer.

`judge` is the one judgement of an input's head (its first SNIFF_SIZE bytes), and of its
trailer when the input is a file: a zip's end-of-central-directory record at its end makes
it the archive it is, whatever text is in front (a self-extracting bundle). A ChunkJudge
(chunk_judge.py) judges the bytes after the head as the loop (pipeline.py) reads them, chunk
by chunk: a stretch of binary data, UTF-16 text, an archive's records or CR-only lines after
a text head is no text log either. Every front door (run, untag, follow, batch, scan, keys, preview, batch ranges)
asks these and words its refusal from the Verdict. A compressed or archived log, or binary
data, would pass through unread and so unmasked; so would UTF-16/UTF-32 text (its KV lines
do not read as such) and text with CR-only line ends (one endless line).

The wording differs by front door because each says what it does next (run refuses and
points to batch, follow stops following, batch and scan leave the input out); the kinds
and the reasons are these, once.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import BinaryIO, Literal

SNIFF_SIZE = 8192  # the bytes at the start of an input that are judged (its sniffed head)
# A file's last bytes that are judged: a zip's end record with a comment of up to 1 KiB (a
# longer comment is rare; such a zip's records are still found as the input is read, chunk_judge.py).
TRAILER_SIZE = 22 + 1024

Kind = Literal["text", "gzip", "bzip2", "xz", "zip", "tar", "binary"]
PACKED = ("gzip", "bzip2", "xz", "zip", "tar")
NUL_RUNS = re.compile(rb"\x00{16,}")  # zero padding, as a crashed writer leaves in a log
LONE_CR = re.compile(rb"\r[^\r\n]")  # a CR that ends no line (CRs before an LF are its line ending)
_TEXT_BYTES = re.compile(rb"[\t\n\r\x20-\x7e]+")
# Data that is not a text log and that no flag may copy unmasked: logfilter cannot read it.
_UNREADABLE = (
    ((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"), "UTF-16 or UTF-32 text, which logfilter does not read"),
    ((b"\x28\xb5\x2f\xfd",), "zstd data, which logfilter does not read"),
    ((b"7z\xbc\xaf\x27\x1c",), "7z data, which logfilter does not read"),
    ((b"Rar!\x1a\x07",), "rar data, which logfilter does not read"),
    ((b"\x04\x22\x4d\x18",), "lz4 data, which logfilter does not read"),
    ((b"\x1f\x9d", b"\x5d\x00\x00"), "compress or lzma data, which logfilter does not read"),
)
CR_ONLY = "text with CR-only line ends, which logfilter does not read (tr '\\r' '\\n' converts it)"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an input is. `cr_only`: its lines end with CR alone. `head`: the bytes judged.

    `offset`: where a stretch that is no text log starts after a text head (chunk_judge.py), or None
    when the head (or the trailer) decided.
    """

    kind: Kind
    cr_only: bool = False
    head: bytes = b""
    offset: int | None = None

    @property
    def is_text(self) -> bool:
        return self.kind == "text"

    def unreadable(self) -> str | None:
        """Why binary data is left out even with --keep-binary (it may be a log we cannot read), or None."""
        reason = self._unreadable()
        return None if reason is None else self._after(reason)

    def left_out(self) -> str:
        """Why batch and scan leave out data that is no text log: the most telling reason."""
        return self.unreadable() or self._after(self._what())

    def refusal(self, name: str, advice: str) -> str:
        """What run and untag say when they refuse the input; `advice` follows compressed data."""
        if self.offset is not None:
            return f"{name}: {self._after(self._unreadable() or self._what())}, not a text log; stopped there"
        if self.kind in PACKED:
            return f"{name}: {self.kind} data, not a text log; {advice}"
        if self.cr_only:
            return f"{name}: CR-only line ends, not a text log logfilter reads; refused (tr '\\r' '\\n' converts it)"
        return f"{name}: binary data (NUL bytes, or UTF-16/UTF-32 text), not a text log; refused (batch leaves such files out)"

    def not_followed(self, name: str) -> str:
        """What follow says of a file it will not follow."""
        if self.offset is not None:  # (a byte count from where following took it up: not said)
            return f"{name}: {self._what()} after its text, not a text log; not followed"
        return f"{name}: {self.kind} data, not a text log; not followed"

    def _what(self) -> str:
        if self.kind in PACKED:
            return f"{self.kind} data"
        return "binary data, not a text log" if self.offset is None else "binary data"

    def _after(self, reason: str) -> str:
        return reason if self.offset is None else f"from byte {self.offset} on, {reason}"

    def _unreadable(self) -> str | None:
        head = self.head
        for magics, reason in _UNREADABLE:
            if head.startswith(magics):
                return reason
        if self.cr_only or self.offset is None and _cr_only(head):
            return CR_ONLY
        # Text in a 16-bit encoding without a byte order mark: every other byte is NUL, the rest text.
        for zeros, text in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
            if len(head) >= 64 and zeros.count(0) > 0.9 * len(zeros) and len(_TEXT_BYTES.sub(b"", text)) < 0.1 * len(text):
                return "UTF-16 text, which logfilter does not read"
        return None


def judge(head: bytes, partial: bool = False, tail: bytes | None = None) -> Verdict:
    """The kind of data that starts with `head` (its first SNIFF_SIZE bytes, or all of it).

    `partial`: a live input's first bytes so far, fewer than SNIFF_SIZE. NUL bytes at their end
    may grow into zero padding, and a lone CR may have its LF in the next read, so neither counts yet.
    `tail`: the last TRAILER_SIZE bytes of a file (read_tail), whose zip end record, if any,
    makes a text head the front of a zip archive.
    """
    head = head[:SNIFF_SIZE]
    kind = _kind(head.rstrip(b"\x00") if partial else head, partial)
    if kind == "text" and tail is not None and zip_trailer(tail):
        kind = "zip"
    return Verdict(kind, kind == "binary" and _cr_only(head), head)


def sniff(head: bytes, partial: bool = False, tail: bytes | None = None) -> Kind:
    """judge(head, partial, tail).kind: what batch needs to pick a reader."""
    return judge(head, partial, tail).kind


def _kind(head: bytes, partial: bool) -> Kind:
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
    if b"\x00" in head and b"\x00" in NUL_RUNS.sub(b"", head):
        return "binary"
    if _cr_only(head) and not partial:
        return "binary"  # not a text log logfilter can read (Verdict.unreadable says why)
    return "text"


def _cr_only(head: bytes) -> bool:
    # Old Mac style: no LF in the head and a CR followed by something else. Its lines would
    # not read as lines, nor its KV lines as KV lines, so it would pass through unmasked.
    return b"\n" not in head and LONE_CR.search(head) is not None


def zip_trailer(tail: bytes) -> bool:
    """Whether `tail`, the end of a file, is a zip's end-of-central-directory record (and its comment)."""
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if len(tail) - at >= 22:
            comment = int.from_bytes(tail[at + 20 : at + 22], "little")
            directory, offset = int.from_bytes(tail[at + 12 : at + 16], "little"), int.from_bytes(tail[at + 16 : at + 20], "little")
            if at + 22 + comment == len(tail) and directory > 0 and (directory + offset <= at or offset == 0xFFFFFFFF):
                return True  # the record reaches the end, and its central directory fits before it (zip64: marked)
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


def read_tail(source: int | BinaryIO) -> bytes | None:
    """The last TRAILER_SIZE bytes of a regular file, open as a descriptor or a seekable stream
    (its position kept), or None for anything else (a pipe, a terminal, a file no longer than a
    head, which is judged whole): what `judge` reads a zip's end record from."""
    try:
        if isinstance(source, int):
            info = os.fstat(source)
            if not stat.S_ISREG(info.st_mode) or info.st_size <= SNIFF_SIZE:
                return None
            return os.pread(source, TRAILER_SIZE, max(info.st_size - TRAILER_SIZE, 0))
        if not source.seekable():
            return None
        here = source.tell()
        size = source.seek(0, os.SEEK_END)
        try:
            if size <= SNIFF_SIZE:
                return None
            source.seek(max(size - TRAILER_SIZE, 0))
            return source.read(TRAILER_SIZE)
        finally:
            source.seek(here)
    except (OSError, ValueError):
        return None


def holds_kv(data: bytes) -> bool:
    """Whether `data` (any bytes) names a KV attribute or a KVList, as a block opener does: such
    data holds customer data, so no flag may keep it unmasked (batch --keep-binary)."""
    return _OPENER_WORDS.search(data) is not None


_OPENER_WORDS = re.compile(rb"Attribute(?:UserData|Extensions|Reasons?)|KVList:")
LONGEST_OPENER_WORD = len(b"AttributeExtensions")
