"""`run --preview`: the KV lines of a few example messages, before and after the rules, for a person to read.

It prints original values, so cli/run.py shows it only on a terminal unless told otherwise.
The input goes through the one loop and the compiled scanner with a PreviewHandler (the
lines it hands over through its Walker), which renders each pair as `run` does (render.py)
and keeps each KV line's before and after, so what is shown is what `run` writes. Lines that [log-filter-attributes]
rules name are shown with their message; each SIP message a [log-filter-sip] rule reads is a
message of its own. Reading stops (the loop is left) once enough messages are collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from logfilter.engines.blocks import Block, split_eol
from logfilter.engines.handler import Handler
from logfilter.engines.registry import collecting
from logfilter.engines.render import RenderHandler
from logfilter.identity.reader import SIP_KINDS, Found
from logfilter.identity.reader import render as render_identity
from logfilter.names import escape_controls, printable
from logfilter.parsing.model import KVLine, Pair
from logfilter.pipeline import walk_input
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.rules.identity_rules import ATTRIBUTES_SECTION, SIP_SECTION
from logfilter.sinks.streams import NullSink
from logfilter.sources.files import Source
from logfilter.stats import Stats

DEFAULT_MESSAGES = 3
MAX_MESSAGES = 100


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


class PreviewHandler(Handler):
    """Renders like `run` and keeps each KV line's before and after, with the message it is in.

    The compiled scanner renders most KV lines itself and tells `line_seen` of each; the lines
    it hands over come through `kv_line_done`, from its Walker."""

    preview = True  # the scanner tells it each KV line it reads, and its output (line_seen)

    def __init__(self, rules: Rules, stats: Stats) -> None:
        self._render = RenderHandler(rules, stats)
        self._rules, self._stats = rules, stats
        self._sip = 0  # SIP messages seen: each is a message of its own
        self.seen: list[tuple[object, Change]] = []  # (message number, change)

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        return self._render.leaf(kv, pair, chosen, block)

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        self._render.list_skipped(pair, rule, block)

    def kv_line_done(self, body: bytes, lineno: int, block: Block, out: bytes) -> None:
        self.line_seen(lineno, block.attribute, body, split_eol(out)[0] if out else None, self._stats.messages)

    def line_seen(self, lineno: int, attribute: str, body: bytes, after: bytes | None, message: int) -> None:
        """A KV line (no line ending) of `attribute`'s block in message number `message`, and what
        run writes for it (None: nothing)."""
        if body.strip():
            self.seen.append((message, Change(lineno, attribute, body, after)))

    def identity_line(self, found: Found, lineno: int) -> bytes | None:
        out = render_identity(found, self._rules, self._stats)
        sip = found.kind in SIP_KINDS
        self._sip += found.kind == "intro"
        if found.rule is not None or found.failed is not None:
            message = ("sip", self._sip) if sip else self._stats.messages
            heading = f"[{SIP_SECTION if sip else ATTRIBUTES_SECTION}]"
            self.seen.append((message, Change(lineno, heading, found.body, out)))
        return out

    def emit(self, out: bytes) -> bytes:
        return b""  # the before and after are kept, not written


def examples(sources: Iterable[Source], rules: Rules, count: int = DEFAULT_MESSAGES) -> Iterator[Example]:
    """The first `count` messages (across the inputs, in order) that have KV lines."""
    given = 0
    for source in sources:
        for example in _examples(source, rules):
            yield example
            given += 1
            if given == count:
                return


def _examples(source: Source, rules: Rules) -> Iterator[Example]:
    stats = Stats()
    handler = PreviewHandler(rules, stats)
    current: tuple[object, Example] | None = None

    def collect() -> Iterator[Example]:
        nonlocal current
        for message, change in handler.seen:
            if current is not None and current[0] != message:
                yield current[1]
                current = None
            if current is None:
                current = (message, Example(source.name))
            current[1].changes.append(change)
        handler.seen.clear()

    # Left at a yield when the caller has enough: the rest of the input is not read.
    for _written in walk_input(source, collecting(rules, stats, handler), NullSink(), stats):
        yield from collect()
    yield from collect()
    if current is not None:
        yield current[1]


def render(example: Example) -> list[str]:
    """Lines for the terminal: each KV line as `-` before and `+` after, or `=` when unchanged."""
    lines = [f"{printable(example.name)}:{example.changes[0].lineno}:"]
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
