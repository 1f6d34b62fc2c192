"""The lines [log-filter-attributes] and [log-filter-sip] rules read, one walk's worth of state, and their rendering.

The walker (engines/walker.py) asks an IdentityReader about each line outside KV blocks; the
reader says what the line is (a Found) and keeps what a later line depends on:
- a listed attribute line (identity/attributes.py), anywhere; its value's quote left open
  makes the lines after it fail closed, up to the line that closes it or a log event, as the
  walker does for a KV value (parsing/events.py);
- a SIP message: the line after `... Sending ... >>>>>` / `... Received ... <<<<<` (blank
  lines before it aside) is its start line (request or status line), then `Name: value`
  headers up to the blank line that ends them. The body after that blank line is not read:
  it goes on as any line does (an SDP body holds no caller's identity; a sipfrag body's
  headers are not read). A message cut short (a log event, a line starting with a time
  stamp, a KV block opener or the next introducer before the blank line) ends there.
  Inside the headers, a line starting with a blank continues the header before it (obsolete
  folding): under a listed header it fails closed, as it cannot be read alone (under skip it
  goes with its header); any other line that is not a header fails closed too (it may be a
  listed header printed damaged).
A listed line that cannot be read fails closed: its value (the whole line, for a line that
is not a header) becomes `****`, and it is counted and warned about (the walker does that).
`render` writes a Found as `run` does, through rules/treatment.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from logfilter.identity import attributes, sip
from logfilter.identity.sip import Span
from logfilter.parsing import events
from logfilter.parsing.events import WHITESPACE
from logfilter.parsing.model import Layout
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.rules.identity_rules import COMPACT, REQUEST_URI
from logfilter.stats import Stats

Kind = Literal["attribute", "continued", "intro", "blank", "start", "header", "fold", "other"]
SIP_KINDS = ("intro", "blank", "start", "header", "fold", "other")  # the lines of a SIP message
_NONE, _START, _HEADERS = 0, 1, 2
_UNLISTED = ("", None)  # the header before a folded line had no rule


@dataclass(frozen=True, slots=True)
class Found:
    """One line the reader knows: what it is, the rule that applies to it, where its identities are.

    `label` names the rule in counts, reports and findings (`AttributeANI`, `sip:From`);
    `failed`: the line cannot be read where a rule applies, and [start, end) becomes `****`;
    `value`: where the value starts (what is kept of the line when it fails closed whole).
    """

    kind: Kind
    body: bytes
    name: str = ""  # the attribute's, or the header's as printed
    label: str = ""
    rule: FilterType | None = None  # None: no rule applies, the line is as it is
    layout: Layout = "c"
    spans: tuple[Span, ...] = ()
    failed: tuple[int, int] | None = None
    value: int = 0

    @property
    def what(self) -> str:
        """The line in the words of a warning (never its text)."""
        if self.kind in ("attribute", "continued"):
            return f"{self.name} line" if self.kind == "attribute" else f"line of an {self.name} value left open"
        if self.kind == "header" or self.kind == "fold":
            return f"SIP {self.name} header" + (" (folded)" if self.kind == "fold" else "")
        return "SIP request line" if self.kind == "start" else "line of a SIP message"


class IdentityReader:
    """Reads one input's lines outside KV blocks for the identity rules; one per walk."""

    def __init__(self, rules: Rules, opens_block: Callable[[bytes], bool]) -> None:
        identity = rules.identity
        self._attributes = {rule.key: rule.filter_type for rule in identity.attributes}
        self._headers = {rule.key.casefold(): (f"sip:{rule.key}", rule.filter_type) for rule in identity.sip}
        self._request = self._headers.get(REQUEST_URI.casefold(), _UNLISTED)
        self._sip = bool(identity.sip)
        self._opens_block = opens_block
        self._state = _NONE
        self._header: tuple[str, FilterType | None] = _UNLISTED  # the last header's label and rule
        self._header_name = ""
        self._open: Found | None = None  # the attribute line whose quote is left open
        self._quote = b""

    @property
    def open(self) -> bool:
        """Whether a SIP message or an attribute value is open: a fresh reader would not go on alike."""
        return self._state != _NONE or self._open is not None

    def reset(self) -> None:
        """A KV block opened: no message or value of these rules goes on past its opener."""
        self._state, self._open = _NONE, None

    def read(self, body: bytes, lineno: int) -> Found | None:
        """What line `body` (no line ending) is; None: a line these rules leave as it is."""
        if self._open is not None:
            found = self._continued(body)
            if found is not None or self._open is not None:
                return found
        if self._state != _NONE:
            found = self._sip_line(body)
            if found is not None:
                return found
        if self._sip and sip.introduces(body):
            self._state = _START
            return Found("intro", body)
        return self._attribute(body) if self._attributes else None

    def long_head(self, head: bytes) -> bytes | None:
        """For a line too long to read whole, starting with `head`: what is left of it when a rule
        applies (its name kept, `****`), or None when it passes through as it is."""
        found = self.read(head, 0)
        if found is None or found.rule is None and found.failed is None:
            return None
        # A quote the head leaves open stays open: the lines after it fail closed until one closes it.
        return head[: found.failed[0] if found.failed is not None else found.value] + attributes.FAILED

    # -- attribute lines -----------------------------------------------------------------------
    def _attribute(self, body: bytes) -> Found | None:
        if b"Attribute" not in body:
            return None
        line = attributes.attribute(body)
        rule = self._attributes.get(line.name) if line is not None else None
        if line is None or rule is None:
            return None
        found = Found("attribute", body, line.name, line.name, rule, line.layout, value=line.start)
        if attributes.already_failed(body, line):
            return found
        readable, quote = attributes.value(body, line)
        if not readable:
            if quote is not None:
                self._open, self._quote = found, quote
            return _failed(found, line.start, line.end)
        return _with(found, (Span(line.start, line.end, "value", True),))

    def _continued(self, body: bytes) -> Found | None:
        """A line after an attribute value left open: masked, up to the line that closes it."""
        opened = self._open
        assert opened is not None
        if events.starts_event(body) or self._opens_block(body):
            self._open = None
            return None
        stripped = body.lstrip(WHITESPACE)
        if not stripped:
            return None  # no data on it; the value may go on after it
        if events.closes(body, self._quote):
            self._open = None
        found = Found("continued", body, opened.name, opened.label, opened.rule)
        return _failed(found, len(body) - len(stripped), len(body))

    # -- SIP messages ------------------------------------------------------------------------
    def _sip_line(self, body: bytes) -> Found | None:
        """A line while a SIP message is open; None: the message ended before it (the line is read anew)."""
        ends = sip.introduces(body) or events.starts_event(body) or sip.TIME_STAMP.match(body)
        if ends or self._opens_block(body):
            self._state = _NONE
            return None
        if not body.strip(WHITESPACE):
            if self._state == _HEADERS:
                self._state = _NONE  # the blank line that ends the headers; the body is not read
            return Found("blank", body)
        if body.strip(WHITESPACE) == attributes.FAILED:  # what logfilter left of a line it failed closed
            self._state = _HEADERS
            return Found("other", body)
        header = sip.HEADER_LINE.match(body)
        if self._state == _START:
            self._state, self._header = _HEADERS, _UNLISTED
            if header is None:  # no start line printed: read from the first header on
                return self._start(body)
        if body[0] in WHITESPACE:
            return self._fold(body)
        if header is None:
            self._header = _UNLISTED
            return _failed(Found("other", body, label="sip:(not a header)"), 0, len(body))
        return self._header_line(body, header.group(1).decode("ascii"), header.end())

    def _start(self, body: bytes) -> Found:
        label, rule = self._request
        found = Found("start", body, REQUEST_URI, label, rule)
        if rule is None or sip.STATUS_LINE.match(body):
            return Found("start", body)
        request = sip.REQUEST_LINE.match(body)
        if request is None:
            return _failed(found, 0, len(body))
        if rule.action == "skip" or request.group(1) == attributes.FAILED:
            return found
        start, end = request.span(1)
        user = sip.uri_user(body, start, end)
        if user is None:
            return _failed(found, start, end)
        return _with(found, () if user[0] < 0 else (Span(*user, "user"),))

    def _header_line(self, body: bytes, name: str, start: int) -> Found:
        folded = name.casefold()
        self._header = self._headers.get(COMPACT.get(folded, "").casefold() or folded, _UNLISTED)
        self._header_name = name
        label, rule = self._header
        found = Found("header", body, name, label, rule, value=start)
        if rule is None or rule.action == "skip" or body[start:].rstrip(WHITESPACE) == attributes.FAILED:
            return found
        spans = sip.identities(body, start)
        return _failed(found, start, len(body)) if spans is None else _with(found, tuple(spans))

    def _fold(self, body: bytes) -> Found:
        label, rule = self._header
        indent = len(body) - len(body.lstrip(WHITESPACE))
        found = Found("fold", body, self._header_name, label, rule, value=indent)
        if rule is None or rule.action == "skip":
            return found  # it goes with its header: as it is, or removed with it
        return _failed(found, indent, len(body))


