"""Readers of bzip2 and xz data that read every stream of a multi-stream file, or fail.

Python's BZ2File and LZMAFile read the streams of a file one after the other, but stop
quietly at a later stream they cannot read (their "trailing data" rule): a damaged second
stream, as `pbzip2` or a concatenation of rotated segments makes, would be lost in silence.
These readers raise instead, so the file fails with a named error (archives.DAMAGE).
"""

from __future__ import annotations

import bz2
import io
import lzma
from collections.abc import Callable
from typing import BinaryIO, Protocol

_BLOCK = 1 << 16


class _Decompressor(Protocol):
    eof: bool
    needs_input: bool
    unused_data: bytes

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _Streams(io.RawIOBase):
    """The decompressed bytes of every stream in `stream`, in order; nothing after them but xz padding."""

    def __init__(self, stream: BinaryIO, new: Callable[[], _Decompressor], padding: bool) -> None:
        self._stream, self._new, self._padding = stream, new, padding
        self._decompressor = new()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while True:
            decompressor = self._decompressor
            if decompressor.eof:
                rest = decompressor.unused_data or self._stream.read(_BLOCK)
                if self._padding:
                    while rest and not rest.strip(b"\0"):  # xz stream padding: NUL bytes
                        rest = self._stream.read(_BLOCK)
                    rest = rest.lstrip(b"\0")
                if not rest:
                    return 0
                self._decompressor = decompressor = self._new()
                data = rest  # a next stream: it must read as one, or this raises
            elif decompressor.needs_input:
                data = self._stream.read(_BLOCK)
                if not data:
                    msg = "the compressed data ends inside a stream"
                    raise EOFError(msg)
            else:
                data = b""
            out = decompressor.decompress(data, len(buffer))
            if out:
                buffer[: len(out)] = out
                return len(out)


def bzip2_reader(stream: BinaryIO) -> BinaryIO:
    """Every bzip2 stream in `stream`, decompressed; raises OSError on a damaged one."""
    return io.BufferedReader(_Streams(stream, bz2.BZ2Decompressor, padding=False), _BLOCK)  # type: ignore[return-value]


def xz_reader(stream: BinaryIO) -> BinaryIO:
    """Every xz (or lzma) stream in `stream`, decompressed; raises LZMAError on a damaged one."""
    return io.BufferedReader(_Streams(stream, lzma.LZMADecompressor, padding=True), _BLOCK)  # type: ignore[return-value]
