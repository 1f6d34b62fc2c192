"""A cluster batch whose inputs or OUTDIR are fsspec URLs (file://, s3://, gs://, az://, ...).

The same plan and state as batch.py, over fsspec instead of the local disk: a folder URL
comes out as OUTDIR/<its name>/..., a file as OUTDIR/<its name>; the state is one JSON line
per output in OUTDIR/.logfilter-batch.jsonl, written by the client only. An object store
cannot append, so the state is rewritten whole: at once when outputs are invalidated
before being redone (so a record never vouches for a newer output), and otherwise every
few seconds and at the end; a client killed in between loses the records of the last
outputs, which the next run does again. A local OUTDIR (a path or a file:// URL) takes
batch.py's lock; there is none on an object store: one run per OUTDIR at a time is the
operator's to keep there.
"""

from __future__ import annotations

import os
import posixpath
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from logfilter.batch.local import STATE, _ours, records
from logfilter.batch.rewrite import Outcome
from logfilter.batch.store import is_local, is_url, local_path, locate, remove, stamp
from logfilter.errors import ConfigError, LogFilterError
from logfilter.sources.archives import printable

__all__ = ["UrlJob", "UrlPlan", "UrlState", "is_url", "plan"]

FLUSH = 5.0  # seconds between state writes


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

    def local_roots(self) -> list[Path]:
        """The inputs on this machine's filesystem (plain paths and file:// URLs), resolved."""
        return [path for path in map(local_path, self.roots) if path is not None]


def plan(inputs: list[str], outdir: str, suffix: str = "") -> UrlPlan:
    """Walk input URLs into jobs, each output name followed by `suffix` (`.jsonl`); refuse
    (ConfigError) outputs on or inside an input, as batch.plan does: local paths and file://
    URLs are compared resolved, other URLs normalised (`a/../b` is `b`).

    Only regular files are jobs: a FIFO, a device or a link to a folder is left out, and a
    file that cannot be examined (a dangling link) fails, each as a known outcome.
    """
    out_fs, out_root = locate(outdir)
    out_key = _key(out_fs, out_root)
    result = UrlPlan(outdir.rstrip("/"))
    tops: dict[str, str] = {}
    for item in inputs:
        fs, root = locate(item)
        root = root.rstrip("/")
        if not fs.exists(root) and not (is_local(fs) and os.path.islink(root)):
            msg = f"{printable(item)}: no such input file or folder"
            raise ConfigError(msg)
        top = root.rpartition("/")[2]
        if tops.setdefault(top, item) != item:
            msg = f"{printable(tops[top])} and {printable(item)} would both be written to {result.outdir}/{top}"
            raise ConfigError(msg)
        key = _key(fs, root)
        if key[0] == out_key[0] and (out_key[1] == key[1] or out_key[1].startswith(key[1].rstrip("/") + "/")):
            msg = f"{outdir}: the output folder is inside the input {printable(item)}; choose one outside it"
            raise ConfigError(msg)
        files = fs.find(root) if fs.isdir(root) else [root]
        for path in sorted(files):
            name = path.rpartition("/")[2]
            if _ours(name):
                continue  # the state, part and spool files of a run whose output is now an input
            rel = top + path[len(root) :]
            source = fs.unstrip_protocol(path) if is_url(item) else path
            _add(result, fs, path, source, f"{result.outdir}/{rel}{suffix}")
        result.roots.append(item)
    _refuse_overwrites(result, out_fs)
    return result


def _add(result: UrlPlan, fs: object, path: str, source: str, target: str) -> None:
    """The job of a regular file, with its size and time; else a known outcome (batch._add)."""
    name = printable(source)
    try:
        if is_local(fs):  # type: ignore[arg-type]
            mode = os.stat(path).st_mode
            kind = "folder" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "special"
        else:
            kind = {"file": "file", "directory": "folder"}.get(fs.info(path).get("type"), "special")  # type: ignore[attr-defined]
        size, mtime_ns = stamp(fs, path)  # type: ignore[arg-type]
    except OSError as exc:
        reason = f"{name}: cannot read it ({exc.strerror or type(exc).__name__})"
        result.known.append(Outcome(name, "file", "failed", reason=reason))
        return
    if kind == "folder":
        result.known.append(Outcome(name, "folder", "omitted", reason="a link to a folder; not followed"))
    elif kind == "special":
        result.known.append(Outcome(name, "special", "omitted", reason="not a regular file"))
    else:
        result.todo.append(UrlJob(source, target, name, size, mtime_ns))


def _refuse_overwrites(result: UrlPlan, out_fs: object) -> None:
    """No two inputs to one output, and no output on an input (batch._refuse_overwrites)."""
    inputs: dict[tuple[str, str], str] = {}
    for job in result.todo:
        fs, path = locate(job.source)
        inputs[_key(fs, path)] = job.name
    by_target: dict[str, str] = {}
    for job in result.todo:
        other = by_target.setdefault(job.target, job.name)
        if other != job.name:
            msg = f"{job.name} and {other} would both be written to {printable(job.target)}"
            raise ConfigError(msg)
        fs, path = locate(job.target)
        source = inputs.get(_key(fs, path))
        if source is not None:
            msg = f"{printable(job.target)}: the output would overwrite the input {source}"
            raise ConfigError(msg)


def _key(fs: object, path: str) -> tuple[str, str]:
    """Which store and which path: local paths resolved (links, `..`), others normalised."""
    if is_local(fs):  # type: ignore[arg-type]
        return "file", str(Path(path).resolve())
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]  # type: ignore[attr-defined]
    return protocol, posixpath.normpath("/" + path.lstrip("/"))


class UrlState:
    """batch.State over fsspec: which outputs are complete, from which input, under which settings."""

    def __init__(self, outdir: str) -> None:
        self._outdir = outdir
        self._fs, self._path = locate(f"{outdir}/{STATE}")
        self._written = time.monotonic()
        try:
            lines = self._fs.cat_file(self._path).splitlines()
        except FileNotFoundError:
            lines = []
        except OSError as exc:
            msg = f"{self._path}: cannot read the batch state ({exc.strerror or type(exc).__name__})"
            raise LogFilterError(msg) from None
        self.done = records(lines)

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
