"""A tar stream read on its way to tarfile: a header too large for memory is refused before tarfile reads it.

tarfile reads a GNU long name or link (`L`, `K`) and a PAX header (`x`, `g`) whole into memory,
whatever size its header says: 1 GiB from a 1 MB .tar.gz. `TarHeaders` passes the bytes on
unchanged and follows the same block layout tarfile does (a 512-byte header, then the data
its size says, rounded up to 512; no data for links, folders and devices; the extension blocks
of an old GNU sparse header; the size a PAX header gives the member after it), asking the
Budget about each such header's size first. A block that is not a valid header where one is
due stops the following, not the data: tarfile then fails the archive on it anyway.
"""

from __future__ import annotations

import io
import re
from typing import BinaryIO

from logfilter.sources.limits import Budget

BLOCK = 512
_EXTENDED = (b"L", b"K", b"x", b"g", b"X")  # read whole into memory by tarfile
_PAX = (b"x", b"X")  # may set the size of the member after it
NO_DATA = (b"1", b"2", b"3", b"4", b"5", b"6")  # hard link, symlink, devices, folder, FIFO: tarfile reads no data
_PAX_SIZE = re.compile(rb"(?:^|\n)\d+ size=(\d+)\n")


class TarHeaders(io.RawIOBase):
    """The tar stream `stream`, unchanged; each extended header's size is told to `budget` first."""

    def __init__(self, stream: BinaryIO, budget: Budget) -> None:
        self._stream = stream
        self._budget = budget
        self._header = bytearray()  # the header block being gathered
        self._skip = 0  # data bytes (with padding) before the next header
        self._sparse = False  # the next block is an old GNU sparse extension block
        self._pax: bytearray | None = None  # a PAX header's data, gathered to find its size record
        self._next_size: int | None = None  # the size the last PAX header gave the next member
        self._member_size = 0  # the data of the member whose header was read last
        self._lost = False  # not a tar layout we follow any more: pass the rest on

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        view = memoryview(data)
        while view and not self._lost:
            view = self._data(view) if self._skip else self._block(view)
        return len(data)

    def _data(self, view: memoryview) -> memoryview:
        take = min(self._skip, len(view))
        if self._pax is not None:
            self._pax += view[:take]
        self._skip -= take
        if not self._skip and self._pax is not None:
            found = _PAX_SIZE.search(bytes(self._pax))
            self._next_size = int(found[1]) if found else None
            self._pax = None
        return view[take:]

    def _block(self, view: memoryview) -> memoryview:
        take = BLOCK - len(self._header)
        self._header += view[:take]
        if len(self._header) == BLOCK:
            block, self._header = bytes(self._header), bytearray()
            if self._sparse:
                self._sparse = block[504] != 0
                if not self._sparse:
                    self._skip = _padded(self._member_size)
            else:
                self._read_header(block)
        return view[take:]

    def _read_header(self, block: bytes) -> None:
        if not block.strip(b"\0"):
            return  # the end of the archive (or padding): the next block is looked at as a header
        if not _valid(block):
            self._lost = True
            return
        kind, size = block[156:157], _number(block[124:136])
        if kind in _EXTENDED:
            self._budget.header(size)  # raises before tarfile reads it
            self._pax = bytearray() if kind in _PAX else None
            self._skip = _padded(size)
            return
        size = self._next_size if self._next_size is not None else size
        self._next_size = None
        self._member_size = 0 if kind in NO_DATA else size
        if kind == b"S" and block[482]:
            self._sparse = True  # extension blocks first, then the data
            return
        self._skip = _padded(self._member_size)


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _number(field: bytes) -> int:
    """A size field: octal text, or base-256 when its first bit is set (GNU, for 8 GiB and more)."""
    if field[0] & 0x80:
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        return 0  # tarfile refuses this header; it fails the archive


def _valid(block: bytes) -> bool:
    """The header's checksum holds, unsigned or signed (as tarfile accepts both)."""
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 8 * 32 + sum(b - 256 if b > 127 else b for b in block[156:])
    return stored in (unsigned, signed)
