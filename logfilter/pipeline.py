"""The one loop: each input is judged as it arrives, framed with the line bound, walked, and written.

    source ─> sniff (sources/sniff.py) ─> BoundedFramer (framing.py) ─> walk ─> sink

The judgement is of all of the input: its head (and a file's trailer) before anything is
written, then every chunk after it (sources/chunk_judge.py), before anything of that chunk is framed.

Every command goes through it. `run` (run and batch) builds each input's walk in the
registry (engines/registry.py); scan, keys and preview call `walk_input` with their own
handler's walk and a NullSink, and read their results from the handler; `untag` walks with
its own Walk (engines/untag.py). Follow drives the same InputStream for each followed file,
framing as the file grows and walking at split points (follow/tail.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol

from logfilter.engines.handler import OnFailure, Walk
from logfilter.engines.registry import FATES, EngineName, Format, WalkChoice
from logfilter.errors import ConfigError, InputError, LogFilterError
from logfilter.framing import END, LINES, MAX_LINE, REST, BoundedFramer, Part
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.sinks.streams import Sink
from logfilter.sources.chunk_judge import ChunkJudge
from logfilter.sources.files import CHUNK, FileSource, Source, StdinSource
from logfilter.sources.sniff import LONGEST_OPENER_WORD, SNIFF_SIZE, Verdict, holds_kv, judge, read_tail
from logfilter.stats import Stats

if TYPE_CHECKING:
    from logfilter.engines.untag import TagPair, UntagStats

__all__ = ["InputStream", "NotALog", "copy_kept", "failure_reporter", "refusal", "run", "untag", "walk_input"]

OnError = Literal["redact", "fail"]
Warn = Callable[[str], None]
# What an input that is no text log raises: run and untag refuse with ConfigError, follow stops following.
Refuse = Callable[[Verdict], LogFilterError]
ADVICE = "use `logfilter batch` for archives and compressed logs"


class NotALog(ConfigError):
    """An input, or a stretch of one, that is no text log, refused where it shows (run, untag, scan: exit 2)."""

    def __init__(self, message: str, verdict: Verdict) -> None:
        super().__init__(message)
        self.verdict = verdict  # batch words it as a file left out


class Counts(Protocol):
    """What the loop counts: Stats, or untag's counts."""

    bytes_in: int

    def wrote(self, data: bytes, partial: bool = False) -> None: ...


class InputStream:
    """One input on its way through the loop: its head judged as it arrives, framed, walked.

    `frame` and `walk_parts` are two steps, so follow can hold framed lines until a split point.
    `head`: the input's first bytes already seen (a restart inside them); `judge_at_end`: an
    input shorter than the head is judged whole at its end (not a followed file, which may grow);
    `tail`: a file's last bytes (sniff.read_tail), judged with its head.
    """

    def __init__(
        self, walk: Walk, refuse: Refuse, max_line: int = MAX_LINE, head: bytes = b"", judge_at_end: bool = True,
        tail: bytes | None = None,
    ) -> None:  # fmt: skip
        self.walk = walk  # follow swaps in a new one at a split point when the rules change
        self._refuse = refuse
        self._framer = BoundedFramer(max_line)
        self._head = head[:SNIFF_SIZE]
        self._judge_at_end = judge_at_end
        self._tail = tail
        # What follows a whole head is judged chunk by chunk (a restart past the head: from there).
        self._chunks: ChunkJudge | None = ChunkJudge(self._head) if len(self._head) == SNIFF_SIZE else None

    def frame(self, chunk: bytes) -> list[Part]:
        """The whole lines and line parts `chunk` completes.

        A live pipe's first read can be a few bytes: they go on at once (a line must not wait
        for 8 KiB), and the head is judged again as it grows; data found there, or after it,
        that is no text log is refused before anything of the chunk that shows it is framed.
        A partial head is judged as sniff.judge(partial=True) does.
        """
        rest = chunk
        if self._chunks is None:
            rest = chunk[SNIFF_SIZE - len(self._head) :]
            self._head += chunk[: SNIFF_SIZE - len(self._head)]
            self._judge(partial=len(self._head) < SNIFF_SIZE)
            if len(self._head) == SNIFF_SIZE:
                self._chunks = ChunkJudge(self._head)
        if rest and self._chunks is not None:
            verdict = self._chunks.feed(rest)
            if verdict is not None:
                raise self._refuse(verdict)
        return self._framer.feed(chunk)

    def finish(self) -> list[Part]:
        """What is left at the end of the input: the end of an overlong line, or an unended line."""
        if self._judge_at_end and len(self._head) < SNIFF_SIZE:
            self._judge(partial=False)  # the whole input, shorter than a head, seen as one
        return self._framer.finish()

    def walk_parts(self, parts: Iterable[Part], lineno: int, out: list[bytes]) -> int:
        """Append the walk's output for `parts` (the first line is `lineno`) to `out`; return the lines read.

        Output for the lines before a failure that raises is already in `out`.
        """
        walk, done = self.walk, 0
        for kind, data in parts:
            if kind == LINES:
                done += walk.feed(data, lineno + done, out)
            elif kind == REST:
                out.append(walk.process(data, lineno + done))
                done += 1
            else:
                out.append(walk.overlong(data, kind, lineno + done))
                done += kind == END
        return done

    def _judge(self, partial: bool) -> None:
        verdict = judge(self._head, partial, self._tail)
        if not verdict.is_text:
            raise self._refuse(verdict)


