"""Which outputs of OUTDIR are complete, from which input and under which settings.

One JSON line per output in `batch.jsonl` of the state folder beside OUTDIR (outdir.py:
never inside OUTDIR, since it names the inputs by path), written by the client only. A
record is written after its output is in place, so a killed run loses at most the records
of its last files, which are then done again, never skipped wrongly. Each record keeps the
file's report entry, so a re-run's report still counts it. On a local disk every record is
appended; an object store cannot append, so there the state is rewritten whole, every few
seconds and at the end.
"""

from __future__ import annotations

import time

import orjson

from logfilter.batch.outdir import STATE, move_legacy_state
from logfilter.batch.plan import Job
from logfilter.batch.store import Store
from logfilter.errors import LogFilterError
from logfilter.names import printable

FLUSH = 5.0  # seconds between rewrites of a state that cannot be appended to

Record = dict[str, object]


def records(lines: list[bytes]) -> dict[str, Record]:
    """The last record of each output in the lines of a state file."""
    done: dict[str, Record] = {}
    for line in lines:
        try:
            record = orjson.loads(line)
            done[record["output"]] = record
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # a torn last line: that file is simply done again
    return done


class State:
    """The state of OUTDIR `outdir` on `store`, kept in the folder `folder`: read once, then kept
    in step with the outputs."""

    def __init__(self, store: Store, outdir: str, folder: str) -> None:
        self._store = store
        self._outdir = store.join(outdir)
        self._path = store.join(folder, STATE)
        move_legacy_state(store, outdir, self._path)
        self._written = time.monotonic()
        try:
            lines = store.read_bytes(self._path).splitlines()
        except FileNotFoundError:
            lines = []
        except OSError as exc:
            msg = f"{self._path}: cannot read the batch state ({exc.strerror or type(exc).__name__})"
            raise LogFilterError(msg) from None
        self.done = records(lines)

    def up_to_date(self, job: Job, fingerprint: str) -> Record | None:
        """The recorded report entry when the output exists and was made from this very input
        (same path, size and modification time) under these settings; else None."""
        record = self.done.get(self._key(job))
        if record is None or record.get("fingerprint") != fingerprint or record.get("input") != _input(job):
            return None
        try:
            made = self._store.stat(job.target)
        except OSError:
            return None
        return record.get("entry") if made.kind == "file" else None  # type: ignore[return-value]

    def record(self, job: Job, fingerprint: str, entry: Record) -> None:
        """Record a complete output (call once it is in place)."""
        key = self._key(job)
        self.done[key] = {"output": key, "input": _input(job), "fingerprint": fingerprint, "entry": entry}
        self._save([self.done[key]], durable=False)

    def invalidate(self, jobs: list[Job]) -> None:
        """Mark these outputs as not done before they are redone, durably.

        Otherwise a run killed after a worker put a new output in place, but before its
        record, would leave the older record vouching for the new (other rules) file.
        """
        keys = [key for key in map(self._key, jobs) if key in self.done]
        for key in keys:
            self.done[key] = {"output": key, "fingerprint": None}  # `forget` still knows it is ours
        if keys:
            self._save([self.done[key] for key in keys], durable=True)

    def forget(self, job: Job) -> None:
        """Remove the output a former run made for this input (now left out or failed)."""
        if self.done.pop(self._key(job), None) is not None:
            self._store.remove(job.target)

    def compact(self) -> None:
        """Rewrite the state with one line per complete output (the last record of each)."""
        self._rewrite([record for _key, record in sorted(self.done.items()) if record["fingerprint"]])

    def _save(self, changed: list[Record], durable: bool) -> None:
        if self._store.appends:
            try:
                self._store.append(self._path, b"".join(orjson.dumps(record) + b"\n" for record in changed), durable)
            except OSError as exc:
                raise self._unwritable(exc) from None
        elif durable or time.monotonic() - self._written > FLUSH:
            self._rewrite([record for _key, record in sorted(self.done.items())])

    def _rewrite(self, kept: list[Record]) -> None:
        try:
            self._store.write_whole(self._path, b"".join(orjson.dumps(record) + b"\n" for record in kept))
        except OSError as exc:
            raise self._unwritable(exc) from None
        self._written = time.monotonic()

    def _unwritable(self, exc: OSError) -> LogFilterError:
        return LogFilterError(f"{self._path}: cannot write the batch state ({exc.strerror or type(exc).__name__})")

    def _key(self, job: Job) -> str:
        return printable(job.target.removeprefix(self._outdir).lstrip("/"))


def _input(job: Job) -> list[object]:
    return [printable(job.source), job.size, job.mtime_ns]
