"""Finds the values that `tag()` wrapped in tags, on any line, and hides, strips or re-filters them.

Works on bytes: everything outside a tagged span comes out as it went in. A tagged value is
read like a value token: quoted text runs to the last quote of its kind that the postfix
follows; anything else runs to the first postfix. A prefix with no closing tag on its line
fails closed: the rest of the line is hidden. A value may be printed over several lines, so
when untag hides values (any treatment but --strip), the lines after such a prefix are hidden
too, up to the one that closes it (hidden up to its closing tag), the next log event
(parsing/events.starts_event) or a line with a prefix of its own (a new tagged value), which
are read as usual. What a filter type does to a tagged value is rules/treatment.py's, as for a pair.

Tags may be on any line, so untag is no pair handler of the walker: UntagWalk is a second
implementation of the Walk protocol the loop drives (pipeline.untag, beside pipeline.run). A
line longer than the bound cannot be read whole, so where a tagged value on it ends is
unknown: it is hidden whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from logfilter.engines.blocks import split_eol
from logfilter.errors import ConfigError
from logfilter.framing import HEAD, MORE
from logfilter.parsing.events import WHITESPACE, starts_event
from logfilter.parsing.model import Layout
from logfilter.parsing.regex_parser import token
from logfilter.rules import treatment
from logfilter.rules.config import read_config
from logfilter.rules.filters import DEFAULT_POSTFIX, DEFAULT_PREFIX, HIDDEN, MAX_TAG_LENGTH, FilterType

TagPair = tuple[str, str]
DEFAULT_PAIR: TagPair = (DEFAULT_PREFIX, DEFAULT_POSTFIX)
# What replaces the text untag fails closed on (the rest of a line after a tag that does not
# close, a line too long to read), unquoted: it is no KV value (the walker's is FAILED_KV_LINE).
FAILED_TEXT = HIDDEN.encode()
_SUPPRESSED = treatment.SUPPRESSED.encode()
_QUOTES = (b"'", b'"')
_CR = ord("\r")

# Called with the line number of a tag that has no closing tag on its line, or of a line too long
# to read whole: untag hid what it could not read (failed closed). The walker's is handler.OnFailure.
OnUntagFailure = Callable[[int], None]
Warn = Callable[[str], None]
ADVICE = "decompress it first, e.g. zcat app.log.gz | logfilter untag"


@dataclass(slots=True)
class UntagStats:
    """Counts of an untag run: bytes, lines, tagged values found, tags that failed closed."""

    bytes_in: int = 0
    bytes_out: int = 0
    lines: int = 0
    tagged: int = 0
    failed_closed: int = 0

    def wrote(self, data: bytes, partial: bool = False) -> None:
        """Count output bytes (the loop calls it for every write)."""
        self.bytes_out += len(data)

    def summary(self, done: str) -> str:
        """One line for stderr; `done` says what happened to each value (e.g. `hide`)."""
        return (
            f"{self.lines} lines, {self.tagged} tagged values ({done}), "
            f"{self.failed_closed} tags failed closed"
        )


def parse_tags(text: str) -> TagPair:
    """Parse `PREFIX,POSTFIX` (blanks around each tag are not part of it); raise ConfigError."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        msg = f"--tags {text!r}: expected PREFIX,POSTFIX, both given, as in --tags '<!--,-->'"
        raise ConfigError(msg)
    for side, tag in zip(("prefix", "postfix"), parts, strict=True):
        if len(tag) > MAX_TAG_LENGTH:
            msg = f"--tags {text!r}: tag {side} longer than {MAX_TAG_LENGTH} characters"
            raise ConfigError(msg)
    return parts[0], parts[1]


def config_pairs(path: Path) -> list[TagPair]:
    """The tag pairs of a configuration file's tag rules, default-filter-type and detect-filter-type."""
    options, rules = read_config(path)
    types = [rule.filter_type for rule in rules] + [
        found for found in (options.default, options.detect_filter_type) if found is not None
    ]
    return [(ft.prefix, ft.postfix) for ft in types if ft.action == "tag"]


@dataclass(frozen=True, slots=True)
class _Patterns:
    prefixes: tuple[bytes, ...]
    prefix: re.Pattern[bytes]
    postfixes: dict[bytes, tuple[bytes, ...]]


@cache
def _psdk_head() -> re.Pattern[bytes]:
    # A PSDK pair up to its value: `hide` replaces TYPE, EQUALS and the value, as the PSDK does.
    pattern = f"{token('KEY')}{token('WS')}(?P<typed>{token('TYPE')}{token('EQUALS')})\\Z"
    return re.compile(pattern.encode())


