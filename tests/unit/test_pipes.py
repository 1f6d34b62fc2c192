"""A pipe logfilter reads or writes is widened to hold a whole chunk; anything else is left alone."""

from __future__ import annotations

import fcntl
import io
import os
from pathlib import Path

from logfilter.pipes import PIPE_SIZE, widen


def test_a_pipe_holds_a_chunk() -> None:
    read, write = os.pipe()
    try:
        assert fcntl.fcntl(write, fcntl.F_GETPIPE_SZ) < PIPE_SIZE
        widen(write)
        assert fcntl.fcntl(write, fcntl.F_GETPIPE_SZ) == PIPE_SIZE
        with os.fdopen(os.dup(read), "rb") as stream:  # a stream works as its descriptor does
            widen(stream)
    finally:
        os.close(read)
        os.close(write)


def test_anything_else_is_left_alone(tmp_path: Path) -> None:
    with open(tmp_path / "file", "wb") as stream:
        widen(stream)
        stream.write(b"x")
    assert (tmp_path / "file").read_bytes() == b"x"
    widen(io.BytesIO())  # no descriptor at all
    widen(10_000)  # not open
