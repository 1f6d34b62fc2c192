"""Where output bytes go: a stream (stdout or a file), or nowhere (benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

from logfilter.errors import LogFilterError


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class StreamSink:
    """Writes to a binary stream, flushing whenever the pipeline has no more input at hand."""

    def __init__(self, stream: BinaryIO, name: str, owned: bool = False) -> None:
        self._stream = stream
        self._name = name
        self._owned = owned

    @classmethod
    def to_path(cls, path: Path) -> StreamSink:
        try:
            return cls(open(path, "wb"), str(path), owned=True)
        except OSError as exc:
            msg = f"{path}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            msg = f"{self._name}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            msg = f"{self._name}: cannot write the output ({exc.strerror or exc})"
            raise LogFilterError(msg) from None

    def close(self) -> None:
        self.flush()
        if self._owned:
            self._stream.close()


class NullSink:
    """Discards everything; for benchmarks."""

    def write(self, data: bytes) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
