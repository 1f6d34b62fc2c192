"""`logfilter batch`: files, folders and archives into OUTDIR, on local processes or a Dask cluster."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from logfilter import reports
from logfilter.batch.run import Interrupted
from logfilter.batch.run import run as run_batch
from logfilter.batch.settings import Settings
from logfilter.cli.batch_reporter import TerminalReporter
from logfilter.cli.command import Command, commands
from logfilter.cli.options import REPORT, RULES, WALK, RuleOptions, WalkOptions, shared_options
from logfilter.cli.printing import say
from logfilter.cli.types import WholeNumber
from logfilter.errors import ConfigError
from logfilter.sources.limits import Limits

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
            help="Run the files on a Dask cluster (tls://host:8786), or on local[:N] worker processes (TLS too).",
        ),
    ] = None,
    split_size: Annotated[
        str | None,
        typer.Option(
            "--split-size", metavar="SIZE",
            help="With --scheduler: split text files over SIZE (default 1G) into ranges of SIZE/4.",
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state", metavar="DIR",
            help="Where the batch state (which outputs are done, from which inputs) is kept (default: OUTDIR.logfilter beside OUTDIR).",
        ),
    ] = None,
    insecure_scheduler: Annotated[
        bool,
        typer.Option(
            "--insecure-scheduler",
            help="Accept a --scheduler without TLS (tcp://): anyone on its network can read the tasks and run code on the workers.",
        ),
    ] = False,
    archive_limits: Annotated[
        str | None,
        typer.Option(
            "--archive-limits", metavar="NAME=VALUE,...",
            help="Raise what one input may unpack to: bytes=64G (all levels), ratio=200 (times its size), "
            "members=100000, header=64K (a member name or tar header).",
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
    try:
        chosen = walk.output_format
        if keep_binary and chosen == "jsonl":
            msg = "--keep-binary cannot go with --format jsonl (binary data is not JSON lines)"
            raise ConfigError(msg)
        limits = Limits.parse(archive_limits) if archive_limits is not None else Limits()
        settings = Settings(rules.policy(), walk.engine, walk.on_error, keep_binary, chosen, walk.all_lines, limits=limits)
        result = run_batch(
            inputs, outdir, settings, TerminalReporter(say), jobs=jobs, force=force, scheduler=scheduler,
            split_size=split_size, report_path=report, state=state, insecure_scheduler=insecure_scheduler,
        )  # fmt: skip
        if report is not None:
            reports.write(report, result.report)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM once the batch runs (Interrupted says which)
        say("interrupted: outputs already complete are kept; run the same command again to finish")
        raise typer.Exit(128 + (stop.signum if isinstance(stop, Interrupted) else signal.SIGINT)) from None
    if result.failed:
        raise typer.Exit(1)
