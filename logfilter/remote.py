"""A cluster batch whose inputs or OUTDIR are fsspec URLs (file://, s3://, gs://, az://, ...).

The same plan and state as batch.py, over fsspec instead of the local disk: a folder URL
comes out as OUTDIR/<its name>/..., a file as OUTDIR/<its name>; the state is one JSON line
per output in OUTDIR/.logfilter-batch.jsonl, written by the client only. An object store
cannot append, so the state is rewritten whole: at once when outputs are invalidated
before being redone (so a record never vouches for a newer output), and otherwise every
few seconds and at the end; a client killed in between loses the records of the last
outputs, which the next run does again. There is no lock on an object store: one run per
OUTDIR at a time is the operator's to keep (local paths keep batch.py's lock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson

from logfilter.archives import Outcome, printable
from logfilter.batch import STATE
from logfilter.errors import ConfigError, LogFilterError
from logfilter.sinks import PART_SUFFIX
from logfilter.store import locate, remove, stamp

FLUSH = 5.0  # seconds between state writes


def is_url(text: str) -> bool:
    return "://" in text


@dataclass(frozen=True, slots=True)
class UrlJob:
    """One input file and its output, as URLs (batch.Job for fsspec)."""

    source: str
    target: str
    name: str
    size: int
    mtime_ns: int | None


@dataclass(slots=True)
class UrlPlan:
    outdir: str
    todo: list[UrlJob] = field(default_factory=list)
    known: list[Outcome] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)


def plan(inputs: list[str], outdir: str, suffix: str = "") -> UrlPlan:
    """Walk input URLs into jobs, each output name followed by `suffix` (`.jsonl`); refuse
    (ConfigError) outputs on or inside an input."""
    out_fs, out_root = locate(outdir)
    out_root = out_root.rstrip("/")
    result = UrlPlan(outdir.rstrip("/"))
    tops: dict[str, str] = {}
    for item in inputs:
        fs, root = locate(item)
        root = root.rstrip("/")
        if not fs.exists(root):
            msg = f"{printable(item)}: no such input file or folder"
            raise ConfigError(msg)
        top = root.rpartition("/")[2]
        if tops.setdefault(top, item) != item:
            msg = f"{printable(tops[top])} and {printable(item)} would both be written to {result.outdir}/{top}"
            raise ConfigError(msg)
        same_store = type(fs) is type(out_fs)
        if same_store and (out_root == root or out_root.startswith(root + "/")):
            msg = f"{outdir}: the output folder is inside the input {printable(item)}; choose one outside it"
            raise ConfigError(msg)
        files = fs.find(root) if fs.isdir(root) else [root]
        for path in sorted(files):
            name = path.rpartition("/")[2]
            if name == STATE or name.startswith(".") and name.endswith(PART_SUFFIX):
                continue
            rel = top + path[len(root) :]
            source = fs.unstrip_protocol(path) if is_url(item) else path
            size, mtime_ns = stamp(fs, path)
            result.todo.append(UrlJob(source, f"{result.outdir}/{rel}{suffix}", printable(source), size, mtime_ns))
        result.roots.append(item)
    return result


class UrlState:
    """batch.State over fsspec: which outputs are complete, from which input, under which settings."""

    def __init__(self, outdir: str) -> None:
        self._outdir = outdir
        self._fs, self._path = locate(f"{outdir}/{STATE}")
        self._written = time.monotonic()
        self.done: dict[str, dict[str, object]] = {}
        try:
            lines = self._fs.cat_file(self._path).splitlines()
        except FileNotFoundError:
            lines = []
        except OSError as exc:
            msg = f"{self._path}: cannot read the batch state ({exc.strerror or type(exc).__name__})"
            raise LogFilterError(msg) from None
        for line in lines:
            try:
                record = orjson.loads(line)
                self.done[record["output"]] = record
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue

    def up_to_date(self, job: UrlJob, fingerprint: str) -> dict[str, object] | None:
        record = self.done.get(self._key(job))
        if record is None or record.get("fingerprint") != fingerprint or record.get("input") != _identity(job):
            return None
        fs, path = locate(job.target)
        return record.get("entry") if fs.isfile(path) else None  # type: ignore[return-value]

    def record(self, job: UrlJob, fingerprint: str, entry: dict[str, object]) -> None:
        key = self._key(job)
        self.done[key] = {"output": key, "input": _identity(job), "fingerprint": fingerprint, "entry": entry}
        if time.monotonic() - self._written > FLUSH:
            self.compact()

    def invalidate(self, jobs: list[UrlJob]) -> None:
        keys = [self._key(job) for job in jobs if self._key(job) in self.done]
        for key in keys:
            self.done[key] = {"output": key, "fingerprint": None}
        if keys:
            self._write()

    def forget(self, job: UrlJob) -> None:
        if self.done.pop(self._key(job), None) is not None:
            fs, path = locate(job.target)
            remove(fs, path)

    def compact(self) -> None:
        self._write()

    def _write(self) -> None:
        lines = [orjson.dumps(record) + b"\n" for _key, record in sorted(self.done.items())]
        try:
            self._fs.makedirs(self._path.rpartition("/")[0], exist_ok=True)
            self._fs.pipe_file(self._path, b"".join(lines))  # one put: the old state or the new one
        except OSError as exc:
            msg = f"{self._path}: cannot write the batch state ({exc.strerror or type(exc).__name__})"
            raise LogFilterError(msg) from None
        self._written = time.monotonic()

    def _key(self, job: UrlJob) -> str:
        return job.target[len(self._outdir) + 1 :]


def _identity(job: UrlJob) -> list[object]:
    return [job.source, job.size, job.mtime_ns]
