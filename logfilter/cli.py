"""The command line: the only module that reads argv, prints, and picks exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from logfilter.chain import compile_policy
from logfilter.config import load_policy
from logfilter.errors import ConfigError, LogFilterError
from logfilter.pipeline import ENGINES, EngineName, OnError
from logfilter.pipeline import run as run_pipeline
from logfilter.sinks import StreamSink
from logfilter.sources import FileSource, Source, StdinSource

# Locals of this program hold log data: never show them in a traceback.
app = typer.Typer(
    pretty_exceptions_show_locals=False,
    add_completion=False,
    no_args_is_help=True,
    help="Mask customer data in Genesys T-Library logs, as the servers' log-filter options do.",
)

MAX_WARNINGS = 20


def _say(message: str) -> None:
    sys.stderr.write(f"logfilter: {message}\n")
    sys.stderr.flush()


def _die(exc: LogFilterError) -> NoReturn:
    sys.stderr.write(f"error: {exc}\n")
    raise typer.Exit(exc.exit_code)


@app.callback()
def main() -> None:
    """Mask customer data in Genesys T-Library logs."""


@app.command()
def run(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[INPUT]...", help="Log files to read in order; none or - reads stdin."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("-c", "--config", help="Genesys option text with [log-filter] and [log-filter-data]."),
    ] = None,
    default: Annotated[
        str | None,
        typer.Option("--default", help="default-filter-type, overriding the file (e.g. hide, copy)."),
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option("--key", metavar="KEY=TYPE", help="A per-key rule, overriding the file; repeatable."),
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write here instead of stdout (- is stdout).")
    ] = None,
    on_error: Annotated[
        str,
        typer.Option("--on-error", help="redact: mask an unparsable KV line whole and go on; fail: stop (exit 3)."),
    ] = "redact",
    ignore_key_case: Annotated[
        bool, typer.Option("--ignore-key-case", help="Match rule keys to log keys ignoring case.")
    ] = False,
    stats: Annotated[bool, typer.Option("--stats", help="Print a one-line summary on stderr.")] = False,
    engine: Annotated[
        str,
        typer.Option("--engine", help="fast (default), or reference: the Lark parser on every line, for debugging."),
    ] = "fast",
) -> None:
    """Mask the KV pairs of AttributeUserData, AttributeExtensions and AttributeReason(s)."""
    try:
        if on_error not in ("redact", "fail"):
            msg = f"--on-error {on_error!r}: expected redact or fail"
            raise ConfigError(msg)
        if engine not in ENGINES:
            msg = f"--engine {engine!r}: expected {' or '.join(ENGINES)}"
            raise ConfigError(msg)
        policy = load_policy(config, default, key or (), ignore_key_case)
        sources = _sources(inputs or ["-"])
        sink = _sink(output, sources)
        warnings = 0

        def warn(message: str) -> None:
            nonlocal warnings
            warnings += 1
            if warnings <= MAX_WARNINGS:
                _say(f"warning: {message}")
            elif warnings == MAX_WARNINGS + 1:
                _say("warning: more lines failed closed; they are counted, not listed")

        try:
            counts = run_pipeline(
                sources, compile_policy(policy), sink, on_error=_mode(on_error), warn=warn, engine=_engine(engine)
            )
        except BaseException:
            _close_quietly(sink)  # the error in flight is the one to report
            raise
        sink.close()  # a failure to write the last bytes is an error like any other
    except BrokenPipeError:
        # The reader went away (`logfilter run big.log | head`): stop quietly.
        _silence_stdout()
        raise typer.Exit(0) from None
    except LogFilterError as exc:
        _die(exc)
    if counts.failed_closed:
        _say(f"{counts.failed_closed} lines inside KV blocks could not be parsed and were masked whole")
    if stats:
        _say(counts.summary())


def _mode(text: str) -> OnError:
    return "fail" if text == "fail" else "redact"


def _engine(text: str) -> EngineName:
    return "reference" if text == "reference" else "fast"


def _sources(inputs: list[str]) -> list[Source]:
    sources: list[Source] = []
    for item in inputs:
        if item == "-":
            sources.append(StdinSource())
            continue
        path = Path(item)
        if not path.exists():
            msg = f"{item}: no such input file"
            raise ConfigError(msg)
        if path.is_dir():
            msg = f"{item}: is a folder; run reads files (use batch for folders)"
            raise ConfigError(msg)
        if not os.access(path, os.R_OK):
            msg = f"{item}: input file is not readable"
            raise ConfigError(msg)
        sources.append(FileSource(path))
    return sources


def _sink(output: str | None, sources: list[Source]) -> StreamSink:
    if output is None or output == "-":
        return StreamSink(sys.stdout.buffer, "<stdout>")
    target = Path(output)
    for source in sources:
        if isinstance(source, FileSource) and target.exists() and target.samefile(source.path):
            msg = f"{output}: the output is also an input; refusing to overwrite it"
            raise ConfigError(msg)
    return StreamSink.to_path(target)


def _close_quietly(sink: StreamSink) -> None:
    try:
        sink.close()
    except BrokenPipeError:
        _silence_stdout()
    except LogFilterError:
        pass


def _silence_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def entry() -> None:
    """Console-script entry point: run the app; an unexpected error never prints data."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence against leaking locals
        sys.stderr.write(f"error: internal error ({type(exc).__name__}); no log data is shown\n")
        sys.exit(1)
