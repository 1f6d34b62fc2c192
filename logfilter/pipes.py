"""A pipe to or from logfilter holds a whole chunk (1 MiB), where Linux allows it.

A pipe holds 64 KiB by default: a 1 MiB chunk written into one goes in sixteen bites, each a
wait for the reader, and a read from one returns at most 64 KiB. Widened (F_SETPIPE_SZ, up to
fs.pipe-max-size, 1 MiB by default), `logfilter run | cat` on the dense corpus took 0.27 s
instead of 0.30. Best effort: anything else (a file, a terminal, another system) is left as it is.
"""

from __future__ import annotations

import fcntl
import os
import stat
from typing import IO, Any

PIPE_SIZE = 1 << 20  # a chunk (sources/files.py CHUNK)


def widen(target: int | IO[Any]) -> None:
    """Let the pipe at `target` (a file descriptor or a stream), if it is one, hold PIPE_SIZE bytes."""
    try:
        fd = target if isinstance(target, int) else target.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (OSError, ValueError):
        pass  # no file descriptor, over the system's limit, or not Linux: it works as it is
