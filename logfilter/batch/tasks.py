"""The work of a batch on one file, in a worker: a local process or a Dask worker.

Rewrite a whole file into its output, a range of a huge text file into a part, or join a
file's parts into its output. Each gets the Settings in its arguments (in memory, validated
once on the client) and rewrites with the same Rewriter. A task never raises: a bad input,
an I/O error or a bug comes back as a failed Outcome whose reason names the file, never data
(an exception would be logged by Dask with its text).
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from logfilter.batch.plan import Job
from logfilter.batch.ranges import Range, join
from logfilter.batch.rewrite import Outcome, Rewriter
from logfilter.batch.settings import Settings
from logfilter.batch.store import Info, Store, store_for
from logfilter.errors import LogFilterError
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.sinks.atomic import AtomicFile
from logfilter.sinks.modes import mode_for, umask
from logfilter.sources.files import CHUNK

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Part:
    """What a range task made: its outcome and the hidden part holding its output."""

    outcome: Outcome
    part: str | None


def rewrite_file(
    job: Job, settings: Settings, run: str | None = None, *, rules: Rules | None = None,
    counter: ctypes.c_longlong | None = None, unique: bool = True,
) -> Outcome:  # fmt: skip
    """Rewrite one whole input into its output, which appears only when complete.

    `run`: the marker of the run (outdir.start_run) without which no output is committed.
    `rules`: the compiled rules, when the worker keeps them (else compiled here). `counter`:
    bytes read are added to it (the progress bar of a local batch). `unique`: the output's
    part has a name of its own, as on a cluster, where an attempt taken for dead may still write.
    """
    return _guarded(job.name, lambda: _rewrite_file(job, settings, run, rules, counter, unique), lambda failed: failed)


def rewrite_range(job: Job, settings: Settings, piece: Range) -> Part:
    """Rewrite bytes [start, end) of a text input into a hidden part of its own."""
    return _guarded(job.name, lambda: _rewrite_range(job, settings, piece), lambda failed: Part(failed, None))


def join_parts(job: Job, parts: list[Part], run: str | None = None) -> Outcome:
    """Concatenate the parts of the ranges, in order, into the output; remove the parts."""
    return _guarded(job.name, lambda: _join(job, parts, run), lambda failed: failed)


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


def _rewrite_file(
    job: Job, settings: Settings, run: str | None, rules: Rules | None, counter: ctypes.c_longlong | None, unique: bool
) -> Outcome:
    store, out = store_for(job.source), store_for(job.target)
    before, raw = _open(job, store)
    counted = _Counted(raw, counter) if counter is not None else raw
    with raw, _buffered(counted) as reader, AtomicFile(
        job.target, out, unique=unique, run=run, mode=_mode(before)
    ) as output:
        outcome = _rewriter(settings, rules, out, job).rewrite(reader, output.stream, job.name, in_place=True)
        if outcome.status != "omitted":
            # The input's times: a later change to the input makes it newer than this.
            output.commit(before.times_ns)
    _check_unchanged(job, store, outcome)
    return outcome


def _rewrite_range(job: Job, settings: Settings, piece: Range) -> Part:
    out = store_for(job.target)
    before, raw = _open(job, store_for(job.source))
    with raw, AtomicFile(job.target, out, unique=True, tag=f".r{piece.index}", mode=_mode(before)) as output:
        raw.seek(piece.start)
        length = None if piece.end is None else piece.end - piece.start
        reader = io.BufferedReader(_Slice(raw, length), CHUNK)  # type: ignore[arg-type]
        outcome = _rewriter(settings, None, out, job).rewrite(reader, output.stream, job.name)
        output.close()
        if outcome.status != "done":  # a range of a text log is text; anything else is a failure
            output.discard()
            return Part(Outcome(job.name, "file", "failed", reason=f"{job.name}: a range did not read as text"), None)
        return Part(outcome, str(output.part))


def _join(job: Job, parts: list[Part], run: str | None) -> Outcome:
    store, out = store_for(job.source), store_for(job.target)
    outcome = join(job.name, [part.outcome for part in parts])
    try:
        if outcome.status == "done":
            before = _stat(job, store)
            with AtomicFile(job.target, out, unique=True, run=run, mode=_mode(before)) as output:
                for part in parts:
                    with out.open_read(part.part) as stream:  # type: ignore[arg-type]
                        while chunk := stream.read(CHUNK):
                            output.stream.write(chunk)
                output.commit(before.times_ns)
    finally:
        for part in parts:
            if part.part is not None:
                out.remove(part.part)
    _check_unchanged(job, store, outcome)
    return outcome


def _open(job: Job, store: Store) -> tuple[Info, BinaryIO]:
    """The input's Info and a raw stream of it; LogFilterError naming it when it cannot be read."""
    try:
        return store.stat(job.source), store.open_read(job.source)
    except OSError as exc:
        raise _unreadable(job, exc) from None


def _mode(info: Info) -> int | None:
    """The output's mode: readable by no more users than the input (None: the store keeps no modes)."""
    return None if info.mode is None else mode_for(info.mode, umask())


def _stat(job: Job, store: Store) -> Info:
    try:
        return store.stat(job.source)
    except OSError as exc:
        raise _unreadable(job, exc) from None


def _unreadable(job: Job, exc: OSError) -> LogFilterError:
    return LogFilterError(f"{job.name}: cannot read it ({exc.strerror or type(exc).__name__})")


def _rewriter(settings: Settings, rules: Rules | None, out: Store, job: Job) -> Rewriter:
    # Archive members spool beside a local output, as the output's part is; else in the worker's tmp.
    local = out.local_path(job.target)
    spool = local.parent if local is not None else None
    return settings.rewriter(rules or compile_policy(settings.policy), spool, job.size)


def _check_unchanged(job: Job, store: Store, outcome: Outcome) -> None:
    after = _stat(job, store)
    if (after.size, after.mtime_ns) != (job.size, job.mtime_ns):
        outcome.warnings.append(f"{job.name}: changed while it was read; the next run will do it again")


def _buffered(raw: BinaryIO | io.RawIOBase) -> BinaryIO:
    return raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw, CHUNK)  # type: ignore[arg-type,type-var]


class _Counted(io.RawIOBase):
    """A stream whose reads add to a counter shared with the parent, for the progress bar."""

    def __init__(self, raw: BinaryIO, counter: ctypes.c_longlong) -> None:
        self._raw = raw
        self._counter = counter

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int | None:  # type: ignore[override]
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if count:
            self._counter.value += count  # no lock: a worker killed holding it would hang the run
        return count  # type: ignore[no-any-return]


class _Slice(io.RawIOBase):
    """At most `length` bytes of a stream from where it is (all of it for None)."""

    def __init__(self, stream: BinaryIO, length: int | None) -> None:
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
