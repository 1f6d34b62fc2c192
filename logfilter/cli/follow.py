"""`logfilter follow`: the sidecar (logfilter.follow.service), started from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logfilter.cli.command import Command, commands
from logfilter.cli.options import RULES, WALK, RuleOptions, WalkOptions, shared_options
from logfilter.cli.printing import say, silence_stdout
from logfilter.cli.types import FileName, Folder
from logfilter.errors import ConfigError, InputError
from logfilter.follow.options import Options
from logfilter.follow.service import serve

app = commands()
OUTDIR = Folder("OUTDIR")
STATE = FileName(
    "STATEFILE", lambda path: f"{path}: --state is a folder; give a file name, e.g. {path / 'follow.json'}"
)


@app.command(cls=Command)
@shared_options
def follow(
    patterns: Annotated[
        list[str],
        typer.Argument(
            metavar="PATTERN",
            help="Glob patterns of the files to follow (quote them: they are looked up again every second).",
        ),
    ],
    state: Annotated[
        Path,
        typer.Option(
            "--state", parser=STATE, metavar=STATE.metavar, help="Where the checkpoints are kept (JSON)."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", parser=OUTDIR, metavar=OUTDIR.metavar, help="Write each file's sanitized copy here, same name."
        ),
    ] = None,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Write the messages of every file to stdout, whole messages only.")
    ] = False,
    listen: Annotated[
        str | None,
        typer.Option("--listen", metavar="HOST:PORT", help="Serve /healthz and /metrics here (loopback only)."),
    ] = None,
    listen_any: Annotated[
        bool, typer.Option("--listen-any", help="Allow --listen on an address other machines can reach.")
    ] = False,
    from_end: Annotated[
        bool,
        typer.Option(
            "--from-end/--from-start",
            help="Where to start in files that are there at the first start: their last message, or "
            "(default) their first byte. Files that appear later are read from the start.",
        ),
    ] = False,
    unmatched_grace: Annotated[
        float,
        typer.Option(
            "--unmatched-grace", metavar="SECONDS", min=0,
            help="How long /healthz stays 200 while no pattern matches any file (an empty log folder "
            "before the server's first write); then 503 until one does.",
        ),
    ] = 300.0,
    rules: RuleOptions = RULES,
    walk: WalkOptions = WALK,
) -> None:
    """Follow log files as they grow and rotate, writing sanitized copies; resume where it stopped.

    SIGTERM or SIGINT: emit what is complete, checkpoint, exit 0 (3 while a file is stopped
    at a line it could not read under --on-error fail; the others are followed meanwhile). SIGHUP: reload the rules
    (an invalid file is reported and the rules in use are kept).
    """
    if (output is None) == (not stdout):
        msg = "follow: give exactly one of -o OUTDIR and --stdout"
        raise ConfigError(msg)
    options = Options(
        tuple(patterns), output, state, from_end, walk.on_error, walk.engine, walk.output_format, walk.all_lines,
        unmatched_grace,
    )
    try:
        follower = serve(options, rules.compile, say, config=rules.config, listen=listen, listen_any=listen_any)
    except BrokenPipeError:
        silence_stdout()
        say("error: <stdout>: the reader went away; stopped (the checkpoint is kept)")
        raise typer.Exit(1) from None
    say(f"stopped: {follower.stats.summary()}")
    failed = [tail.name for tail in follower.tails.values() if tail.failed]
    if failed:  # the sidecar stayed up for the other files; the exit status still says so
        say(f"error: not followed to their end (--on-error fail): {', '.join(failed)}")
        raise typer.Exit(InputError.exit_code)
