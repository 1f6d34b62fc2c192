"""Whether an input is a text log logfilter can read, judged once from its first bytes.

`judge` is the one judgement: every front door (run, untag, follow, batch, scan, keys, batch
ranges) asks it, and words its refusal from the Verdict. A compressed or archived log, or
binary data, would pass through unread and so unmasked; so would UTF-16/UTF-32 text (its
KV lines do not read as such) and text with CR-only line ends (one endless line).

The wording differs by front door because each says what it does next (run refuses and
points to batch, follow stops following, batch and scan leave the input out); the kinds
and the reasons are these, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SNIFF_SIZE = 8192  # the bytes at the start of an input that are judged (its sniffed head)

Kind = Literal["text", "gzip", "bzip2", "xz", "zip", "tar", "binary"]
PACKED = ("gzip", "bzip2", "xz", "zip", "tar")
_NUL_RUNS = re.compile(rb"\x00{16,}")  # zero padding, as a crashed writer leaves in a log
_LONE_CR = re.compile(rb"\r[^\n]")
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
    """What an input's head says it is. `cr_only`: its lines end with CR alone (no LF in the head)."""

    kind: Kind
    cr_only: bool = False
    head: bytes = b""

    @property
    def is_text(self) -> bool:
        return self.kind == "text"

    def unreadable(self) -> str | None:
        """Why binary data is left out even with --keep-binary (it may be a log we cannot read), or None."""
        head = self.head
        for magics, reason in _UNREADABLE:
            if head.startswith(magics):
                return reason
        if _cr_only(head):
            return CR_ONLY
        # Text in a 16-bit encoding without a byte order mark: every other byte is NUL, the rest text.
        for zeros, text in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
            if len(head) >= 64 and zeros.count(0) > 0.9 * len(zeros) and len(_TEXT_BYTES.sub(b"", text)) < 0.1 * len(text):
                return "UTF-16 text, which logfilter does not read"
        return None

    def left_out(self) -> str:
        """Why batch and scan leave out binary data: the most telling reason."""
        return self.unreadable() or "binary data, not a text log"

    def refusal(self, name: str, advice: str) -> str:
        """What run and untag say when they refuse the input; `advice` follows compressed data."""
        if self.kind in PACKED:
            return f"{name}: {self.kind} data, not a text log; {advice}"
        if self.cr_only:
            return f"{name}: CR-only line ends, not a text log logfilter reads; refused (tr '\\r' '\\n' converts it)"
        return f"{name}: binary data (NUL bytes, or UTF-16/UTF-32 text), not a text log; refused (batch leaves such files out)"

    def not_followed(self, name: str) -> str:
        """What follow says of a file it will not follow."""
        return f"{name}: {self.kind} data, not a text log; not followed"


def judge(head: bytes, partial: bool = False) -> Verdict:
    """The kind of data that starts with `head` (its first SNIFF_SIZE bytes, or all of it).

    `partial`: a live input's first bytes so far, fewer than SNIFF_SIZE. NUL bytes at their end
    may grow into zero padding, and a lone CR may have its LF in the next read, so neither counts yet.
    """
    head = head[:SNIFF_SIZE]
    kind = _kind(head.rstrip(b"\x00") if partial else head, partial)
    return Verdict(kind, kind == "binary" and _cr_only(head), head)


def sniff(head: bytes, partial: bool = False) -> Kind:
    """judge(head, partial).kind: what batch needs to pick a reader."""
    return judge(head, partial).kind


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
    if b"\x00" in head and b"\x00" in _NUL_RUNS.sub(b"", head):
        return "binary"
    if _cr_only(head) and not partial:
        return "binary"  # not a text log logfilter can read (Verdict.unreadable says why)
    return "text"


def _cr_only(head: bytes) -> bool:
    # Old Mac style: no LF in the head and a CR followed by something else. Its lines would
    # not read as lines, nor its KV lines as KV lines, so it would pass through unmasked.
    return b"\n" not in head and _LONE_CR.search(head) is not None
