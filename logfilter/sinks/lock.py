"""The lock on an output folder (batch's OUTDIR) or a state file (follow's): one logfilter at a time."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from logfilter.errors import ConfigError, LogFilterError


@contextmanager
def locked(folder: Path, lock: Path | None = None) -> Iterator[None]:
    """Create `folder` and hold an exclusive lock on it (or on the file `lock`); refuse if held."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644) if lock else os.open(folder, os.O_RDONLY)
    except OSError as exc:
        what = "the lock file" if lock else "the output folder"
        msg = f"{lock or folder}: cannot create {what} ({exc.strerror})"
        raise LogFilterError(msg) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            msg = f"{lock or folder}: another logfilter (batch or follow) is using it"
            raise ConfigError(msg) from None
        yield
    finally:
        os.close(fd)
