"""What `logfilter batch` prints on stderr as it goes: progress, errors and warnings.

A progress bar of files and bytes on a terminal, the errors, files left out or kept
unmasked, and lines failed closed, and a closing count by status.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from logfilter.batch.rewrite import Outcome
from logfilter.cli.printing import MAX_WARNINGS
from logfilter.names import printable

if TYPE_CHECKING:
    from rich.progress import Progress

    from logfilter.rules.unmatched import Unmatched


class TerminalReporter:
    """A batch.run.Reporter for stderr: messages through `say`, or above the bar while it shows."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._bar: Progress | None = None
        self._done = self._files = self._size = 0

    def tell(self, outcome: Outcome) -> None:
        """Errors, files left out or kept unmasked, and lines failed closed; nothing else."""
        if outcome.status == "failed":
            self._print(f"error: {outcome.reason}")
        for member in _all(outcome):
            if member.status == "omitted":
                self._print(f"left out: {member.name} ({member.reason})")
            elif member.status == "kept":
                self._print(f"kept unchanged, not masked (binary data, --keep-binary): {member.name}")
        for warning in outcome.warnings:
            self._print(f"warning: {warning}")
        if outcome.stats.failed_closed > len(outcome.warnings):
            self._print(f"warning: {outcome.name}: {outcome.stats.failed_closed} lines failed closed in all (see the report)")

    def start(self, files: int, size: int) -> None:
        self._files, self._size = files, size
        if sys.stderr.isatty() and files:
            from rich.console import Console  # rich only when a bar is drawn
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.fields[files]}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TimeRemainingColumn(), console=Console(stderr=True),
            )  # fmt: skip
            self._task = self._bar.add_task("batch", total=size, files=self._count())
            self._bar.start()

    def read(self, count: int) -> None:
        if self._bar is not None:  # an archive can be read more than once: never past the end
            self._bar.update(self._task, completed=min(count, self._size))

    def file_done(self) -> None:
        self._done += 1
        if self._bar is not None:
            # The byte counter may miss increments made by two workers at once; every file done is every byte.
            finished = self._size if self._done == self._files else None  # None: as it is
            self._bar.update(self._task, completed=finished, files=self._count())

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def summary(self, entries: Iterable[dict[str, object]], unmatched: Sequence[Unmatched] = ()) -> None:
        """The rules that matched no key in any file (issue 20.1), then a closing count by status
        (`4 done, 1 omitted`), on a terminal or not: off one it is the only sign of what a run
        did besides its exit status (issue 20.8)."""
        for rule in unmatched[:MAX_WARNINGS]:
            self._say(f"warning: {rule.message()}")
        if len(unmatched) > MAX_WARNINGS:
            self._say(f"warning: {len(unmatched) - MAX_WARNINGS} more rules matched no key in the files read")
        counts: dict[str, int] = {}
        for item in entries:
            status = str(item["status"])
            counts[status] = counts.get(status, 0) + 1
        self._say(", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "0 files")

    def _count(self) -> str:
        return f"{self._done}/{self._files} files"

    def _print(self, message: str) -> None:
        if self._bar is None:
            self._say(message)
            return
        try:
            self._bar.console.print(f"logfilter: {printable(message)}", markup=False, highlight=False, soft_wrap=True)
        except OSError:
            pass


def _all(outcome: Outcome) -> Iterator[Outcome]:
    yield outcome
    for member in outcome.members:
        yield from _all(member)
