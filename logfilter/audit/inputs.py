"""What scan and keys read: files, folders (recursively, in name order), archives, compressed logs, stdin.

Every text log found (sources/archives.texts) is handed, as a Source, to the caller's walk,
which runs the one loop (pipeline.walk_input) with its own handler. What cannot be read (not a
text log, damaged, unlisted, a link to a folder, a special file) is recorded as not read,
with the reason, and told to the caller: for scan it is a finding.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from logfilter.engines.handler import Handler
from logfilter.engines.registry import collecting
from logfilter.errors import LogFilterError
from logfilter.names import printable
from logfilter.pipeline import walk_input
from logfilter.rules.compiled import Rules
from logfilter.sinks.streams import NullSink
from logfilter.sources.archives import DAMAGE, damage, texts
from logfilter.sources.files import StreamSource
from logfilter.stats import Stats


@dataclass(slots=True)
class InputResult:
    """What reading one input (a file, or a member of an archive) came to."""

    name: str
    status: str = "scanned"  # or "not scanned"
    reason: str | None = None
    stats: Stats = field(default_factory=Stats)
    findings: int = 0


# Walks one text log into its result (its counts); raises what the stream's reads raise.
WalkText = Callable[[StreamSource, InputResult], None]
NotRead = Callable[[str, str], None]


class Inputs:
    """Reads inputs in order; `results` holds one InputResult per text log or input not read."""

    def __init__(self, walk: WalkText, not_read: NotRead = lambda name, reason: None, spool_dir: Path | None = None) -> None:
        self.results: list[InputResult] = []
        self._walk = walk
        self._told = not_read
        self._spool_dir = spool_dir

    def stream(self, reader: BinaryIO, name: str) -> None:
        """Read one input (text, compressed or an archive)."""
        try:
            for text in texts(reader, name, self._spool_dir):
                if text.stream is None:
                    self.not_read(text.name, text.reason or "")
                else:
                    result = InputResult(text.name)
                    self.results.append(result)
                    self._walk(StreamSource(text.name, text.stream), result)
        except LogFilterError as exc:
            self.not_read(name, str(exc).removeprefix(f"{name}: "))
        except DAMAGE as exc:
            self.not_read(name, f"cannot read it ({damage(exc)})")

    def file(self, path: Path) -> None:
        """Read one file."""
        name = printable(str(path))
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below, once the walk is done with it
        except OSError as exc:
            self.not_read(name, f"cannot open it ({exc.strerror})")
            return
        with stream:
            self.stream(stream, name)

    def paths(self, paths: Iterable[Path]) -> None:
        """Read files and folders (recursively, in name order)."""
        for path in paths:
            if not path.is_dir():
                self.file(path)
                continue

            def unlisted(exc: OSError) -> None:
                self.not_read(printable(exc.filename or str(path)), f"cannot list the folder ({exc.strerror})")

            for root, dirs, files in os.walk(path, onerror=unlisted):
                dirs.sort()
                here = Path(root)
                for name in sorted(files + [d for d in dirs if (here / d).is_symlink()]):
                    child = here / name
                    if child.is_dir():
                        self.not_read(printable(str(child)), "a link to a folder; not followed")
                    elif child.is_file():
                        self.file(child)
                    elif child.is_symlink() and not child.exists():
                        self.not_read(printable(str(child)), "a link to nothing")
                    else:
                        self.not_read(printable(str(child)), "not a regular file")

    def not_read(self, name: str, reason: str) -> None:
        """Record an input (or part of one) that could not be read, and tell the caller."""
        if self.results and self.results[-1].name == name and self.results[-1].status == "scanned":
            self.results[-1].status, self.results[-1].reason = "not scanned", reason  # failed part way
        else:
            self.results.append(InputResult(name, "not scanned", reason))
        self._told(name, reason)


def collect(source: StreamSource, rules: Rules, handler: Handler, stats: Stats) -> None:
    """Walk one text log to its end with a handler that collects (scan, keys): nothing is written."""
    for _written in walk_input(source, collecting(rules, stats, handler), NullSink(), stats):
        pass