class Untagger:
    """Applies one treatment to every tagged value in whole lines of bytes.

    `pairs` are (prefix, postfix) tag pairs, all found in one pass; at one position the
    longer prefix wins. `filter_type` None strips the tags and keeps the value; otherwise
    the value becomes `filter_type.apply(value)`, `skip` removes it, and a filter type that
    hides the whole value turns a PSDK pair into `'key' [output suppressed]`.
    """

    def __init__(
        self,
        pairs: Iterable[TagPair],
        filter_type: FilterType | None = None,
        stats: UntagStats | None = None,
        on_failure: OnUntagFailure = lambda lineno: None,
    ) -> None:
        self.stats = stats if stats is not None else UntagStats()
        self._filter_type = None if filter_type is not None and filter_type.action == "copy" else filter_type
        self._on_failure = on_failure
        self._patterns = _compile(tuple(pairs))
        # A tagged value left open at the end of a line, when values are hidden: its quote (b""
        # for an unquoted value) and the postfixes that may close it. Its next lines are hidden.
        self._open: tuple[bytes, tuple[bytes, ...]] | None = None
        hides = filter_type is not None and treatment.effect(filter_type, "psdk") == treatment.SUPPRESS
        self._psdk = _psdk_head() if hides else None

    @property
    def value_open(self) -> bool:
        """Whether a tagged value left open goes on: the next lines are hidden up to its end."""
        return self._open is not None

    def close_value(self) -> None:
        """The value left open ends here (a log event starts)."""
        self._open = None

    def feed(self, data: bytes, lineno: int = 1) -> bytes:
        """Return the output for `data`: whole lines (the last may lack its ending), the first is `lineno`."""
        self.stats.lines += data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
        if self._open is not None:
            return self._scan(data, -1, lineno)
        first = -1
        for prefix in self._patterns.prefixes:
            found = data.find(prefix)
            if found >= 0 and (first < 0 or found < first):
                first = found
        if first < 0:
            return data
        return self._scan(data, first, lineno)

    def _scan(self, data: bytes, first: int, lineno: int) -> bytes:
        """Untag `data` from `first`, the first prefix in it; -1: a value left open goes on at its start."""
        out: list[bytes] = []
        copied = 0  # data[:copied] is in `out` already
        counted = 0  # line numbers are counted up to here
        search = self._patterns.prefix.search
        postfixes = self._patterns.postfixes
        at = first
        if first < 0:
            copied = at = self._go_on(data, 0, out, 0)
        while (match := search(data, at)) is not None:
            start, after = match.span()
            newline = data.find(b"\n", after)
            if newline < 0:
                end = len(data)
            else:
                end = newline - 1 if newline > after and data[newline - 1] == _CR else newline
            quote = data[after : after + 1] if data[after : after + 1] in _QUOTES else b""
            close = _close(data, after + len(quote), end, postfixes[match.group()], quote)
            if close is None:
                lineno += data.count(b"\n", counted, start)
                counted = start
                self.stats.failed_closed += 1
                self._on_failure(lineno)
                out += (data[copied:start], FAILED_TEXT)
                copied = at = end
                if self._filter_type is not None:  # it hides values: the value's next lines too
                    self._open = (quote, postfixes[match.group()])
                    copied = at = self._go_on(data, data.find(b"\n", end) + 1 or len(data), out, copied)
                continue
            value_end, span_end = close
            self.stats.tagged += 1
            cut, new = self._replace(data, copied, start, data[after:value_end])
            out += (data[copied:cut], new)
            copied = at = span_end
        out.append(data[copied:])
        return b"".join(out)

    def _replace(self, data: bytes, copied: int, start: int, value: bytes) -> tuple[int, bytes]:
        """Where the replaced text starts (at or before the prefix), and what replaces it."""
        filter_type = self._filter_type
        if filter_type is None:
            return start, value
        if treatment.effect(filter_type, "c") == treatment.SKIP:
            return start, b""
        if self._psdk is not None:  # hide in a PSDK pair: as the PSDK prints it
            line_start = max(data.rfind(b"\n", 0, start) + 1, copied)
            head = self._psdk.search(data, line_start, start)
            if head is not None:
                return head.start("typed"), _SUPPRESSED
        layout: Layout = "c"
        if treatment.quoted_by_layout(filter_type, value):
            line_start = max(data.rfind(b"\n", 0, start) + 1, copied)
            layout = "psdk" if _psdk_head().search(data, line_start, start) is not None else "c"
        return start, treatment.value_bytes(filter_type, value, layout)

    def _go_on(self, data: bytes, start: int, out: list[bytes], copied: int) -> int:
        """Hide the lines of the value left open from `start` (a line start) up to the one that
        closes it (hidden up to its closing tag), a log event or a line with a prefix of its own;
        return where untagging goes on. What comes before, from `copied` on, is put in `out`."""
        quote, postfixes = self._open  # type: ignore[misc]
        search, size = self._patterns.prefix.search, len(data)
        while start < size:
            newline = data.find(b"\n", start)
            line_end = size if newline < 0 else newline
            body_end = line_end
            while body_end > start and data[body_end - 1] == _CR:
                body_end -= 1
            body = data[start:body_end]
            prefix = search(data, start, body_end)  # a tagged value of its own: the open one closes before it, or never
            close = _close(data, start, body_end if prefix is None else prefix.start(), postfixes, quote)
            if starts_event(body) or close is None and prefix is not None:
                self._open = None
                break  # the line is read as usual
            lead = len(body) - len(body.lstrip(WHITESPACE))
            out += (data[copied : start + lead], FAILED_TEXT)
            if close is not None:  # what follows the closing tag is read as usual
                self._open = None
                return close[1]
            copied, start = body_end, line_end + 1 if newline >= 0 else size
        out.append(data[copied:start])
        return start


