"""The work of a cluster batch, as run on a Dask worker: one file, one range of a huge file,
or the join of a file's ranges into its output.

Each task gets the Settings in its arguments (in memory, validated once on the client) and
rewrites with the same Rewriter as a local batch. A task never raises: a bad input, an I/O
error or a bug comes back as a failed Outcome whose reason names the file, never data (an
exception would be logged by Dask with its text).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from logfilter.batch.ranges import Range, join
from logfilter.batch.rewrite import Outcome, Rewriter
from logfilter.batch.settings import Settings
from logfilter.batch.store import Output, is_local, locate, open_input, remove, stamp
from logfilter.errors import LogFilterError
from logfilter.rules.compiled import compile_policy
from logfilter.sources.files import CHUNK

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Task:
    """One input file and its output, by absolute local path or URL; sizes as planned; the
    URL of the run's marker (store.start_run), without which no output is committed."""

    source: str
    target: str
    name: str
    size: int
    mtime_ns: int
    run: str | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """What a range task made: its outcome and the hidden part holding its output."""

    outcome: Outcome
    part: str | None


def rewrite_file(task: Task, settings: Settings) -> Outcome:
    """Rewrite one whole input into its output, which appears only when complete."""
    return _guarded(task.name, lambda: _rewrite_file(task, settings), lambda failed: failed)


def rewrite_range(task: Task, settings: Settings, piece: Range) -> Part:
    """Rewrite bytes [start, end) of a text input into a hidden part of its own."""
    return _guarded(task.name, lambda: _rewrite_range(task, settings, piece), lambda failed: Part(failed, None))


def join_parts(task: Task, parts: list[Part]) -> Outcome:
    """Concatenate the parts of the ranges, in order, into the output; remove the parts."""
    return _guarded(task.name, lambda: _join(task, parts), lambda failed: failed)


def _guarded(name: str, work: Callable[[], T], failure: Callable[[Outcome], T]) -> T:
    try:
        return work()
    except LogFilterError as exc:
        return failure(Outcome(name, "file", "failed", reason=str(exc)))
    except OSError as exc:
        reason = f"{name}: cannot read or write it ({exc.strerror or type(exc).__name__})"
        return failure(Outcome(name, "file", "failed", reason=reason))
    except Exception as exc:  # noqa: BLE001 - a bug in one file's work fails that file, quietly
        reason = f"{name}: internal error ({type(exc).__name__}); no log data is shown"
        return failure(Outcome(name, "file", "failed", reason=reason))


def _rewriter(settings: Settings, output: Output) -> Rewriter:
    # Archive members spool beside a local output, as in a local batch; else in the worker's tmp.
    spool = Path(output.part).parent if output.local else None
    return settings.rewriter(compile_policy(settings.policy), spool)


def _rewrite_file(task: Task, settings: Settings) -> Outcome:
    fs, path = locate(task.source)
    times = _times(fs, path)
    with open_input(task.source) as raw, Output(task.target, run=task.run) as out:
        reader = io.BufferedReader(raw, CHUNK) if not isinstance(raw, io.BufferedReader) else raw
        outcome = _rewriter(settings, out).rewrite(reader, out.stream, task.name, in_place=True)
        if outcome.status != "omitted":
            out.commit(times)
    _check_unchanged(task, fs, path, outcome)
    return outcome


def _rewrite_range(task: Task, settings: Settings, piece: Range) -> Part:
    with open_input(task.source) as raw, Output(task.target, f".r{piece.index}") as out:
        raw.seek(piece.start)
        length = None if piece.end is None else piece.end - piece.start
        reader = io.BufferedReader(_Slice(raw, length), CHUNK)  # type: ignore[arg-type]
        outcome = _rewriter(settings, out).rewrite(reader, out.stream, task.name)
        out.close()
        if outcome.status != "done":  # a range of a text log is text; anything else is a failure
            out.discard()
            return Part(Outcome(task.name, "file", "failed", reason=f"{task.name}: a range did not read as text"), None)
        return Part(outcome, out.part)


def _join(task: Task, parts: list[Part]) -> Outcome:
    fs, path = locate(task.source)
    outcome = join(task.name, [part.outcome for part in parts])
    out_fs, _ = locate(task.target)
    try:
        if outcome.status == "done":
            with Output(task.target, run=task.run) as out:
                for part in parts:
                    with out_fs.open(part.part, "rb") as stream:
                        while chunk := stream.read(CHUNK):
                            out.stream.write(chunk)
                out.commit(_times(fs, path))
    finally:
        for part in parts:
            if part.part is not None:
                remove(out_fs, part.part)
    _check_unchanged(task, fs, path, outcome)
    return outcome


def _times(fs: object, path: str) -> tuple[int, int] | None:
    """The input's times, for a local output: a later change to the input makes it newer."""
    if not is_local(fs):  # type: ignore[arg-type]
        return None
    info = os.stat(path)
    return info.st_atime_ns, info.st_mtime_ns


def _check_unchanged(task: Task, fs: object, path: str, outcome: Outcome) -> None:
    if stamp(fs, path) != (task.size, task.mtime_ns):  # type: ignore[arg-type]
        outcome.warnings.append(f"{task.name}: changed while it was read; the next run will do it again")


class _Slice(io.RawIOBase):
    """At most `length` bytes of a stream from where it is (all of it for None)."""

    def __init__(self, stream: io.RawIOBase, length: int | None) -> None:
        self._stream = stream
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(buffer) if self._left is None else min(len(buffer), self._left)
        if want <= 0:
            return 0
        data = self._stream.read(want)
        buffer[: len(data)] = data
        if self._left is not None:
            self._left -= len(data)
        return len(data)
