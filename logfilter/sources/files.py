"""Inputs as named streams of byte chunks: a file, standard input, an open stream (an archive member)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from logfilter.errors import LogFilterError
from logfilter.pipes import widen

CHUNK = 1 << 20


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
        widen(self.fd)  # a pipe: whole chunks, when the writer is ahead
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



def file_modes(sources: list[Source]) -> list[int]:
    """The modes of the regular files the sources read (stdin too, when it is one): what limits
    who may read an output made from them (sinks/modes.py). A pipe or a terminal has none."""
    found = []
    for source in sources:
        try:
            if isinstance(source, FileSource):
                info = os.stat(source.path)
            elif isinstance(source, StdinSource):
                info = os.fstat(source.fd)
            else:
                continue
        except OSError:
            continue  # reading it will say what is wrong
        if stat.S_ISREG(info.st_mode):
            found.append(info.st_mode)
    return found