def _compile(pairs: tuple[TagPair, ...]) -> _Patterns:
    by_prefix: dict[bytes, set[bytes]] = {}
    for prefix, postfix in pairs:
        for tag in (prefix, postfix):
            if not tag or "\n" in tag or "\r" in tag:
                msg = f"a tag must be one or more characters on one line, not {tag!r}"
                raise ConfigError(msg)
        by_prefix.setdefault(prefix.encode("utf-8", "surrogateescape"), set()).add(
            postfix.encode("utf-8", "surrogateescape")
        )
    if not by_prefix:
        msg = "no tag pairs to look for"
        raise ConfigError(msg)
    longest_first = tuple(sorted(by_prefix, key=len, reverse=True))
    alternation = re.compile(b"|".join(re.escape(prefix) for prefix in longest_first))
    # For one prefix with several postfixes, the longer postfix wins where two close at once.
    postfixes = {prefix: tuple(sorted(found, key=len, reverse=True)) for prefix, found in by_prefix.items()}
    return _Patterns(longest_first, alternation, postfixes)


def _close(data: bytes, start: int, end: int, postfixes: tuple[bytes, ...], quote: bytes) -> tuple[int, int] | None:
    """(end of the value, end of the closing tag) for a value whose text starts at `start`, within
    the line (up to `end`); `quote`: its opening quote, or b"" for an unquoted value.

    A quoted value runs, like a QUOTED token, to the last quote on the line that a postfix
    follows: values may hold quotes and even the postfix (`'O'#> Brien'`). When two tagged
    quoted values share a line, both are treated as one (more is hidden, never less).
    """
    best: tuple[int, int] | None = None
    for postfix in postfixes:
        if quote:
            found = data.rfind(quote + postfix, start, end)
            value_end = found + 1
            better = best is None or value_end > best[0]
        else:
            found = data.find(postfix, start, end)
            value_end = found
            better = best is None or value_end < best[0]
        if found >= 0 and better:
            best = (value_end, value_end + len(postfix))
    return best


class UntagWalk:
    """Untag as a walk for the loop: whole lines through the Untagger, overlong lines hidden whole."""

    def __init__(self, untagger: Untagger, on_long: OnUntagFailure) -> None:
        self._untagger = untagger
        self._on_long = on_long
        self._long = False
        self._tail = b""

    @property
    def idle(self) -> bool:
        return not self._untagger.value_open

    @property
    def mid_line(self) -> bool:
        return self._long

    @property
    def inside_value(self) -> bool:
        return self._long or self._untagger.value_open

    def feed(self, data: bytes, lineno: int, out: list[bytes]) -> int:
        out.append(self._untagger.feed(data, lineno))
        return data.count(b"\n")

    def process(self, line: bytes, lineno: int) -> bytes:
        return self._untagger.feed(line, lineno)

    def overlong(self, piece: bytes, part: int, lineno: int) -> bytes:
        stats = self._untagger.stats
        if part == HEAD:
            if starts_event(piece):
                self._untagger.close_value()  # else it goes on after the line, hidden whole
            stats.lines += 1
            stats.failed_closed += 1
            self._on_long(lineno)
            self._long, self._tail = True, piece[-2:]
            return piece[: len(piece) - len(piece.lstrip(WHITESPACE))] + FAILED_TEXT
        self._tail = (self._tail + piece)[-2:]
        if part == MORE:
            return b""
        self._long = False
        return split_eol(self._tail)[1]  # a CRLF may be cut between parts

    def flush(self, ended: bool) -> bytes:
        return b""


def untag_walk(
    name: str, pairs: tuple[TagPair, ...], filter_type: FilterType | None, stats: UntagStats, warn: Warn
) -> UntagWalk:
    """The walk of the input called `name` for the loop (pipeline.untag).

    A tag with no closing tag on its line, and a line too long to read whole, are reported
    through `warn` by input and line, never by content.
    """

    def on_failure(lineno: int) -> None:
        warn(f"{name}:{lineno}: a tag opened with no closing tag on the line; hid the rest of the line (failed closed)")

    def on_long(lineno: int) -> None:
        warn(f"{name}:{lineno}: a line too long to read whole; hid it whole (failed closed)")

    return UntagWalk(Untagger(pairs, filter_type, stats, on_failure), on_long)
