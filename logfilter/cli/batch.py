"""`logfilter batch`: files, folders and archives into OUTDIR, on local processes or a Dask cluster."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from logfilter import reports
from logfilter.batch.local import Job, Plan, Settings, State, execute, sweep
from logfilter.batch.local import entry as batch_entry
from logfilter.batch.local import plan as plan_batch
from logfilter.batch.local import report as batch_report
from logfilter.cli.command import Command, commands
from logfilter.cli.options import REPORT, RULES, WALK, RuleOptions, WalkOptions, shared_options
from logfilter.cli.printing import say as _say  # the name the batch code moved here uses
from logfilter.cli.types import WholeNumber
from logfilter.errors import ConfigError
from logfilter.sinks import locked
from logfilter.sources.archives import Outcome

if TYPE_CHECKING:
    from rich.progress import Progress

app = commands()
JOBS = WholeNumber("--jobs", 1)


@app.command(cls=Command)
@shared_options
def batch(
    inputs: Annotated[
        list[str], typer.Argument(metavar="INPUT", help="Files, folders (recursive) and archives.")
    ],
    outdir: Annotated[
        str, typer.Option("-o", "--output", metavar="OUTDIR", help="Where the sanitized tree is written (or a URL, with --scheduler).")
    ],
    rules: RuleOptions = RULES,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", parser=JOBS, metavar=JOBS.metavar, help="Files processed at once (default: all cores)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", parser=REPORT, metavar=REPORT.metavar, help="Write a JSON report of counts, never values (- is stdout)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo outputs that are already complete.")] = False,
    keep_binary: Annotated[
        bool, typer.Option("--keep-binary", help="Copy files that are not text logs unchanged instead of leaving them out.")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="ADDRESS",
            help="Run the files on a Dask cluster (tcp://host:8786), or on local[:N] worker processes.",
        ),
    ] = None,
    split_size: Annotated[
        str | None,
        typer.Option(
            "--split-size", metavar="SIZE",
            help="With --scheduler: split text files over SIZE (default 1G) into ranges of SIZE/4.",
        ),
    ] = None,
    walk: WalkOptions = WALK,
) -> None:
    """Sanitize files, folders and archives (.gz .bz2 .xz .zip .tar .tgz) into OUTDIR, mirroring their tree.

    A folder comes out as OUTDIR/<its name>/..., a file as OUTDIR/<its name>, an archive as the
    same kind of archive (--format jsonl: OUTDIR/<name>.jsonl, text logs only). Outputs appear only when complete; a re-run skips outputs already
    made from the same input with the same rules. Exit 0: all done; 1: a file failed (the
    others are written); 2: usage or configuration error.
    """
    interrupted = _on_sigterm_interrupt()
    try:
        chosen = walk.output_format
        if keep_binary and chosen == "jsonl":
            msg = "--keep-binary cannot go with --format jsonl (binary data is not JSON lines)"
            raise ConfigError(msg)
        settings = Settings(rules.policy(), walk.engine, walk.on_error, keep_binary, chosen, walk.all_lines)
        workers = jobs if jobs is not None else len(os.sched_getaffinity(0))
        on_cluster = _on_cluster(scheduler, split_size, settings)
        work = _plan(inputs, outdir, on_cluster is not None, ".jsonl" if chosen == "jsonl" else "")
        if report is not None:  # a URL plan: its local inputs (plain paths and file://)
            reports.refuse_over_inputs(report, work.roots if isinstance(work, Plan) else work.local_roots())
        entries = _batch(work, settings, workers, force, on_cluster)
        if report is not None:
            reports.write(report, batch_report(entries, settings, work.outdir))
    except KeyboardInterrupt:
        signum = interrupted.get("signal", signal.SIGINT)
        _say("interrupted: outputs already complete are kept; run the same command again to finish")
        raise typer.Exit(128 + signum) from None
    if any(item["status"] == "failed" for item in entries):
        raise typer.Exit(1)


def _on_cluster(scheduler: str | None, split_size: str | None, settings: Settings) -> Callable[..., None] | None:
    """With --scheduler, what runs the files on the cluster (logfilter.cluster); else None."""
    if scheduler is None:
        if split_size is not None:
            msg = "--split-size works with --scheduler only (a local batch does each file whole)"
            raise ConfigError(msg)
        return None
    from logfilter.batch import cluster  # Dask is an optional extra: imported only when asked for

    cluster.require()
    cluster.local_workers(scheduler)
    size = cluster.parse_size(split_size) if split_size is not None else cluster.SPLIT_SIZE
    return functools.partial(cluster.execute, settings=settings, scheduler=scheduler, split_size=size)


def _plan(inputs: list[str], outdir: str, cluster: bool, suffix: str) -> Any:
    """The local plan (batch.plan), or with URLs (cluster only) the fsspec one (remote.plan)."""
    from logfilter.batch.store import is_url  # fsspec is imported only when a URL is opened

    if not any(is_url(item) for item in [*inputs, outdir]):
        return plan_batch(inputs, Path(outdir), suffix)
    if not cluster:
        msg = "inputs and OUTDIR as URLs work with --scheduler only; give local paths"
        raise ConfigError(msg)
    from logfilter.batch import remote  # needs fsspec, like --scheduler

    return remote.plan(inputs, outdir, suffix)


def _batch(
    work: Any, settings: Settings, workers: int, force: bool, on_cluster: Callable[..., None] | None = None
) -> list[dict[str, object]]:
    """Run the plan under the OUTDIR lock; return the report entries, by input name."""
    entries = {outcome.name: batch_entry(outcome, None) for outcome in work.known}
    for outcome in work.known:
        _tell(outcome)
    local = isinstance(work, Plan)
    if not local:  # URLs: an fsspec state; the lock of a local OUTDIR only (remote.py)
        from logfilter.batch import remote, store

        folder = store.local_path(work.outdir)  # -o /out and -o file:///out: one lock
        lock = contextlib.nullcontext() if folder is None else locked(folder)
        sweep_parts, new_state = store.sweep_parts, remote.UrlState
    else:
        lock, sweep_parts, new_state = locked(work.outdir), sweep, State
    with lock:
        sweep_parts(work.outdir)
        state, fingerprint = new_state(work.outdir), settings.fingerprint()
        todo = []
        for job in work.todo:
            recorded = None if force else state.up_to_date(job, fingerprint)
            if recorded is None:
                todo.append(job)
            else:
                entries[job.name] = {**recorded, "status": "up-to-date"}
        state.invalidate(todo)
        with _Progress(len(todo), sum(job.size for job in todo)) as progress:

            def on_outcome(job: Job, outcome: Outcome) -> None:
                entries[job.name] = item = batch_entry(outcome, job.target)
                if outcome.status in ("done", "kept"):
                    state.record(job, fingerprint, item)
                else:  # left out or failed: an output a former run made is stale now
                    state.forget(job)
                _tell(outcome, progress.say)
                progress.file_done()

            try:
                if on_cluster is None:
                    execute(todo, settings, workers, on_outcome, progress.read)
                else:
                    on_cluster(todo, on_outcome=on_outcome, outdir=str(work.outdir))
                    sweep_parts(work.outdir)  # the parts of attempts whose worker died
            except KeyboardInterrupt:
                sweep_parts(work.outdir)  # the workers are gone: leave nothing half written
                raise
        state.compact()
        progress.summary(entries.values())
    return [entries[name] for name in sorted(entries)]


def _tell(outcome: Outcome, say: Callable[[str], None] = _say) -> None:
    """Errors, files left out or kept unmasked, and lines failed closed go to stderr; nothing else."""
    if outcome.status == "failed":
        say(f"error: {outcome.reason}")
    for member in _all(outcome):
        if member.status == "omitted":
            say(f"left out: {member.name} ({member.reason})")
        elif member.status == "kept":
            say(f"kept unchanged, not masked (binary data, --keep-binary): {member.name}")
    for warning in outcome.warnings:
        say(f"warning: {warning}")
    if outcome.stats.failed_closed > len(outcome.warnings):
        say(f"warning: {outcome.name}: {outcome.stats.failed_closed} lines failed closed in all (see the report)")


def _all(outcome: Outcome) -> Iterator[Outcome]:
    yield outcome
    for member in outcome.members:
        yield from _all(member)


class _Progress:
    """A progress bar of files and bytes on a terminal; nothing otherwise."""

    def __init__(self, files: int, size: int) -> None:
        self._bar: Progress | None = None
        self._done, self._files, self._size = 0, files, size
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

    def _count(self) -> str:
        return f"{self._done}/{self._files} files"

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def say(self, message: str) -> None:
        if self._bar is None:
            _say(message)
        else:
            try:
                self._bar.console.print(f"logfilter: {message}", markup=False, highlight=False, soft_wrap=True)
            except OSError:
                pass

    def file_done(self) -> None:
        self._done += 1
        if self._bar is not None:
            # The byte counter may miss increments made by two workers at once; every file done is every byte.
            finished = {"completed": self._size} if self._done == self._files else {}
            self._bar.update(self._task, files=self._count(), **finished)

    def read(self, count: int) -> None:
        if self._bar is not None:  # an archive can be read more than once: never past the end
            self._bar.update(self._task, completed=min(count, self._size))

    def summary(self, entries: Iterable[dict[str, object]]) -> None:
        if self._bar is None:
            return
        counts: dict[str, int] = {}
        for item in entries:
            status = str(item["status"])
            counts[status] = counts.get(status, 0) + 1
        _say(", ".join(f"{count} {status}" for status, count in sorted(counts.items())))




def _on_sigterm_interrupt() -> dict[str, int]:
    """Make SIGTERM stop a batch the way Ctrl-C does; remember which signal it was."""
    caught: dict[str, int] = {}

    def handler(signum: int, frame: object) -> None:
        caught["signal"] = signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    return caught
