"""Bounds on what one input may unpack to: bytes, expansion ratio, members, and header and name sizes.

An archive or a compressed file is a program of sorts for its reader: a 1 MB .tar.gz can hold
a 1 GiB name, a small zip entries that all point at one bomb. Each input gets a Budget of the
Limits (`--archive-limits`); what it unpacks is counted as it is read (`Metered`), and the
first cap passed stops the input with a message naming the cap and how to raise it, never a
name or a byte of the data.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, fields, replace
from typing import BinaryIO

from logfilter.errors import ConfigError, LogFilterError

RATIO_FLOOR = 64 << 20  # under this many bytes unpacked the ratio is not asked: small files compress well
OPTION = "--archive-limits"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_VALUE = re.compile(r"(\d+)([KMGT]?)(?:i?B?)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps of one input (a file a batch reads, every level of archives in it counted)."""

    bytes: int = 64 << 30  # unpacked by decompressors and zip members, all levels together
    ratio: int = 200  # unpacked bytes per byte of the input (logs compress 5-30 times, rarely 100)
    members: int = 100_000  # tar and zip members, all levels together
    header: int = 64 << 10  # a member name, a GNU long name or link, or a PAX header record

    @classmethod
    def parse(cls, text: str) -> Limits:
        """`bytes=100G,ratio=500,members=1000000,header=1M` (any of them); ConfigError otherwise."""
        limits, names = cls(), {field.name for field in fields(cls)}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, _, value = item.partition("=")
            found = _VALUE.fullmatch(value.strip())
            if key.strip() not in names or found is None or int(found[1]) < 1:
                msg = f"{OPTION} {text!r}: expected NAME=VALUE items, NAME one of {', '.join(sorted(names))} (e.g. bytes=100G,ratio=500)"
                raise ConfigError(msg)
            limits = replace(limits, **{key.strip(): int(found[1]) * _UNITS[found[2].upper()]})
        return limits


class Exceeded(LogFilterError):
    """An input passed one of its Limits: it is failed whole, as damaged data is."""


class Budget:
    """What one input (`name`, `size` bytes on disk) has unpacked so far, against its Limits;
    `raisable`: the command takes OPTION (batch), else the defaults hold (scan, keys)."""

    def __init__(self, limits: Limits, name: str, size: int | None, raisable: bool = True) -> None:
        self.limits = limits
        self._name = name
        self._raisable = raisable
        self._size = size
        self._unpacked = self._members = 0

    def unpacked(self, count: int) -> None:
        """`count` more bytes came out of a decompressor or a zip member."""
        self._unpacked += count
        if self._unpacked > self.limits.bytes:
            self._stop(f"unpacks to more than {_size(self.limits.bytes)}", f"bytes={_size(self.limits.bytes * 4)}")
        ratio = self.limits.ratio
        if self._size is not None and self._unpacked > max(RATIO_FLOOR, ratio * self._size):
            self._stop(f"unpacks to more than {ratio} times its size (a compression bomb?)", f"ratio={ratio * 10}")

    def member(self, name_size: int) -> None:
        """One more archive member, whose name is `name_size` bytes long (checked before it is used)."""
        self._members += 1
        if self._members > self.limits.members:
            self._stop(f"holds more than {self.limits.members} archive members", f"members={self.limits.members * 10}")
        self.header(name_size)

    def header(self, size: int) -> None:
        """A name, GNU long name or PAX header of `size` bytes is about to be read."""
        if size > self.limits.header:
            what = f"a member name or tar header of {size} bytes, over the limit of {_size(self.limits.header)}"
            self._stop(f"holds {what}", f"header={_size(max(size, self.limits.header * 16))}")

    def _stop(self, what: str, raise_to: str) -> None:
        how = f"raise the limit with {OPTION} {raise_to}" if self._raisable else f"scan and keys use batch's default {OPTION}"
        msg = f"{self._name}: {what}; not read further ({how})"
        raise Exceeded(msg)


class Metered(io.RawIOBase):
    """A decompressed stream whose reads are counted against a Budget."""

    def __init__(self, stream: BinaryIO, budget: Budget) -> None:
        self._stream = stream
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self._budget.unpacked(len(data))
        buffer[: len(data)] = data
        return len(data)


def _size(count: int) -> str:
    for unit in ("T", "G", "M", "K"):
        if count >= _UNITS[unit] and count % _UNITS[unit] == 0:
            return f"{count // _UNITS[unit]}{unit}"
    return str(count)
