"""What scan finds in a walk: the ScanHandler, which reads each KV pair against its rule and the detectors.

Findings, per value of a KV block:
- `rule`: the key's rule (or the default) masks or skips it, and the value is not in the
  masked form the rule gives (rules/treatment.in_clear: a rule's masks are idempotent).
  Values in `[output suppressed]` form and `'****'` lines (logfilter's fail-closed mark) are
  masked; tags are stripped first (the default tags and the rules'), so a tagged value is in
  clear: a tag rule is satisfied by it, a masking rule is not;
- a detector's name: a detector recognizes something in a value no `rule` finding names;
- `unparsable`: a line inside a block that cannot be read, so cannot be vouched for.
With [log-filter-attributes] / [log-filter-sip] rules, the identities of the lines they name
(identity/reader.py) are read the same way: `rule` when a rule would mask one that is in
clear, a detector's name when one recognizes something in one, `unparsable` when such a line
cannot be read (and is not what logfilter leaves of one it failed closed). A line with tags
that cannot be read is a tag rule's output: a finding only under another rule.
With `--everywhere`, the other lines are searched by the detectors too (the head of a line
too long to hold, as well), after time stamps, ConnIDs and the lines of diagnostic
attributes (ids, DNs, times, sequence numbers) are set aside. A finding names the file,
line, key and detector, and shows a preview that reveals at most a PCI-style last four
(detect.preview); never the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from logfilter.engines.blocks import FAILED_KV_LINE, Block
from logfilter.engines.handler import Handler
from logfilter.engines.untag import DEFAULT_PAIR, TagPair, Untagger
from logfilter.identity.reader import Found
from logfilter.names import escape_controls
from logfilter.parsing.events import WHITESPACE
from logfilter.parsing.model import KVLine, Opener, Pair
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.detect import preview
from logfilter.rules.filters import HIDDEN, FilterType

_ENCODING = ("utf-8", "surrogateescape")

# Set aside before free lines are searched (--everywhere): time stamps and dates, ConnIDs
# and other 16-hex-digit ids (with a letter, or a leading 0: sixteen digits from 1-9 on may
# be a card number), and whole lines of attributes that carry ids, DNs, times and counters
# rather than customer data.
_DIAGNOSTIC_TOKENS = re.compile(
    rb"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)?|@?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?|"
    rb"(?<![0-9A-Za-z])(?=[0-9]*[A-Fa-f]|0)[0-9A-Fa-f]{16}(?![0-9A-Za-z]))"
)
_DIAGNOSTIC_LINE = re.compile(
    rb"[ \t]*Attribute[A-Za-z]*(?:ConnID|CallID|UUID|ReferenceID|DN|DNRole|Queue|Secs|SequenceNumber|Time|"
    rb"Timeout|Port|Location|CallType|CallState|Cause|Priority|Count)(?![A-Za-z])"
)


class Finding(NamedTuple):
    """One thing found. `key` and `attribute` only inside KV blocks; `rule` only for rule findings.

    (A tuple: scan makes one for each value in clear, a few thousand per MB of a dense log.)
    """

    file: str
    line: int | None
    detector: str
    preview: str = ""
    key: str | None = None
    attribute: str | None = None
    rule: str | None = None
    reason: str | None = None

    def text(self) -> str:
        """One line for people: `FILE:LINE: DETECTOR: key 'K' in ATTRIBUTE: PREVIEW`, control characters escaped."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        told = (self.line is None, *self[2:])  # all but where: a rule finding says the same line after line
        said = _SAID.get(told)
        if said is None:
            said = escape_controls(self._told())
            if self.preview in ("", HIDDEN) and len(_SAID) < _SAID_MOST:  # (a detector's preview varies)
                _SAID[told] = said
        return f"{escape_controls(where)}: {said}"  # (escapes are of single characters: the parts alone alike)

    def _told(self) -> str:
        what = self.detector if self.rule is None else f"{self.detector} {self.rule}"
        parts = [what]
        if self.key is not None:
            parts.append(f"key '{self.key}' in {self.attribute}")
        elif self.attribute is not None:
            parts.append(f"a line in an {self.attribute} block")
        elif self.line is not None:
            parts.append("outside KV blocks")
        if self.preview:
            parts.append(self.preview)
        if self.reason:
            parts.append(self.reason)
        return ": ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {name: value for name, value in self._asdict().items() if value is not None}


_new = tuple.__new__

# What a finding says after its file and line, escaped, by whether it has a line and the rest of its fields.
_SAID: dict[tuple[object, ...], str] = {}
_SAID_MOST = 4096


Report = Callable[[Finding], None]


