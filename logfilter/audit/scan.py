"""The leak scanner (`logfilter scan`): what in a log the rules say must be masked, or a detector recognizes, in clear.

It reads logs as every command does (the one loop, the walker with the regex parser) and
never writes them: each text log is walked with a ScanHandler (findings.py says what it
finds). Inputs that are not text logs are findings (`not-scanned`): they cannot be vouched
for either. Findings are kept for the report up to MAX_REPORTED, and all are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from logfilter.audit.findings import Finding, Report, ScanHandler
from logfilter.audit.inputs import InputResult, Inputs, collect
from logfilter.rules.compiled import Rules
from logfilter.sources.files import StreamSource
from logfilter.stats import Stats

if TYPE_CHECKING:
    from logfilter.audit.keys import KeyInventory

# Findings kept for the report; past this they are counted only.
MAX_REPORTED = 10_000


class Scanner:
    """Scans inputs in order; collects findings (up to MAX_REPORTED) and counts all of them."""

    def __init__(self, rules: Rules, everywhere: bool, tell: Report, spool_dir: Path | None = None) -> None:
        self._rules = rules
        self._everywhere = everywhere
        self._tell = tell
        self.reader = Inputs(self._walk, self._not_scanned, spool_dir)
        self.findings: list[Finding] = []
        self.total = 0
        self._counts: Counter[tuple[str | None, str]] = Counter()  # by key (None outside blocks) and detector

    @property
    def inputs(self) -> list[InputResult]:
        return self.reader.results

    def scan_stream(self, reader: BinaryIO, name: str) -> None:
        """Scan one input (text, compressed or an archive); an unreadable one is a finding."""
        self.reader.stream(reader, name)

    def _walk(self, source: StreamSource, result: InputResult) -> None:
        handler = ScanHandler(self._rules, source.name, self._record, self._everywhere)
        before = self.total
        try:
            collect(source, self._rules, handler, result.stats)
        finally:
            result.findings += self.total - before

    def _not_scanned(self, name: str, reason: str) -> None:
        self._record(Finding(name, None, "not-scanned", reason=reason))
        self.inputs[-1].findings += 1  # the input just set down as not scanned

    def _record(self, finding: Finding) -> None:
        self.total += 1
        self._counts[finding.key, finding.detector] += 1
        if len(self.findings) < MAX_REPORTED:
            self.findings.append(finding)
        self._tell(finding)

    def totals(self) -> dict[str, object]:
        stats = Stats()
        for result in self.inputs:
            stats.add(result.stats)
        by_detector: dict[str, int] = {}
        by_key: dict[str, dict[str, int]] = {}
        for (key, detector), count in self._counts.items():
            by_detector[detector] = by_detector.get(detector, 0) + count
            if key is not None:
                by_key.setdefault(key, {})[detector] = count
        return {
            "inputs": len(self.inputs),
            "not_scanned": sum(result.status != "scanned" for result in self.inputs),
            "bytes": stats.bytes_in,
            "lines": stats.lines,
            "pairs": stats.pairs,
            "findings": self.total,
            "by_detector": dict(sorted(by_detector.items())),
            "by_key": {key: dict(sorted(value.items())) for key, value in sorted(by_key.items())},
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


def describe(rules: Rules, everywhere: bool) -> dict[str, object]:
    """The settings a scan ran with, for the report: rule texts and detector names, never values."""
    return {
        "default-filter-type": rules.default.text,
        "log-filter-data": {key: rule.text for key, rule in rules.rules.items()},
        "detect": list(rules.detectors.names) if rules.detectors is not None else [],
        "everywhere": everywhere,
        **rules.identity.describe(),  # [log-filter-attributes], [log-filter-sip], when configured
    }


def scan_paths(scanner: Scanner | KeyInventory, inputs: Iterable[Path]) -> None:
    """Read files and folders (recursively, in name order) into a scan or a key inventory. What a
    folder holds that cannot be read (an unreadable folder, a link to a folder, a special file)
    is not read, and for scan a finding."""
    scanner.reader.paths(inputs)
