"""What the command line tells the user: `logfilter: ...` lines on stderr, and the standard streams."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

from logfilter.errors import LogFilterError

MAX_WARNINGS = 20


def say(message: str) -> None:
    """One `logfilter: <message>` line on stderr."""
    try:
        sys.stderr.write(f"logfilter: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass  # stderr closed (`2>&1 | head -1`): the work goes on, only the telling stops


def report_error(message: str, code: int) -> int:
    """One `error: <message>` line on stderr; return the exit code `code`."""
    sys.stderr.write(f"error: {message}\n")
    return code


def capped_warnings(more: str) -> Callable[[str], None]:
    """A warn function that prints the first MAX_WARNINGS messages, then says `more` once."""
    warnings = 0

    def warn(message: str) -> None:
        nonlocal warnings
        warnings += 1
        if warnings <= MAX_WARNINGS:
            say(f"warning: {message}")
        elif warnings == MAX_WARNINGS + 1:
            say(f"warning: {more}")

    return warn


def std(name: str) -> TextIO:
    """sys.stdin or sys.stdout; a LogFilterError when the process was started with it closed."""
    stream = getattr(sys, name)
    if stream is None:
        msg = f"<{name}>: standard {name[3:]}put is closed"
        raise LogFilterError(msg)
    return stream


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader went away."""
    # Python would report the broken pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
