"""`run --preview`: the KV lines of a few example messages, before and after the rules, for a person to read.

It prints original values, so cli.py shows it only on a terminal unless told otherwise.
The lines are masked by the engines' block logic (LineEngine with regex_parser.py's parser), so
what is shown is what `run` writes. Reading stops once enough messages are collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from logfilter.engines.walker import Block, LineEngine, split_eol
from logfilter.parsing import regex_parser
from logfilter.rules.compiled import Chain
from logfilter.sources.archives import escape_controls
from logfilter.sources.files import LineFramer, Source
from logfilter.stats import Stats

DEFAULT_MESSAGES = 3
MAX_MESSAGES = 100
# Everything that could move the cursor or change the terminal; a TAB stays a TAB.


@dataclass(frozen=True, slots=True)
class Change:
    """One KV line: where it is, its block's attribute, and its text before and after (None: removed)."""

    lineno: int
    attribute: str
    before: bytes
    after: bytes | None


@dataclass(slots=True)
class Example:
    """The KV lines of one message of one input."""

    name: str
    changes: list[Change] = field(default_factory=list)


class PreviewEngine(LineEngine):
    """Masks like the engines and keeps each KV line's before and after."""

    parse_kv_line = staticmethod(regex_parser.parse_kv_line)
    parse_opener = staticmethod(regex_parser.parse_opener)

    def __init__(self, chain: Chain, stats: Stats) -> None:
        super().__init__(chain, stats, lambda lineno, attribute: None)
        self.seen: list[tuple[int, Change]] = []  # (message number, change)
        self._lineno = 0

    def process(self, line: bytes, lineno: int) -> bytes:
        self._lineno = lineno
        return super().process(line, lineno)

    def _kv_line(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        out = super()._kv_line(block, body, eol, lineno)
        if body.strip():
            after = split_eol(out)[0] if out else None
            self.seen.append((self._stats.messages, Change(lineno, block.attribute, body, after)))
        return out


def examples(sources: Iterable[Source], chain: Chain, count: int = DEFAULT_MESSAGES) -> Iterator[Example]:
    """The first `count` messages (across the inputs, in order) that have KV lines."""
    given = 0
    for source in sources:
        for example in _examples(source, chain):
            yield example
            given += 1
            if given == count:
                return


def _examples(source: Source, chain: Chain) -> Iterator[Example]:
    engine = PreviewEngine(chain, Stats())
    framer, lineno = LineFramer(), 1
    current: tuple[int, Example] | None = None

    def collect() -> Iterator[Example]:
        nonlocal current
        for message, change in engine.seen:
            if current is not None and current[0] != message:
                yield current[1]
                current = None
            if current is None:
                current = (message, Example(source.name))
            current[1].changes.append(change)
        engine.seen.clear()

    for chunk in source.chunks():
        for line in framer.feed(chunk):
            engine.process(line, lineno)
            lineno += 1
            yield from collect()
    rest = framer.finish()
    if rest:
        engine.process(rest, lineno)
    yield from collect()
    if current is not None:
        yield current[1]


def render(example: Example) -> list[str]:
    """Lines for the terminal: each KV line as `-` before and `+` after, or `=` when unchanged."""
    lines = [f"{example.name}:{example.changes[0].lineno}:"]
    attribute = None
    for change in example.changes:
        if change.attribute != attribute:
            attribute = change.attribute
            lines.append(f"  {attribute}")
        if change.after == change.before:
            lines.append(f"= {_shown(change.before)}")
            continue
        lines.append(f"- {_shown(change.before)}")
        lines.append("+ (line removed)" if change.after is None else f"+ {_shown(change.after)}")
    return lines


def _shown(line: bytes) -> str:
    return escape_controls(line.decode("utf-8", "backslashreplace"), keep_tabs=True)
