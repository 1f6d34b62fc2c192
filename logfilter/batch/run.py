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
from logfilter.batch.outdir import state_folder, sweep
from logfilter.batch.plan import Job, Plan, plan
from logfilter.batch.report import entry, report, rules_met
from logfilter.batch.rewrite import Outcome
from logfilter.batch.settings import Settings
from logfilter.batch.state import State
from logfilter.batch.store import is_url
from logfilter.errors import ConfigError
from logfilter.reports import refuse_over_inputs
from logfilter.rules.compiled import compile_policy
from logfilter.rules.unmatched import Unmatched
from logfilter.sinks.lock import locked
from logfilter.stats import Stats

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

    def summary(self, entries: Iterable[Entry], unmatched: Sequence[Unmatched] = ()) -> None:
        """The run is over: every file's report entry, and the rules that matched no key in any file."""
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
    state: str | None = None, insecure_scheduler: bool = False,
) -> Result:  # fmt: skip
    """Sanitize the inputs into OUTDIR; ConfigError for bad usage, LogFilterError when the run
    cannot go on, Interrupted when stopped. A file that fails is in the result, not raised.

    `jobs`: local worker processes (default: one per core). `scheduler`: run on this Dask
    cluster instead (`local[:N]` starts one); only then may inputs and OUTDIR be URLs.
    `split_size`: with a scheduler, text files over it are split. `insecure_scheduler`: a
    scheduler address other than tls:// is accepted (never with a hash rule). `report_path`: where the
    report will be written, refused on or inside an input or OUTDIR. `state`: the folder of the
    batch state (default: beside OUTDIR, outdir.state_folder), refused inside an input or OUTDIR.
    """
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops a batch as Ctrl-C does
    try:
        executor = choose_executor(settings, jobs, scheduler, split_size, insecure_scheduler)
        urls = any(is_url(item) for item in [*inputs, outdir, *([state] if state else [])])
        if urls and scheduler is None:
            msg = "inputs and OUTDIR as URLs work with --scheduler only; give local paths"
            raise ConfigError(msg)
        work = plan(inputs, outdir, ".jsonl" if settings.output_format == "jsonl" else "", fsspec=urls)
        folder = state_folder(work.store, work.outdir, state)
        local_out, local_state = work.store.local_path(work.outdir), work.store.local_path(folder)
        if report_path is not None:
            refuse_over_inputs(report_path, work.roots)
            _refuse_inside("--report", report_path, [local_out] if local_out else [])
        if local_state is not None:
            _refuse_inside("--state", local_state, [*work.roots, *([local_out] if local_out else [])])
        entries, unmatched = _execute(work, settings, executor, force, reporter, folder)
        return Result(entries, report(entries, settings, work.outdir, unmatched))
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT) from None


def choose_executor(
    settings: Settings, jobs: int | None, scheduler: str | None, split_size: str | None, insecure: bool = False
) -> Executor:
    """The local executor, or with a scheduler the cluster's (Dask is imported only then)."""
    workers = worker_count(jobs)
    if scheduler is None:
        if split_size is not None:
            msg = "--split-size works with --scheduler only (a local batch does each file whole)"
            raise ConfigError(msg)
        return LocalExecutor(settings, workers)
    from logfilter.batch.cluster import ClusterExecutor  # Dask is an optional extra

    return ClusterExecutor(settings, scheduler, split_size, insecure)


def _execute(
    work: Plan, settings: Settings, executor: Executor, force: bool, reporter: Reporter, folder: str
) -> tuple[list[Entry], list[Unmatched]]:
    """Run the plan under the locks of OUTDIR and of the state `folder`; return the report
    entries, by input name, and the rules that matched no key in any file read."""
    entries = {outcome.name: entry(outcome, None) for outcome in work.known}
    met = Stats()  # which rules met a key, over every file: this run's and those up to date
    for outcome in work.known:
        reporter.tell(outcome)
    with _locked(work.store.local_path(work.outdir)), _locked(work.store.local_path(folder), private=True):
        sweep(work.store, work.outdir)
        state, fingerprint = State(work.store, work.outdir, folder), settings.fingerprint()
        todo = []
        for job in work.todo:
            recorded = None if force else state.up_to_date(job, fingerprint)
            if recorded is None:
                todo.append(job)
            else:
                entries[job.name] = {**recorded, "status": "up-to-date"}
                met.add(rules_met(recorded))
        state.invalidate(todo)

        def on_outcome(job: Job, outcome: Outcome) -> None:
            entries[job.name] = item = entry(outcome, job.target)
            met.add(outcome.stats)
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
        unmatched = met.unmatched_rules(compile_policy(settings.policy))
        reporter.summary(entries.values(), unmatched)
    return [entries[name] for name in sorted(entries)], unmatched


def _refuse_inside(what: str, path: Path, folders: list[Path]) -> None:
    """Refuse (ConfigError) a report or state inside an input or OUTDIR: both name the inputs
    by path, and OUTDIR holds only the sanitized mirror."""
    if str(path) == "-":
        return
    for folder in folders:
        if path.resolve().is_relative_to(folder.resolve()):
            msg = f"{what} {path}: inside {folder}, an input or the output folder; put it elsewhere"
            raise ConfigError(msg)


def _locked(folder: Path | None, private: bool = False) -> contextlib.AbstractContextManager[None]:
    """The lock on a local folder (-o /out and -o file:///out: one lock), made first if `private`
    (the state folder: its owner's only); none on an object store. Both locks are flock on the
    folder itself: no lock file is written."""
    if folder is None:
        return contextlib.nullcontext()
    if private:
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=True)
    return locked(folder)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)
