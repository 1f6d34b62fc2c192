"""A batch from start to end, and the Reporter and Executor it is given.

Choose the executor, plan, lock OUTDIR, sweep, read the state, skip what is up to date,
execute the rest, keep the state, and make the report.

The CLI's `batch` command parses its options into Settings, calls `run` once and prints; what
happens meanwhile is told to the Reporter it passes in (cli/batch_reporter.py: a progress bar
and the errors on stderr). Ctrl-C and SIGTERM stop a run alike (Interrupted): outputs already
complete are kept, and nothing half written is left.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from logfilter.batch.local import LocalExecutor, worker_count
from logfilter.batch.outdir import sweep
from logfilter.batch.plan import Job, Plan, plan
from logfilter.batch.report import entry, report
from logfilter.batch.rewrite import Outcome
from logfilter.batch.settings import Settings
from logfilter.batch.state import State
from logfilter.batch.store import is_url
from logfilter.errors import ConfigError
from logfilter.reports import refuse_over_inputs
from logfilter.sinks.lock import locked

Entry = dict[str, object]


class Reporter(Protocol):
    """What a batch tells as it goes."""

    def tell(self, outcome: Outcome) -> None:
        """A file is done, failed or left out (its errors, what was left out, its warnings)."""
        ...

    def start(self, files: int, size: int) -> None:
        """The work on `files` files of `size` bytes in all begins."""
        ...

    def read(self, count: int) -> None:
        """`count` bytes of the inputs are read so far (not told by every executor)."""
        ...

    def file_done(self) -> None: ...

    def stop(self) -> None:
        """The work has ended, or was interrupted."""
        ...

    def summary(self, entries: Iterable[Entry]) -> None:
        """The run is over: every file's report entry."""
        ...


class Executor(Protocol):
    """Runs a batch's jobs: local processes (local.py) or a Dask cluster (cluster.py)."""

    def execute(
        self, jobs: Sequence[Job], outdir: str, on_outcome: Callable[[Job, Outcome], None],
        progress: Callable[[int], None],
    ) -> None:  # fmt: skip
        """Rewrite every job's input into its output and call `on_outcome` for each, in any
        order; `progress` gets the bytes read so far, now and then."""
        ...


class Interrupted(KeyboardInterrupt):
    """The batch was stopped by Ctrl-C or SIGTERM (`signum`); complete outputs are kept."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True, slots=True)
class Result:
    """The report entry of every file, by input name, and the report."""

    entries: list[Entry]
    report: dict[str, object]

    @property
    def failed(self) -> bool:
        return any(item["status"] == "failed" for item in self.entries)


def run(
    inputs: list[str], outdir: str, settings: Settings, reporter: Reporter, *, jobs: int | None = None,
    force: bool = False, scheduler: str | None = None, split_size: str | None = None, report_path: Path | None = None,
) -> Result:  # fmt: skip
    """Sanitize the inputs into OUTDIR; ConfigError for bad usage, LogFilterError when the run
    cannot go on, Interrupted when stopped. A file that fails is in the result, not raised.

    `jobs`: local worker processes (default: one per core). `scheduler`: run on this Dask
    cluster instead (`local[:N]` starts one); only then may inputs and OUTDIR be URLs.
    `split_size`: with a scheduler, text files over it are split. `report_path`: where the
    report will be written, refused on or inside an input.
    """
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops a batch as Ctrl-C does
    try:
        executor = choose_executor(settings, jobs, scheduler, split_size)
        urls = any(is_url(item) for item in [*inputs, outdir])
        if urls and scheduler is None:
            msg = "inputs and OUTDIR as URLs work with --scheduler only; give local paths"
            raise ConfigError(msg)
        work = plan(inputs, outdir, ".jsonl" if settings.output_format == "jsonl" else "", fsspec=urls)
        if report_path is not None:
            refuse_over_inputs(report_path, work.roots)
        entries = _execute(work, settings, executor, force, reporter)
        return Result(entries, report(entries, settings, work.outdir))
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT) from None


def choose_executor(settings: Settings, jobs: int | None, scheduler: str | None, split_size: str | None) -> Executor:
    """The local executor, or with a scheduler the cluster's (Dask is imported only then)."""
    workers = worker_count(jobs)
    if scheduler is None:
        if split_size is not None:
            msg = "--split-size works with --scheduler only (a local batch does each file whole)"
            raise ConfigError(msg)
        return LocalExecutor(settings, workers)
    from logfilter.batch.cluster import ClusterExecutor  # Dask is an optional extra

    return ClusterExecutor(settings, scheduler, split_size)


def _execute(work: Plan, settings: Settings, executor: Executor, force: bool, reporter: Reporter) -> list[Entry]:
    """Run the plan under the OUTDIR lock; return the report entries, by input name."""
    entries = {outcome.name: entry(outcome, None) for outcome in work.known}
    for outcome in work.known:
        reporter.tell(outcome)
    folder = work.store.local_path(work.outdir)  # -o /out and -o file:///out: one lock; none on an object store
    with locked(folder) if folder is not None else contextlib.nullcontext():
        sweep(work.store, work.outdir)
        state, fingerprint = State(work.store, work.outdir), settings.fingerprint()
        todo = []
        for job in work.todo:
            recorded = None if force else state.up_to_date(job, fingerprint)
            if recorded is None:
                todo.append(job)
            else:
                entries[job.name] = {**recorded, "status": "up-to-date"}
        state.invalidate(todo)

        def on_outcome(job: Job, outcome: Outcome) -> None:
            entries[job.name] = item = entry(outcome, job.target)
            if outcome.status in ("done", "kept"):
                state.record(job, fingerprint, item)
            else:  # left out or failed: an output a former run made is stale now
                state.forget(job)
            reporter.tell(outcome)
            reporter.file_done()

        reporter.start(len(todo), sum(job.size for job in todo))
        try:
            executor.execute(todo, work.outdir, on_outcome, reporter.read)
        except KeyboardInterrupt:
            sweep(work.store, work.outdir)  # the workers are gone: leave nothing half written
            raise
        finally:
            reporter.stop()
        state.compact()
        reporter.summary(entries.values())
    return [entries[name] for name in sorted(entries)]


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)