def refusal(name: str, advice: str = ADVICE) -> Refuse:
    """How run and untag refuse an input that is no text log: NotALog (exit 2), said once."""
    return lambda verdict: NotALog(verdict.refusal(name, advice), verdict)


def tail_of(source: Source) -> bytes | None:
    """The trailer of a source that is a file (sniff.read_tail), or None: a zip's end record shows there."""
    if isinstance(source, FileSource):
        try:
            with open(source.path, "rb", buffering=0) as stream:
                return read_tail(stream.fileno())
        except OSError:
            return None  # reading it says why
    if isinstance(source, StdinSource):
        return read_tail(source.fd)
    return None  # a stream: its reader judged what holds it (an archive member, a batch input)


def copy_kept(reader: BinaryIO, writer: BinaryIO) -> str | None:
    """Copy binary data that batch --keep-binary keeps; stop at the first KV block opener in it.

    Return why it is left out after all (it names a KV attribute or a KVList: it holds
    customer data, maybe a text log with a NUL in its head), or None when it was copied whole.
    """
    before = b""
    while chunk := reader.read(CHUNK):
        if holds_kv(before + chunk):
            return "binary data that names a KV block's attribute (customer data): never kept unmasked, even with --keep-binary"
        writer.write(chunk)
        before = chunk[-LONGEST_OPENER_WORD:]
    return None


def walk_input(
    source: Source, walk: Walk, sink: Sink, counts: Counts, *, max_line: int = MAX_LINE, advice: str = ADVICE
) -> Iterator[None]:
    """The loop over one input; yields after the output of each chunk is written (a caller may stop there).

    Output is flushed after every chunk read, so on a live pipe each line goes out as soon as
    it is complete. An InputError from the walk stops it, the output before the line that
    raised written first.
    """
    stream = InputStream(walk, refusal(source.name, advice), max_line, tail=tail_of(source))
    lineno = 0
    for chunk in source.chunks():
        parts = stream.frame(chunk)
        counts.bytes_in += len(chunk)
        if not parts:
            continue
        out: list[bytes] = []
        try:
            lineno += stream.walk_parts(parts, lineno + 1, out)
        except InputError:
            _write(sink, b"".join(out), counts)  # everything before the line that stopped the run
            raise
        _write(sink, b"".join(out), counts, walk.mid_line)
        yield
    out = []
    stream.walk_parts(stream.finish(), lineno + 1, out)
    if out:
        _write(sink, b"".join(out), counts)
    held = walk.flush(True)
    if held:
        _write(sink, held, counts)


def run(
    sources: Iterable[Source],
    rules: Rules,
    sink: Sink,
    *,
    on_error: OnError = "redact",
    warn: Warn = lambda message: None,
    stats: Stats | None = None,
    engine: EngineName = "fast",
    output_format: Format = "tlib",
    all_lines: bool = False,
    max_line: int = MAX_LINE,
) -> Stats:
    """Mask every source in order into the sink; return the counts.

    A KV line that cannot be parsed is masked whole (left out of JSON) and reported through
    `warn` (redact), or stops the run with InputError (fail); the report names the input and
    line, never its text. Lines longer than `max_line` bytes go by parts (framing.py), so
    memory stays bounded whatever the input.
    """
    stats = stats if stats is not None else Stats()
    choice = WalkChoice(engine, output_format, all_lines)
    for source in sources:
        name = source.name
        on_failure = failure_reporter(lambda lineno, name=name: f"{name}:{lineno}", on_error, warn, choice.fate)
        for _written in walk_input(source, choice.build(name, rules, stats, on_failure), sink, stats, max_line=max_line):
            pass  # run reads every input to its end
    return stats


def untag(
    sources: Iterable[Source],
    pairs: Iterable[TagPair],
    filter_type: FilterType | None,
    sink: Sink,
    *,
    warn: Warn = lambda message: None,
    stats: UntagStats | None = None,
) -> UntagStats:
    """Untag every source in order into the sink, flushing after every chunk; return the counts.

    A tag with no closing tag on its line, and a line too long to read whole, are reported
    through `warn` by input and line, never by content (engines/untag.py:untag_walk).
    """
    from logfilter.engines.untag import ADVICE as UNTAG_ADVICE  # (run starts without it)
    from logfilter.engines.untag import UntagStats, untag_walk

    stats = stats if stats is not None else UntagStats()
    pairs = tuple(pairs)
    for source in sources:
        walk = untag_walk(source.name, pairs, filter_type, stats, warn)
        for _written in walk_input(source, walk, sink, stats, advice=UNTAG_ADVICE):
            pass  # every input is read to its end
    return stats


def failure_reporter(
    where: Callable[[int], str], on_error: OnError, warn: Warn, fate: str = FATES["tlib"].one
) -> OnFailure:
    """What a walk calls for a KV line it cannot parse: stop with InputError, or warn.

    `where(lineno)` names the input and line; the message never holds the line's text.
    `fate` says what became of the line (the JSON output leaves it out).
    """

    def on_failure(lineno: int, attribute: str) -> None:
        # A KV line names its block; a line an identity rule reads names itself (`SIP From header`).
        what = attribute if " " in attribute else f"line in an {attribute} block"
        if on_error == "fail":
            msg = f"{where(lineno)}: unparsable {what}; stopped (--on-error fail)"
            raise InputError(msg)
        warn(f"{where(lineno)}: unparsable {what}; {fate} (failed closed)")

    return on_failure


def _write(sink: Sink, data: bytes, counts: Counts, partial: bool = False) -> None:
    sink.write(data)
    sink.flush()
    counts.wrote(data, partial)
