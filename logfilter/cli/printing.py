"""What the command line tells the user: `logfilter: ...` lines on stderr, and stdout silenced once its reader is gone.

Every line written on stderr goes through `names.printable` here (and the error line in
cli/__init__.py): a file or key name that reached a message raw cannot act on the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from logfilter.names import printable

if TYPE_CHECKING:
    from pathlib import Path

    from logfilter.rules.unmatched import Unmatched

MAX_WARNINGS = 20


def say(message: str) -> None:
    """One `logfilter: <message>` line on stderr, control characters escaped."""
    try:
        sys.stderr.write(f"logfilter: {printable(message)}\n")
        sys.stderr.flush()
    except OSError:
        pass  # stderr closed (`2>&1 | head -1`): the work goes on, only the telling stops


def report_error(message: str, code: int) -> int:
    """One `error: <message>` line on stderr; return the exit code `code`."""
    sys.stderr.write(f"error: {printable(message)}\n")  # a name in it may hold control characters
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


def tell_unmatched(rules: Sequence[Unmatched]) -> None:
    """A warning for each rule that matched no key (the first MAX_WARNINGS, then how many more)."""
    for rule in rules[:MAX_WARNINGS]:
        say(f"warning: {rule.message()}")
    if len(rules) > MAX_WARNINGS:
        say(f"warning: {len(rules) - MAX_WARNINGS} more rules matched no key in the logs read")


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader went away."""
    # Python would report the broken pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def tell_about(warnings: Iterable[str], config: Path | None, ignored: Iterable[str]) -> None:
    """Say a configuration's warnings, and the sections of its file that were ignored."""
    for warning in warnings:
        say(f"warning: {warning}")
    if ignored:
        say(f"{config}: ignored the sections that are not logfilter's: {', '.join(ignored)}")
