"""`logfilter batch`: sanitize files, folders and archives into a mirrored output tree.

Plan (walk the inputs, refuse outputs that would land on or inside an input, skip outputs
already done), then process each input file in a pool of worker processes, each output
written to a hidden part file and renamed into place when complete. A lock on OUTDIR keeps
two runs apart, so the part files of a killed run can be swept by the next one.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import multiprocessing
import os
import signal
import stat
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from logfilter import __version__
from logfilter.engines.registry import Choice, EngineName, Format
from logfilter.errors import ConfigError, LogFilterError
from logfilter.pipeline import OnError
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import Policy, hash_key_id
from logfilter.sinks import PART_SUFFIX, AtomicFile
from logfilter.sources.archives import Outcome, Rewriter, printable
from logfilter.sources.files import CHUNK
from logfilter.stats import COUNTERS, Stats

STATE = ".logfilter-batch.jsonl"
SPOOL_PREFIX = ".logfilter-spool-"
RUN_PREFIX = ".logfilter-run-"  # the marker of a cluster run in progress (store.start_run)
TICK = 0.2  # seconds between progress updates


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a worker needs besides the job: validated once, pickled to each worker."""

    policy: Policy
    engine: EngineName = "fast"
    on_error: OnError = "redact"
    keep_binary: bool = False
    output_format: Format = "tlib"
    all_lines: bool = False

    def describe(self) -> dict[str, object]:
        """The configuration for the report: rule texts, never values."""
        return {
            "default-filter-type": self.policy.default.text,
            "log-filter-data": {rule.key: rule.filter_type.text for rule in self.policy.rules},
            "ignore-key-case": self.policy.ignore_key_case,
            "detect": list(self.policy.detect),
            "detect-filter-type": self.policy.detect_filter_type.text,
            "engine": self.engine,
            "on-error": self.on_error,
            "keep-binary": self.keep_binary,
            "format": self.output_format,
            "all-lines": self.all_lines,
            # Which key the hash rules use (an id, never the key): a new key redoes every output.
            **({"hash-key-id": key_id} if (key_id := hash_key_id(self.policy)) else {}),
        }

    def rewriter(self, chain: Rules, spool_dir: Path | None) -> Rewriter:
        """The Rewriter of one file under these settings (local worker or cluster task)."""
        return Rewriter(
            chain, choice=Choice(self.engine, self.output_format, self.all_lines), on_error=self.on_error,
            keep_binary=self.keep_binary, spool_dir=spool_dir,
        )  # fmt: skip

    def fingerprint(self) -> str:
        """What an output depends on: everything but the engine (both give the same bytes), and the version."""
        what = {key: value for key, value in self.describe().items() if key != "engine"}
        what["logfilter"] = __version__
        return hashlib.sha256(orjson.dumps(what, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Job:
    """One input file and the output it becomes."""

    source: Path
    target: Path
    name: str  # the input as the user would write it, for messages and the report
    size: int
    mtime_ns: int  # as planned; the state records these, so a later change means a redo


@dataclass(slots=True)
class Plan:
    """The work of one run: files to process, and outcomes known before any is read."""

    outdir: Path
    todo: list[Job] = field(default_factory=list)
    known: list[Outcome] = field(default_factory=list)
    targets: dict[str, Path] = field(default_factory=dict)  # output path by input name (each once)
    roots: list[Path] = field(default_factory=list)  # every input, resolved
    suffix: str = ""  # added to every output name (`.jsonl`)


def plan(inputs: Iterable[str], outdir: Path, suffix: str = "") -> Plan:
    """Walk the inputs into jobs; refuse (ConfigError) what would write on or inside an input.

    A folder INPUT comes out as OUTDIR/<its name>/..., a file as OUTDIR/<its name>, each
    output name followed by `suffix`.
    """
    if outdir.exists() and not outdir.is_dir():
        msg = f"{outdir}: the output folder is an existing file"
        raise ConfigError(msg)
    real_out = outdir.resolve()
    result = Plan(outdir, suffix=suffix)
    tops: dict[str, tuple[Path, str]] = {}
    for item in inputs:
        path = Path(item)
        if not path.exists() and not path.is_symlink():
            msg = f"{printable(item)}: no such input file or folder"
            raise ConfigError(msg)
        real = path.resolve()
        result.roots.append(real)
        top = real.name
        first, first_item = tops.setdefault(top, (real, item))
        if first != real:
            msg = (
                f"{printable(first_item)} and {printable(item)} would both be written to "
                f"{printable(str(outdir / top))}; sanitize them into separate output folders"
            )
            raise ConfigError(msg)
        if path.is_dir():
            if real_out == real or real_out.is_relative_to(real):
                msg = f"{outdir}: the output folder is inside the input {printable(item)}; choose one outside it"
                raise ConfigError(msg)
            _walk(path, outdir / top, result, _identity(outdir) if outdir.is_dir() else None)
        elif path.is_file():
            _add(result, path, outdir / top, printable(item))
        else:
            msg = f"{printable(item)}: not a regular file or folder"
            raise ConfigError(msg)
    _refuse_overwrites(result)
    return result


def _walk(folder: Path, target: Path, result: Plan, out: tuple[int, int] | None) -> None:
    def unlisted(exc: OSError) -> None:
        name = printable(exc.filename or str(folder))
        result.known.append(Outcome(name, "folder", "failed", reason=f"{name}: cannot list the folder ({exc.strerror})"))

    for root, dirs, files in os.walk(folder, onerror=unlisted):
        dirs.sort()
        here = Path(root)
        if out is not None and _identity(here) == out:  # the same folder by another path (a bind mount)
            msg = f"{result.outdir}: the output folder is inside the input {printable(str(folder))} (as {printable(root)})"
            raise ConfigError(msg)
        for name in sorted(files) + [d for d in dirs if (here / d).is_symlink()]:
            if _ours(name):
                continue  # the state and part files of a run whose output is now an input
            path = here / name
            rel = path.relative_to(folder)
            _add(result, path, target / rel, printable(str(path)))


def _add(result: Plan, path: Path, target: Path, name: str) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        result.known.append(Outcome(name, "file", "failed", reason=f"{name}: cannot read it ({exc.strerror})"))
        return
    if stat.S_ISDIR(info.st_mode):
        result.known.append(Outcome(name, "folder", "omitted", reason="a link to a folder; not followed"))
    elif not stat.S_ISREG(info.st_mode):
        result.known.append(Outcome(name, "special", "omitted", reason="not a regular file"))
    elif name in result.targets:
        return  # the same input named twice
    else:
        target = target.with_name(target.name + result.suffix)
        result.todo.append(Job(path, target, name, info.st_size, info.st_mtime_ns))
        result.targets[name] = target


def _refuse_overwrites(result: Plan) -> None:
    by_target: dict[Path, str] = {}
    inputs = {_identity(job.source): job.name for job in result.todo}
    for job in result.todo:
        other = by_target.setdefault(job.target, job.name)
        if other != job.name:
            msg = f"{job.name} and {other} would both be written to {printable(str(job.target))}"
            raise ConfigError(msg)
        if job.target.exists() and _identity(job.target) in inputs:
            msg = f"{printable(str(job.target))}: the output would overwrite the input {inputs[_identity(job.target)]}"
            raise ConfigError(msg)


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _ours(name: str) -> bool:
    return name == STATE or name.startswith(".") and name.endswith(PART_SUFFIX) or name.startswith((SPOOL_PREFIX, RUN_PREFIX))


def sweep(outdir: Path) -> int:
    """Remove the part and spool files a killed run left behind (call under the lock)."""
    removed = 0
    for root, _dirs, files in os.walk(outdir):
        for name in files:
            if name != STATE and _ours(name):
                Path(root, name).unlink(missing_ok=True)
                removed += 1
    return removed


def records(lines: list[bytes]) -> dict[str, dict[str, object]]:
    """The last record of each output in the lines of a state file (local or URL)."""
    done: dict[str, dict[str, object]] = {}
    for line in lines:
        try:
            record = orjson.loads(line)
            done[record["output"]] = record
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # a torn last line: that file is simply done again
    return done


class State:
    """Which outputs are complete, from which input and under which settings: a JSON line each.

    A line is appended after its output is renamed into place, so a killed run loses at
    most the record of a file, which is then done again, never skipped wrongly. Each line
    also keeps the file's report entry, so a re-run's report still counts it.
    """

    def __init__(self, outdir: Path) -> None:
        self._path = outdir / STATE
        self._outdir = outdir
        try:
            lines = self._path.read_bytes().splitlines()
        except FileNotFoundError:
            lines = []
        except OSError as exc:
            msg = f"{self._path}: cannot read the batch state ({exc.strerror})"
            raise LogFilterError(msg) from None
        self.done = records(lines)

    def up_to_date(self, job: Job, fingerprint: str) -> dict[str, object] | None:
        """The recorded report entry when the output exists and was made from this very input
        (same path, size and modification time) under these settings; else None."""
        record = self.done.get(self._key(job.target))
        if record is None:
            return None
        try:
            source = job.source.stat()
            made = job.target.stat()
        except OSError:
            return None
        now = Job(job.source, job.target, job.name, source.st_size, source.st_mtime_ns)
        if record.get("fingerprint") != fingerprint or record.get("input") != _source_identity(now):
            return None
        return record.get("entry") if stat.S_ISREG(made.st_mode) else None  # type: ignore[return-value]

    def record(self, job: Job, fingerprint: str, entry: dict[str, object]) -> None:
        key = self._key(job.target)
        record = {"output": key, "input": _source_identity(job), "fingerprint": fingerprint, "entry": entry}
        self.done[key] = record
        try:
            with open(self._path, "ab") as stream:
                stream.write(orjson.dumps(record) + b"\n")
        except OSError as exc:
            msg = f"{self._path}: cannot write the batch state ({exc.strerror})"
            raise LogFilterError(msg) from None

    def invalidate(self, jobs: list[Job]) -> None:
        """Mark these outputs as not done before they are redone, durably.

        Otherwise a run killed after a worker renamed a new output into place, but before
        its record, would leave the older record vouching for the new (other rules) file.
        """
        keys = [self._key(job.target) for job in jobs if self._key(job.target) in self.done]
        if not keys:
            return
        for key in keys:
            self.done[key] = {"output": key, "fingerprint": None}  # `forget` still knows it is ours
        try:
            with open(self._path, "ab") as stream:
                stream.write(b"".join(orjson.dumps(self.done[key]) + b"\n" for key in keys))
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            msg = f"{self._path}: cannot write the batch state ({exc.strerror})"
            raise LogFilterError(msg) from None

    def forget(self, job: Job) -> None:
        """Remove the output a former run made for this input (now left out or failed)."""
        if self.done.pop(self._key(job.target), None) is not None:
            job.target.unlink(missing_ok=True)

    def compact(self) -> None:
        """Rewrite the state with one line per output (the last record of each)."""
        lines = [orjson.dumps(record) + b"\n" for _key, record in sorted(self.done.items()) if record["fingerprint"]]
        with AtomicFile(self._path) as out:
            out.stream.write(b"".join(lines))
            out.commit()

    def _key(self, target: Path) -> str:
        return printable(target.relative_to(self._outdir).as_posix())


def _source_identity(job: Job) -> list[object]:
    return [printable(str(job.source.resolve())), job.size, job.mtime_ns]


# --- the work of one file, in a worker process (or in this one with --jobs 1) ---

_worker: tuple[Rules, Settings, ctypes.c_longlong] | None = None


def _start_worker(settings: Settings, counter: ctypes.c_longlong, parent: int) -> None:
    global _worker
    _worker = (compile_policy(settings.policy), settings, counter)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by fork
    warnings.filterwarnings("ignore", module="zipfile")  # e.g. "Duplicate name": copied as found
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    # Linux: a parent killed with SIGKILL takes its workers along, so none writes on.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _work(job: Job) -> Outcome:
    assert _worker is not None, "the worker was not started"
    chain, settings, counter = _worker
    return process(job, chain, settings, counter)


def process(job: Job, chain: Rules, settings: Settings, counter: ctypes.c_longlong | None = None) -> Outcome:
    """Rewrite one input file into its output, atomically; never raises for a bad input."""
    try:
        before = job.source.stat()
        with _CountingFile(job.source, counter) as raw, io.BufferedReader(raw, CHUNK) as reader:
            with AtomicFile(job.target) as out:
                rewriter = settings.rewriter(chain, job.target.parent)
                outcome = rewriter.rewrite(reader, out.stream, job.name, in_place=True)  # type: ignore[arg-type]
                if outcome.status != "omitted":
                    # The input's times: a later change to the input makes it newer than this.
                    out.commit((before.st_atime_ns, before.st_mtime_ns))
        after = job.source.stat()
        if (after.st_size, after.st_mtime_ns) != (job.size, job.mtime_ns):
            outcome.warnings.append(f"{job.name}: changed while it was read; the next run will do it again")
        return outcome
    except LogFilterError as exc:
        return Outcome(job.name, "file", "failed", reason=str(exc))
    except OSError as exc:
        return Outcome(job.name, "file", "failed", reason=f"{job.name}: cannot read it ({exc.strerror or exc})")


class _CountingFile(io.FileIO):
    """A file whose reads add to a counter shared with the parent, for the progress bar."""

    def __init__(self, path: Path, counter: ctypes.c_longlong | None) -> None:
        super().__init__(path, "rb")
        self._counter = counter

    def readinto(self, buffer: bytearray | memoryview) -> int | None:  # type: ignore[override]
        count = super().readinto(buffer)
        if count and self._counter is not None:
            self._counter.value += count  # no lock: a worker killed holding it would hang the run
        return count


def execute(
    todo: list[Job],
    settings: Settings,
    jobs: int,
    on_outcome: Callable[[Job, Outcome], None],
    on_progress: Callable[[int], None] = lambda read: None,
) -> None:
    """Process every job, `jobs` at a time; report each outcome as it arrives.

    `on_progress` gets the bytes read so far, every TICK seconds. KeyboardInterrupt stops
    the workers at once (their part files are left for `sweep`).
    """
    # Bytes read, for the progress bar only: increments from two workers at once may be lost.
    counter = multiprocessing.get_context("fork").RawValue("q", 0)
    if jobs <= 1 or len(todo) <= 1:
        chain = compile_policy(settings.policy)
        for job in todo:
            on_outcome(job, process(job, chain, settings, counter))
            on_progress(counter.value)
        return
    # Big files first, so the last one to finish is a small one.
    ordered = sorted(todo, key=lambda job: job.size, reverse=True)
    pool = ProcessPoolExecutor(
        min(jobs, len(todo)), multiprocessing.get_context("fork"), _start_worker, (settings, counter, os.getpid())
    )
    try:
        pending: dict[Future[Outcome], Job] = {pool.submit(_work, job): job for job in ordered}
        while pending:
            finished, _ = wait(pending, timeout=TICK, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome = Outcome(job.name, "file", "failed", reason=f"{job.name}: a worker process died")
                except Exception as exc:  # noqa: BLE001 - a bug in one file's work fails that file
                    reason = f"{job.name}: internal error ({type(exc).__name__}); no log data is shown"
                    outcome = Outcome(job.name, "file", "failed", reason=reason)
                on_outcome(job, outcome)
            on_progress(counter.value)
    except BaseException:
        for worker in list(getattr(pool, "_processes", {}).values()):  # no public way before 3.14
            worker.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- the report ---


def report(entries: list[dict[str, object]], settings: Settings, outdir: Path) -> dict[str, object]:
    """The JSON report: the entries of every file, their totals, and the settings."""
    totals: dict[str, object] = {"files": len(entries)}
    statuses: dict[str, int] = {}
    for item in entries:
        status = str(item["status"])
        statuses[status] = statuses.get(status, 0) + 1
    totals |= dict(sorted(statuses.items()))
    totals |= _sum([item for item in entries if "pairs" in item])
    return {
        "logfilter": __version__,
        "outdir": printable(str(outdir)),
        "config": settings.describe(),
        "files": entries,
        "totals": totals,
    }


def entry(outcome: Outcome, target: Path | None) -> dict[str, object]:
    """One file's (or member's) report entry: names, status and counts, never data."""
    item: dict[str, object] = {"input": outcome.name}
    if target is not None:
        item["output"] = printable(str(target)) if outcome.status in ("done", "kept", "up-to-date") else None
    item |= {"kind": outcome.kind, "status": outcome.status}
    if outcome.reason is not None:
        item["reason"] = outcome.reason
    if outcome.status in ("done", "kept"):
        item |= _counts(outcome.stats)
    if outcome.warnings:
        item["warnings"] = outcome.warnings
    if outcome.members:
        item["members"] = [entry(member, None) for member in outcome.members]
    return item


def _counts(stats: Stats) -> dict[str, object]:
    counts: dict[str, object] = {("lines_in" if name == "lines" else name): getattr(stats, name) for name in COUNTERS}
    counts["changed_by_filter_type"] = stats.by_filter_type()
    counts["changed_by_key"] = stats.by_key()
    counts["detected_by_detector"] = stats.by_detector()
    counts["detected_by_key"] = stats.detected_by_key()
    return counts


def _sum(entries: list[dict[str, object]]) -> dict[str, object]:
    """Totals of entries' counts (fresh or recorded by an earlier run)."""
    totals = Stats()
    tables: dict[str, dict[str, int]] = {"changed_by_filter_type": {}, "detected_by_detector": {}}
    keyed: dict[str, dict[str, dict[str, int]]] = {"changed_by_key": {}, "detected_by_key": {}}
    for item in entries:
        for name in COUNTERS:
            # .get: entries recorded by a version without a counter count 0 of it
            setattr(totals, name, getattr(totals, name) + item.get("lines_in" if name == "lines" else name, 0))  # type: ignore[operator]
        for column, table in tables.items():
            for text, count in item.get(column, {}).items():  # type: ignore[attr-defined]
                table[text] = table.get(text, 0) + count
        for column, by_key in keyed.items():
            for key, inner in item.get(column, {}).items():  # type: ignore[attr-defined]
                mine = by_key.setdefault(key, {})
                for text, count in inner.items():
                    mine[text] = mine.get(text, 0) + count
    counts = _counts(totals)
    for column, table in tables.items():
        counts[column] = dict(sorted(table.items()))
    for column, by_key in keyed.items():
        counts[column] = {key: dict(sorted(value.items())) for key, value in sorted(by_key.items())}
    return counts
