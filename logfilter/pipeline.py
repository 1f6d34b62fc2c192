"""The one loop: sources to lines, lines through the engine, output to the sink."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Literal

from logfilter.engines.fast import FastEngine
from logfilter.engines.walker import LineEngine, OnFailure, ReferenceEngine
from logfilter.errors import ConfigError, InputError
from logfilter.framing import MAX_LINE, BoundedFramer, mask_parts
from logfilter.rules.compiled import Chain
from logfilter.sinks import Sink
from logfilter.sources.files import HEAD, PACKED, Source, cr_only, sniff
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
    max_line: int = MAX_LINE,
) -> Stats:
    """Mask every source in order into the sink; return the counts.

    Output is flushed after every chunk read, so on a live pipe each line goes out as soon
    as it is complete. A KV line that cannot be parsed is masked whole and reported through
    `warn` (redact), or stops the run with InputError (fail); the report names the input
    and line, never its text. `factory` builds the engine for each input from its name
    instead of `engine` (jsonl.factory). Lines longer than `max_line` bytes go by parts
    (logfilter/overlong.py), so memory stays bounded whatever the input.
    """
    stats = stats if stats is not None else Stats()
    for source in sources:
        name = source.name
        fate = "left it out" if factory else "masked it whole"
        on_failure = failure_reporter(lambda lineno, name=name: f"{name}:{lineno}", on_error, warn, fate)
        masker = factory(name, chain, stats, on_failure) if factory else ENGINES[engine](chain, stats, on_failure)
        framer = BoundedFramer(max_line)
        lineno = 0
        for chunk in sniffed(source.chunks(), name):
            stats.bytes_in += len(chunk)
            parts = framer.feed(chunk)
            if not parts:
                continue
            out: list[bytes] = []
            try:
                lineno += mask_parts(masker, parts, lineno + 1, out)
            except InputError:
                _write(sink, b"".join(out), stats)  # everything before the line that stopped the run
                raise
            _write(sink, b"".join(out), stats, masker.mid_line)
        out = []
        mask_parts(masker, framer.finish(), lineno + 1, out)
        if out:
            _write(sink, b"".join(out), stats)
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


ADVICE = "use `logfilter batch` for archives and compressed logs"


def refuse_packed(head: bytes, name: str, advice: str = ADVICE, partial: bool = False) -> None:
    """Raise ConfigError when `head` starts compressed or archived data, or binary data, not a text log."""
    # Compressed or archived logs would pass through unread, and unmasked; so would UTF-16
    # or UTF-32 text (its KV lines do not read as such), which counts as binary (NUL bytes).
    kind = sniff(head[:HEAD], partial)
    if kind in PACKED:
        msg = f"{name}: {kind} data, not a text log; {advice}"
        raise ConfigError(msg)
    if kind == "binary" and cr_only(head):
        msg = f"{name}: CR-only line ends, not a text log logfilter reads; refused (tr '\\r' '\\n' converts it)"
        raise ConfigError(msg)
    if kind == "binary":
        msg = f"{name}: binary data (NUL bytes, or UTF-16/UTF-32 text), not a text log; refused (batch leaves such files out)"
        raise ConfigError(msg)


def sniffed(chunks: Iterator[bytes], name: str, advice: str = ADVICE) -> Iterator[bytes]:
    """The chunks, each once the first HEAD bytes seen so far still look like text.

    A live pipe's first read can be a few bytes: they go out at once (a line must not wait
    for 8 KiB), and the check is made again as the first HEAD bytes arrive; binary data found
    there stops the run (ConfigError) before the chunk that shows it is written. A partial
    head is judged as sniff(partial=True) does: no line of a CR-only head leaves the framer
    before a LF does, or before the whole head is judged.
    """
    head = b""
    for chunk in chunks:
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
            refuse_packed(head, name, advice, partial=len(head) < HEAD)
        yield chunk
    if len(head) < HEAD:
        refuse_packed(head, name, advice)  # the whole input, shorter than HEAD, seen as one


def _write(sink: Sink, data: bytes, stats: Stats, partial: bool = False) -> None:
    sink.write(data)
    sink.flush()
    stats.wrote(data, partial)
