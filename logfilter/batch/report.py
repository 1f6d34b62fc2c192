"""The batch report: each file's entry (names, status, counts; never data), totals, settings.

Entries are kept in the state too, so a re-run's report still counts a file it did not redo.
"""

from __future__ import annotations

from collections.abc import Sequence

from logfilter import __version__
from logfilter.batch.rewrite import Outcome
from logfilter.batch.settings import Settings
from logfilter.names import printable
from logfilter.rules.unmatched import Unmatched
from logfilter.stats import COUNTERS, Stats


def report(
    entries: list[dict[str, object]], settings: Settings, outdir: str, unmatched: Sequence[Unmatched] = ()
) -> dict[str, object]:
    """The JSON report: the entries of every file, their totals, the settings, and the rules
    that matched no key in any file (rules/unmatched.py)."""
    totals: dict[str, object] = {"files": len(entries)}
    statuses: dict[str, int] = {}
    for item in entries:
        status = str(item["status"])
        statuses[status] = statuses.get(status, 0) + 1
    totals |= dict(sorted(statuses.items()))
    totals |= _sum([item for item in entries if "pairs" in item])
    return {
        "logfilter": __version__,
        "outdir": printable(outdir),
        "config": settings.describe(),
        "files": entries,
        "totals": totals,
        "unmatched_rules": [rule.as_dict() for rule in unmatched],
    }


def rules_met(item: dict[str, object]) -> Stats:
    """The pairs read and the rules met recorded in an entry (of this run or an earlier one)."""
    recorded = Stats(pairs=int(item.get("pairs", 0)))  # type: ignore[call-overload]
    recorded.rules_met.update(item.get("rules_met", ()))  # type: ignore[arg-type]
    return recorded


def entry(outcome: Outcome, target: str | None) -> dict[str, object]:
    """One file's (or member's) report entry: names, status and counts, never data."""
    item: dict[str, object] = {"input": outcome.name}
    if target is not None:
        item["output"] = printable(target) if outcome.status in ("done", "kept", "up-to-date") else None
    item |= {"kind": outcome.kind, "status": outcome.status}
    if outcome.reason is not None:
        item["reason"] = outcome.reason
    if outcome.status in ("done", "kept"):
        item |= _counts(outcome.stats)
    if outcome.warnings:
        item["warnings"] = outcome.warnings
    if outcome.members:
        item["members"] = [entry(member, None) for member in outcome.members]
    return item


def _counts(stats: Stats) -> dict[str, object]:
    counts: dict[str, object] = {("lines_in" if name == "lines" else name): getattr(stats, name) for name in COUNTERS}
    counts["changed_by_filter_type"] = stats.by_filter_type()
    counts["changed_by_key"] = stats.by_key()
    counts["detected_by_detector"] = stats.by_detector()
    counts["detected_by_key"] = stats.detected_by_key()
    counts["rules_met"] = sorted(stats.rules_met)  # the configuration's keys, never data
    return counts


def _sum(entries: list[dict[str, object]]) -> dict[str, object]:
    """Totals of entries' counts (fresh or recorded by an earlier run)."""
    totals = Stats()
    tables: dict[str, dict[str, int]] = {"changed_by_filter_type": {}, "detected_by_detector": {}}
    keyed: dict[str, dict[str, dict[str, int]]] = {"changed_by_key": {}, "detected_by_key": {}}
    for item in entries:
        totals.rules_met.update(item.get("rules_met", ()))  # type: ignore[arg-type]
        for name in COUNTERS:
            # .get: entries recorded by a version without a counter count 0 of it
            setattr(totals, name, getattr(totals, name) + item.get("lines_in" if name == "lines" else name, 0))  # type: ignore[operator]
        for column, table in tables.items():
            for text, count in item.get(column, {}).items():  # type: ignore[attr-defined]
                table[text] = table.get(text, 0) + count
        for column, by_key in keyed.items():
            for key, inner in item.get(column, {}).items():  # type: ignore[attr-defined]
                mine = by_key.setdefault(key, {})
                for text, count in inner.items():
                    mine[text] = mine.get(text, 0) + count
    counts = _counts(totals)
    for column, table in tables.items():
        counts[column] = dict(sorted(table.items()))
    for column, by_key in keyed.items():
        counts[column] = {key: dict(sorted(value.items())) for key, value in sorted(by_key.items())}
    return counts
