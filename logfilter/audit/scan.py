"""The leak scanner: what in a log the rules say must be masked, or a detector recognizes, in clear.

It reads logs as the engines do (the same block logic, regex_parser.py's parser) and never
writes them. A finding names the file, line, key and detector, and shows a preview that
reveals at most a PCI-style last four (detect.preview); never the value.

Findings, per value of a KV block:
- `rule`: the key's rule (or the default) masks or skips it, and the value is not in the
  masked form the rule gives (a rule's masks are idempotent: a masked value masks to
  itself). Values in `[output suppressed]` form and `'****'` lines (logfilter's fail-closed
  mark) are masked; tags are stripped first (the default tags and the config's), so a
  tagged value is in clear: a tag rule is satisfied by it, a masking rule is not;
- a detector's name: a detector recognizes something in a value no `rule` finding names;
- `unparsable`: a line inside a block that cannot be read, so cannot be vouched for.
With `--everywhere`, the other lines are searched by the detectors too, after time stamps,
ConnIDs and the lines of diagnostic attributes (ids, DNs, times, sequence numbers) are
set aside. Inputs that are not text logs are findings (`not-scanned`): they cannot be
vouched for either.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from logfilter.engines.untag import DEFAULT_PAIR, TagPair, Untagger
from logfilter.engines.walker import WHITESPACE, Block, LineEngine
from logfilter.errors import LogFilterError
from logfilter.parsing import regex_parser
from logfilter.parsing.model import KVLine, Pair
from logfilter.rules.compiled import Chain
from logfilter.rules.detect import Detectors, preview
from logfilter.rules.filters import HIDDEN, FilterType
from logfilter.sources.archives import DAMAGE, damage, escape_controls, printable, texts
from logfilter.sources.files import CHUNK, LineFramer
from logfilter.stats import Stats

FAILED_CLOSED_MARK = b"'****'"
# Findings kept for the report; past this they are counted only.
MAX_REPORTED = 10_000
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


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found. `key` and `attribute` only inside KV blocks; `rule` only for rule findings."""

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
        return escape_controls(self._text())

    def _text(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = self.detector if self.rule is None else f"{self.detector} {self.rule}"
        parts = [where, what]
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
        return {name: value for name, value in asdict(self).items() if value is not None}


Report = Callable[[Finding], None]


class ScanEngine(LineEngine):
    """Walks a log with the engines' block logic and reports findings instead of writing."""

    parse_kv_line = staticmethod(regex_parser.parse_kv_line)
    parse_opener = staticmethod(regex_parser.parse_opener)

    def __init__(self, chain: Chain, stats: Stats, name: str, report: Report, everywhere: bool) -> None:
        super().__init__(chain, stats, self._unparsable)
        self._name = name
        self._report = report
        self._everywhere = everywhere
        self._detectors: Detectors | None = chain.detectors
        self._at = 0
        self._attribute = ""
        # Tags around a value are not part of it: strip them before the line is read.
        self._untag = Untagger(tag_pairs(chain))

    def scan(self, data: bytes, lineno: int) -> int:
        """Scan whole lines (`data` ends with a line feed; the first is line `lineno`); return how many.

        Outside blocks (unless --everywhere) only a line that may open a block is looked at:
        the lines before it are counted and passed over in one search. Messages are not counted.
        """
        pos, end, count = 0, len(data), 0
        hint, process = self._opener_hint.search, self.process
        while pos < end:
            if self._block is None and not self._everywhere:
                found = hint(data, pos)
                start = data.rfind(b"\n", pos, found.start()) + 1 if found is not None else end
                if start > pos:
                    passed = data.count(b"\n", pos, start)
                    self._stats.lines += passed
                    count += passed
                    pos = start
                    if pos >= end:
                        break
            line_end = data.index(b"\n", pos) + 1
            process(data[pos:line_end], lineno + count)
            count += 1
            pos = line_end
        return count

    def _free_line(self, body: bytes) -> None:
        self._open(body)  # messages are not counted: scan passes over most free lines unread
        if self._everywhere and self._detectors is not None and not _DIAGNOSTIC_LINE.match(body):
            text = _DIAGNOSTIC_TOKENS.sub(lambda hit: b" " * len(hit.group()), body)
            for hit in self._detectors.hits(text):
                self._found(hit.detector, body[hit.start : hit.end])

    def process(self, line: bytes, lineno: int) -> bytes:
        self._at = lineno
        return super().process(line, lineno)

    def _kv_line(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        if body.strip(WHITESPACE) == FAILED_CLOSED_MARK:
            return body + eol  # a line logfilter failed closed: nothing left of it
        self._attribute = block.attribute
        failed = self._untag.stats.failed_closed
        untagged = self._untag.feed(body, lineno)
        if self._untag.stats.failed_closed != failed:  # a tag that never closes: what is in it is unknown
            self._unparsable(lineno, block.attribute)
            return body + eol
        return super()._kv_line(block, untagged, eol, lineno)

    def _skip_list(self, pair: Pair, rule: FilterType) -> None:
        super()._skip_list(pair, rule)
        self._found("rule", b"", pair, rule)

    def _leaf(self, kv: KVLine, pair: Pair, chosen: FilterType) -> str | None:
        value = pair.value
        if kv.suppressed or value is None:
            return None  # the PSDK hid it already
        if _in_clear(kv, pair, chosen):
            self._found("rule", b"", pair, chosen)
        elif self._detectors is not None and value.kind != "bin":
            raw = value.raw.encode(*_ENCODING)
            for hit in self._detectors.hits(raw):
                self._found(hit.detector, raw[hit.start : hit.end], pair)
        return None

    def _unparsable(self, lineno: int, attribute: str) -> None:
        self._report(Finding(self._name, lineno, "unparsable", attribute=attribute,
                             reason="cannot read this line of a KV block; check it by hand"))  # fmt: skip

    def _found(self, detector: str, text: bytes, pair: Pair | None = None, rule: FilterType | None = None) -> None:
        """Report a find: a rule finding shows `****` (not even the length), a detector's a preview."""
        shown = HIDDEN if rule is not None else preview(text.decode(*_ENCODING))
        key = pair.key.encode(*_ENCODING).decode("utf-8", "backslashreplace") if pair is not None else None
        self._report(Finding(
            self._name, self._at, detector, shown, key, self._attribute if pair is not None else None,
            rule.text if rule is not None else None,
        ))  # fmt: skip


def tag_pairs(chain: Chain) -> list[TagPair]:
    """The default tags and those of every tag rule in the chain."""
    rules = [*chain.rules.values(), chain.default, chain.detect_rule]
    return [DEFAULT_PAIR, *((rule.prefix, rule.postfix) for rule in rules if rule.action == "tag")]


def _in_clear(kv: KVLine, pair: Pair, rule: FilterType) -> bool:
    """Whether a value is not in the form `rule` leaves it: a rule's masks are idempotent."""
    if rule.action == "skip":
        return True  # the pair should not be there at all
    if rule.action != "mask":
        return False  # copy keeps it; tag marks it for someone else to hide
    if kv.layout == "psdk" and rule.hides_whole_value:
        return True  # hidden, the PSDK prints `[output suppressed]`
    return not rule.is_applied(pair.value)  # type: ignore[arg-type]


@dataclass(slots=True)
class InputResult:
    """What scanning one input (a file, or a member of an archive) came to."""

    name: str
    status: str = "scanned"  # or "not scanned"
    reason: str | None = None
    stats: Stats = field(default_factory=Stats)
    findings: int = 0


class Scanner:
    """Scans inputs in order; collects findings (up to MAX_REPORTED) and counts all of them."""

    def __init__(self, chain: Chain, everywhere: bool, tell: Report, spool_dir: Path | None = None) -> None:
        self._chain = chain
        self._everywhere = everywhere
        self._tell = tell
        self._spool_dir = spool_dir
        self.inputs: list[InputResult] = []
        self.findings: list[Finding] = []
        self.total = 0
        self.by_detector: dict[str, int] = {}
        self.by_key: dict[str, dict[str, int]] = {}

    def _record(self, finding: Finding) -> None:
        self.total += 1
        self.by_detector[finding.detector] = self.by_detector.get(finding.detector, 0) + 1
        if finding.key is not None:
            per_key = self.by_key.setdefault(finding.key, {})
            per_key[finding.detector] = per_key.get(finding.detector, 0) + 1
        if len(self.findings) < MAX_REPORTED:
            self.findings.append(finding)
        self.inputs[-1].findings += 1
        self._tell(finding)

    def scan_stream(self, reader: BinaryIO, name: str) -> None:
        """Scan one input (text, compressed or an archive); an unreadable one is a finding."""
        try:
            for text in texts(reader, name, self._spool_dir):
                if text.stream is None:
                    self.not_scanned(text.name, text.reason or "")
                else:
                    self._scan_text(text.stream, text.name)
        except LogFilterError as exc:
            self.not_scanned(name, str(exc).removeprefix(f"{name}: "))
        except DAMAGE as exc:
            self.not_scanned(name, f"cannot read it ({damage(exc)})")

    def scan_file(self, path: Path) -> None:
        """Scan one file; one that cannot be opened is a finding."""
        name = printable(str(path))
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below, once the walk is done with it
        except OSError as exc:
            self.not_scanned(name, f"cannot open it ({exc.strerror})")
            return
        with stream:
            self.scan_stream(stream, name)

    def not_scanned(self, name: str, reason: str) -> None:
        """Record an input (or part of one) that could not be scanned: a finding."""
        if self.inputs and self.inputs[-1].name == name and self.inputs[-1].status == "scanned":
            self.inputs[-1].status, self.inputs[-1].reason = "not scanned", reason  # failed part way
        else:
            self.inputs.append(InputResult(name, "not scanned", reason))
        self._record(Finding(name, None, "not-scanned", reason=reason))

    def _scan_text(self, stream: BinaryIO, name: str) -> None:
        result = InputResult(name)
        self.inputs.append(result)
        engine = ScanEngine(self._chain, result.stats, name, self._record, self._everywhere)
        framer, lineno = LineFramer(), 1
        while chunk := stream.read(CHUNK):
            result.stats.bytes_in += len(chunk)
            lineno += engine.scan(framer.feed_lines(chunk), lineno)
        rest = framer.finish()
        if rest:
            engine.process(rest, lineno)

    def totals(self) -> dict[str, object]:
        stats = Stats()
        for result in self.inputs:
            stats.add(result.stats)
        return {
            "inputs": len(self.inputs),
            "not_scanned": sum(result.status != "scanned" for result in self.inputs),
            "bytes": stats.bytes_in,
            "lines": stats.lines,
            "pairs": stats.pairs,
            "findings": self.total,
            "by_detector": dict(sorted(self.by_detector.items())),
            "by_key": {key: dict(sorted(value.items())) for key, value in sorted(self.by_key.items())},
        }

    def report(self, config: dict[str, object]) -> dict[str, object]:
        """The JSON report: settings, every input with its count, the findings (capped), the totals."""
        return {
            "config": config,
            "inputs": [
                {"input": r.name, "status": r.status, **({"reason": r.reason} if r.reason else {}),
                 "lines": r.stats.lines, "findings": r.findings}
                for r in self.inputs
            ],  # fmt: skip
            "findings": [finding.as_dict() for finding in self.findings],
            "findings_listed": len(self.findings),
            "totals": self.totals(),
        }


def describe(chain: Chain, everywhere: bool) -> dict[str, object]:
    """The settings a scan ran with, for the report: rule texts and detector names, never values."""
    return {
        "default-filter-type": chain.default.text,
        "log-filter-data": {key: rule.text for key, rule in chain.rules.items()},
        "detect": list(chain.detectors.names) if chain.detectors is not None else [],
        "everywhere": everywhere,
    }


def scan_paths(scanner: Scanner, inputs: Iterable[Path]) -> None:
    """Scan files and folders (recursively, in name order). What a folder holds that cannot be
    scanned (an unreadable folder, a link to a folder, a special file) is a finding."""
    for path in inputs:
        if not path.is_dir():
            scanner.scan_file(path)
            continue

        def unlisted(exc: OSError) -> None:
            scanner.not_scanned(printable(exc.filename or str(path)), f"cannot list the folder ({exc.strerror})")

        for root, dirs, files in os.walk(path, onerror=unlisted):
            dirs.sort()
            here = Path(root)
            for name in sorted(files + [d for d in dirs if (here / d).is_symlink()]):
                child = here / name
                if child.is_dir():
                    scanner.not_scanned(printable(str(child)), "a link to a folder; not followed")
                elif child.is_file():
                    scanner.scan_file(child)
                elif child.is_symlink() and not child.exists():
                    scanner.not_scanned(printable(str(child)), "a link to nothing")
                else:
                    scanner.not_scanned(printable(str(child)), "not a regular file")