def line_hint(rules: Rules) -> re.Pattern[bytes] | None:
    """Where, after an LF, the next line the reader may need is, while nothing is open: a listed
    attribute's line (as attributes.attribute reads it) or a SIP introducer (its `>>>>>` or `<<<<<`,
    anywhere on it). None without identity rules. For the fast path, which passes other lines in bulk."""
    identity = rules.identity
    if not identity:
        return None
    names = b"|".join(re.escape(rule.key.encode()) for rule in identity.attributes)
    hints = ([b"\n[ \t]*(?:" + names + b")[ \t]"] if names else []) + ([b">>>>>|<<<<<"] if identity.sip else [])
    return re.compile(b"|".join(hints))


def _failed(found: Found, start: int, end: int) -> Found:
    return replace(found, failed=(start, end))


def _with(found: Found, spans: tuple[Span, ...]) -> Found:
    return replace(found, spans=spans)


def render(found: Found, rules: Rules, stats: Stats) -> bytes | None:
    """The line as `run` writes it (no line ending), counted; None: removed (skip)."""
    body, rule = found.body, found.rule
    if found.failed is not None:
        start, end = found.failed
        return body[:start] + attributes.FAILED + body[end:]
    if rule is None:
        return body
    counted_as = f"'{found.label}'"
    if rule.action == "skip":
        if found.kind != "fold":  # a folded line goes with its header, counted once
            stats.pairs += 1
            treatment.count(stats, treatment.SKIP, rule, counted_as)
        return None
    parts, last = [], 0
    for span in found.spans:
        stats.pairs += 1
        raw = body[span.start : span.end].decode("utf-8", "surrogateescape")
        token = span.kind == "value" or span.quoted
        new = treatment.treat_value(rules, stats, raw, rule, counted_as, found.layout, token)
        if new is None:
            return None  # the detectors' net caught it, and its rule skips
        parts += (body[last : span.start], new.encode("utf-8", "surrogateescape"))
        last = span.end
    parts.append(body[last:])
    return b"".join(parts)
