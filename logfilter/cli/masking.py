"""What `logfilter run` does once its flags are read, and how run and untag stream to one output.

Typer-free, so that the quick start (quick.py) and the Typer command (run.py) call the same
code: the rules compiled, the inputs (none: stdin) masked into -o or stdout, what failed
closed and the counts said on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from logfilter.cli.printing import capped_warnings, say, silence_stdout, tell_unmatched
from logfilter.errors import ConfigError, LogFilterError
from logfilter.rules.compiled import Rules
from logfilter.sinks.modes import mode_of_inputs
from logfilter.sinks.streams import StreamSink, set_aside, std
from logfilter.pipes import widen
from logfilter.sources.files import FileSource, Source, StdinSource, file_modes

Counts = TypeVar("Counts")


def mask_logs(
    rules: Rules, inputs: Sequence[str] | None, output: str | None, stats: bool,
    on_error: str, engine: str, output_format: str, all_lines: bool,
) -> None:  # fmt: skip
    """Mask the inputs into the output under `rules` as `run` does; say what failed closed, and the counts if `stats`."""
    from logfilter.pipeline import run as run_pipeline

    warn = capped_warnings("more lines failed closed; they are counted, not listed")
    counts = stream(inputs, output, lambda sources, sink: run_pipeline(
        sources, rules, sink, on_error=on_error, warn=warn, engine=engine,  # type: ignore[arg-type]
        output_format=output_format, all_lines=all_lines,  # type: ignore[arg-type]
    ))  # fmt: skip
    if counts is None:
        return  # the reader went away
    if counts.failed_closed:
        from logfilter.engines.registry import FATES

        fate = FATES[output_format].many  # the warnings' words for it are the registry's too
        where = "inside KV blocks" + (" or read by identity rules" if rules.identity else "")
        say(f"{counts.failed_closed} lines {where} could not be parsed and were {fate}")
    tell_unmatched(counts.unmatched_rules(rules))
    if stats:
        say(counts.summary())


def stream(
    inputs: Sequence[str] | None, output: str | None, work: Callable[[list[Source], StreamSink], Counts]
) -> Counts | None:
    """Run `work` from the inputs (none: stdin) to -o or stdout and close the output; return its counts.

    The reader going away (`logfilter run big.log | head`) stops quietly: None, and the
    command says nothing more (exit 0); any other LogFilterError goes on to be reported
    with its exit code.
    """
    sources: list[Source] = [StdinSource() if item == "-" else FileSource(Path(item)) for item in inputs or ["-"]]
    try:
        sink = _sink(output, sources)
        try:
            counts = work(sources, sink)
            sink.close()  # a failure to write the last bytes is an error like any other
        except BaseException as exc:
            _close_quietly(sink)  # the error in flight is the one to report
            aside = set_aside(Path(output)) if output not in (None, "-") else None
            if aside is not None and isinstance(exc, LogFilterError):
                exc.args = (f"{exc}; the output so far is in {aside}",)
            raise
    except BrokenPipeError:
        silence_stdout()
        return None
    return counts


def _sink(output: str | None, sources: list[Source]) -> StreamSink:
    if output is None or output == "-":
        try:
            stdout = std("stdout")
        except LogFilterError as exc:  # started with stdout closed (`>&-`)
            raise LogFilterError(f"{exc}; give -o FILE") from None
        widen(stdout)
        return StreamSink(stdout.buffer, "<stdout>")
    target = Path(output)
    for source in sources:
        if isinstance(source, FileSource) and target.exists() and target.samefile(source.path):
            msg = f"{output}: the output is also an input; refusing to overwrite it"
            raise ConfigError(msg)
    return StreamSink.to_path(target, mode_of_inputs(file_modes(sources)))  # never readable by more than its inputs


def _close_quietly(sink: StreamSink) -> None:
    try:
        sink.close()
    except BrokenPipeError:
        silence_stdout()
    except LogFilterError:
        pass