class ScanHandler(Handler):
    """Reports findings for one input instead of writing anything."""

    def __init__(self, rules: Rules, name: str, report: Report, everywhere: bool) -> None:
        self.reads_free_lines = everywhere  # else only lines that may open a block are read
        self._rules = rules
        self._name = name
        self._report = report
        self._everywhere = everywhere
        self._at = 0
        self._attribute = ""
        self._key_names: dict[bytes, str] = {}  # each key token's name, as findings show it
        # Tags around a value are not part of it: strip them before the line is read.
        self._untag = Untagger(tag_pairs(rules))
        self._tag_prefixes = {prefix.encode(*_ENCODING) for prefix, _postfix in tag_pairs(rules)}
        # What it attends to (engines/registry.collecting): values in clear (told to `in_clear`,
        # or walked), values to search (told to `search`, or walked), and lines with a tag (they are
        # untagged first); every line with --everywhere.
        self.attend = None if everywhere else tuple(sorted(self._tag_prefixes))

    def free_line(self, body: bytes, lineno: int, opener: Opener | None) -> None:
        self._at = lineno
        detectors = self._rules.detectors
        if self._everywhere and detectors is not None and not _DIAGNOSTIC_LINE.match(body):
            text = _DIAGNOSTIC_TOKENS.sub(lambda hit: b" " * len(hit.group()), body)
            for hit in detectors.hits(text):
                self._found(hit.detector, body[hit.start : hit.end])

    def long_line(self, head: bytes, lineno: int, free: bool) -> None:
        if free:
            self.free_line(head, lineno, None)

    def kv_line(self, body: bytes, lineno: int, block: Block) -> bytes | None:
        self._at = lineno
        if body.strip(WHITESPACE) == FAILED_KV_LINE:
            return None  # a line logfilter failed closed: nothing left of it
        self._attribute = block.attribute
        failed = self._untag.stats.failed_closed
        untagged = self._untag.feed(body, lineno)
        if self._untag.stats.failed_closed != failed:  # a tag that never closes: what is in it is unknown
            self.failed(lineno, block.attribute)
            return None
        return untagged

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        self._found("rule", b"", _token(pair), rule)

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        value = pair.value
        if kv.suppressed or value is None:
            return None  # the PSDK hid it already
        detectors = self._rules.detectors
        if treatment.in_clear(kv.layout, pair, chosen):
            self._found("rule", b"", _token(pair), chosen)
        elif detectors is not None and value.kind != "bin":
            raw = value.raw.encode(*_ENCODING)
            for hit in detectors.hits(raw):
                self._found(hit.detector, raw[hit.start : hit.end], _token(pair))
        return None

    def in_clear(self, lineno: int, key: bytes, attribute: str, rule: FilterType) -> None:
        """A value in clear under `rule`, found by a compiled walk (the scanner), as `leaf` finds one.
        `key` is the key token, quoted."""
        self._at, self._attribute = lineno, attribute
        self._found("rule", b"", key, rule)

    def search(self, lineno: int, key: bytes, attribute: str, value: bytes, among: int = -1) -> None:
        """A value no rule finding names, read by a compiled walk: what the detectors find in it, as `leaf`
        finds it. `key` is the key token, quoted; `value` the value token; `among` as Detectors.hits'."""
        detectors = self._rules.detectors
        if detectors is not None:
            self._at, self._attribute = lineno, attribute
            for hit in detectors.hits(value, among):
                self._found(hit.detector, value[hit.start : hit.end], key)

    def failed(self, lineno: int, attribute: str) -> None:
        self._report(Finding(self._name, lineno, "unparsable", attribute=attribute,
                             reason="cannot read this line of a KV block; check it by hand"))  # fmt: skip

    def identity_line(self, found: Found, lineno: int) -> bytes | None:
        """A line an identity rule reads: each identity in clear is a finding. free_line (--everywhere)
        is then told the line with them blanked out, so they are not found twice."""
        self._at, rule, body = lineno, found.rule, found.body
        where = "a SIP message" if found.label.startswith("sip:") else "an attribute line"
        if found.failed is not None and rule is not None and any(tag in body for tag in self._tag_prefixes):
            # Tags in a URI are not SIP syntax: a tag rule's own output. Tagged values are in clear.
            if rule.action != "tag":
                self._attribute = where
                self._found("rule", b"", f"'{found.label}'".encode(*_ENCODING), rule)
            return body
        if found.failed is not None:
            reason = "cannot read this line where an identity rule applies; check it by hand"
            self._report(
                Finding(self._name, lineno, "unparsable", key=found.label, attribute=where, reason=reason)
            )
            return body
        if rule is None:
            return body
        self._attribute = where
        key = f"'{found.label}'".encode(*_ENCODING)
        if rule.action == "skip":
            self._found("rule", b"", key, rule)  # the line should not be there
            return None
        detectors = self._rules.detectors
        for span in found.spans:
            raw = body[span.start : span.end]
            if treatment.value_in_clear(raw.decode(*_ENCODING), rule, span.kind == "value" or span.quoted):
                self._found("rule", b"", key, rule)
            elif detectors is not None:
                for hit in detectors.hits(raw):
                    self._found(hit.detector, raw[hit.start : hit.end], key)
        blanked = bytearray(body)
        for span in found.spans:
            blanked[span.start : span.end] = b" " * (span.end - span.start)
        return bytes(blanked)

    def emit(self, out: bytes) -> bytes:
        return b""  # scan writes no log

    def _found(
        self, detector: str, text: bytes, key: bytes | None = None, rule: FilterType | None = None
    ) -> None:
        """Report a find in the value of the key token `key` (quoted): a rule finding shows `****`
        (not even the length), a detector's a preview."""
        shown = HIDDEN if rule is not None else preview(text.decode(*_ENCODING))
        if key is not None:
            name = self._key_names.get(key)
            if name is None:
                name = self._key_names[key] = _key_text(key)
        self._report(_new(Finding, (
            self._name, self._at, detector, shown, name if key is not None else None,
            self._attribute if key is not None else None, rule.text if rule is not None else None, None,
        )))  # fmt: skip (tuple.__new__: Finding's own __new__ is Python, a few thousand calls per MB)


def _key_text(token: bytes) -> str:
    """A key token's name, as a finding shows it: bytes that are not UTF-8 as `\\xNN`."""
    return token[1:-1].decode("utf-8", "backslashreplace")


def _token(pair: Pair) -> bytes:
    return pair.key_raw.encode(*_ENCODING)


def tag_pairs(rules: Rules) -> list[TagPair]:
    """The default tags and those of every tag rule."""
    found = [*rules.rules.values(), rules.default, rules.detect_rule]
    return [DEFAULT_PAIR, *((rule.prefix, rule.postfix) for rule in found if rule.action == "tag")]
