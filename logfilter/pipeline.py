"""The one loop: sources to lines, lines through the engine, output to the sink."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from logfilter.chain import Chain
from logfilter.engine import LineEngine, OnFailure, ReferenceEngine
from logfilter.errors import ConfigError, InputError
from logfilter.fast import FastEngine
from logfilter.sinks import Sink
from logfilter.sources import HEAD, PACKED, LineFramer, Source, sniff
from logfilter.stats import Stats

OnError = Literal["redact", "fail"]
Warn = Callable[[str], None]
EngineName = Literal["fast", "reference"]
ENGINES: dict[str, type[LineEngine]] = {"fast": FastEngine, "reference": ReferenceEngine}
# Builds the engine for one input from the input's name (jsonl.factory).
EngineFactory = Callable[[str, Chain, Stats, OnFailure], LineEngine]


def run(
    sources: Iterable[Source],
    chain: Chain,
    sink: Sink,
    *,
    on_error: OnError = "redact",
    warn: Warn = lambda message: None,
    stats: Stats | None = None,
    engine: EngineName = "fast",
    factory: EngineFactory | None = None,
) -> Stats:
    """Mask every source in order into the sink; return the counts.

    Output is flushed after every chunk read, so on a live pipe each line goes out as soon
    as it is complete. A KV line that cannot be parsed is masked whole and reported through
    `warn` (redact), or stops the run with InputError (fail); the report names the input
    and line, never its text. `factory` builds the engine for each input from its name
    instead of `engine` (jsonl.factory).
    """
    stats = stats if stats is not None else Stats()
    for source in sources:
        name = source.name
        fate = "left it out" if factory else "masked it whole"
        on_failure = failure_reporter(lambda lineno, name=name: f"{name}:{lineno}", on_error, warn, fate)
        masker = factory(name, chain, stats, on_failure) if factory else ENGINES[engine](chain, stats, on_failure)
        framer = LineFramer()
        lineno = 0
        first = True
        for chunk in source.chunks():
            if first:
                refuse_packed(chunk, name)
                first = False
            stats.bytes_in += len(chunk)
            data = framer.feed_lines(chunk)
            if not data:
                continue
            out: list[bytes] = []
            try:
                lineno += masker.feed(data, lineno + 1, out)
            except InputError:
                _write(sink, b"".join(out), stats)  # everything before the line that stopped the run
                raise
            _write(sink, b"".join(out), stats)
        rest = framer.finish()
        if rest:
            _write(sink, masker.process(rest, lineno + 1), stats)
        held = masker.flush(True)
        if held:
            _write(sink, held, stats)
    return stats


def failure_reporter(
    where: Callable[[int], str], on_error: OnError, warn: Warn, fate: str = "masked it whole"
) -> OnFailure:
    """What an engine calls for a KV line it cannot parse: stop with InputError, or warn.

    `where(lineno)` names the input and line; the message never holds the line's text.
    `fate` says what became of the line (the JSON engine leaves it out).
    """

    def on_failure(lineno: int, attribute: str) -> None:
        if on_error == "fail":
            msg = f"{where(lineno)}: unparsable line in an {attribute} block; stopped (--on-error fail)"
            raise InputError(msg)
        warn(f"{where(lineno)}: unparsable line in an {attribute} block; {fate} (failed closed)")

    return on_failure


def refuse_packed(head: bytes, name: str, advice: str = "use `logfilter batch` for archives and compressed logs") -> None:
    """Raise ConfigError when `head` starts compressed or archived data, not a text log."""
    # Compressed or archived logs would pass through unread, and unmasked.
    kind = sniff(head[:HEAD])
    if kind in PACKED:
        msg = f"{name}: {kind} data, not a text log; {advice}"
        raise ConfigError(msg)


def _write(sink: Sink, data: bytes, stats: Stats) -> None:
    sink.write(data)
    sink.flush()
    stats.wrote(data)
