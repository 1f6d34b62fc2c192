"""Counts of what a run did: bytes, lines, messages, pairs per treatment, keys met. Counts and names, never values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from itertools import islice
from typing import TYPE_CHECKING

from logfilter.rules.unmatched import MAX_KEYS_SEEN, Unmatched, unmatched

if TYPE_CHECKING:
    from logfilter.rules.compiled import Rules


@cache
def _line_counter() -> Callable[[bytes], int]:
    """Counting the output's lines is a pass over every byte written: in C, where the scanner is built."""
    try:
        from logfilter.engines.scanner import count_lines
    except ImportError:  # the registry says so when it picks an engine
        return lambda data: data.count(b"\n")
    return count_lines  # type: ignore[no-any-return]


@dataclass(slots=True)
class Stats:
    """Running totals for one input, or summed over many.

    `lines` counts input lines. `changed` counts the pairs a rule changed (masked, tagged
    or skipped) by filter type text, then by key as printed (quoted, raw bytes).
    `detected` counts the pairs a detector caught in a value a rule would have left in
    clear (they count in none of copied, masked, tagged, skipped); `detections` holds them
    by detector, then by key. `rules_met` holds the keys of the rules (as the configuration
    writes them) that met a key in a KV block, and `keys_seen` some of the keys met (quoted, as
    printed; at most MAX_KEYS_SEEN): together they say which rules matched nothing and what
    they may have meant (`unmatched_rules`; rules/unmatched.py KeyWatch fills them). Keys are
    names, never values; nothing here holds a value.
    """

    bytes_in: int = 0
    bytes_out: int = 0
    lines: int = 0
    lines_out: int = 0
    messages: int = 0
    pairs: int = 0
    copied: int = 0
    masked: int = 0
    tagged: int = 0
    skipped: int = 0
    failed_closed: int = 0
    detected: int = 0
    changed: dict[str, dict[bytes, int]] = field(default_factory=dict)
    detections: dict[str, dict[bytes, int]] = field(default_factory=dict)
    # A sample for suggestions: which keys it holds depends on where a walk started (a batch
    # range, a follow restart), so two Stats of the same log compare equal whatever it holds.
    keys_seen: set[bytes] = field(default_factory=set, compare=False)
    rules_met: set[str] = field(default_factory=set)

    def unmatched_rules(self, rules: Rules) -> list[Unmatched]:
        """The rules that matched no key met so far, each with the keys it probably meant
        (rules/unmatched.py); none when no KV pair was read at all."""
        return unmatched(rules, self)

    def count_change(self, filter_type: str, key: bytes) -> None:
        """Count one pair that `filter_type` changed."""
        by_key = self.changed.setdefault(filter_type, {})
        by_key[key] = by_key.get(key, 0) + 1

    def count_detection(self, detector: str, key: bytes) -> None:
        """Count one pair whose value `detector` caught."""
        self.detected += 1
        by_key = self.detections.setdefault(detector, {})
        by_key[key] = by_key.get(key, 0) + 1

    def wrote(self, data: bytes, partial: bool = False) -> None:
        """Count output bytes and lines (a last line without its ending counts too, unless the
        rest of it is still to come: `partial`, an overlong line written by parts)."""
        self.bytes_out += len(data)
        self.lines_out += _line_counter()(data) + (not partial and not data.endswith(b"\n") and bool(data))

    def add(self, other: Stats) -> None:
        """Add another run's counts to these."""
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine_all, theirs in ((self.changed, other.changed), (self.detections, other.detections)):
            for name, keys in theirs.items():
                mine = mine_all.setdefault(name, {})
                for key, count in keys.items():
                    mine[key] = mine.get(key, 0) + count
        self.rules_met |= other.rules_met
        room = MAX_KEYS_SEEN - len(self.keys_seen)
        if room > 0:
            self.keys_seen.update(islice(other.keys_seen - self.keys_seen, room))

    def by_filter_type(self) -> dict[str, int]:
        """Changed pairs per filter type, e.g. {"hide": 12, "skip": 3}."""
        return {text: sum(keys.values()) for text, keys in sorted(self.changed.items())}

    def by_detector(self) -> dict[str, int]:
        """Pairs caught per detector, e.g. {"pan": 2}."""
        return {name: sum(keys.values()) for name, keys in sorted(self.detections.items())}

    def by_key(self) -> dict[str, dict[str, int]]:
        """Changed pairs per key (unquoted; bytes that are not UTF-8 as \\x escapes), then per filter type."""
        return _by_key(self.changed)

    def detected_by_key(self) -> dict[str, dict[str, int]]:
        """Caught pairs per key, then per detector."""
        return _by_key(self.detections)

    def as_dict(self) -> dict[str, object]:
        """The counts by name, for reports and tests."""
        counts: dict[str, object] = {name: getattr(self, name) for name in COUNTERS}
        counts["changed"] = {text: dict(keys) for text, keys in self.changed.items()}
        counts["detections"] = {name: dict(keys) for name, keys in self.detections.items()}
        counts["rules_met"] = sorted(self.rules_met)
        return counts

    def summary(self) -> str:
        """One line for stderr."""
        return (
            f"{self.lines} lines, {self.messages} messages, {self.pairs} KV pairs: "
            f"{self.copied} copied, {self.masked} masked, {self.tagged} tagged, "
            f"{self.skipped} skipped, {self.failed_closed} lines failed closed"
        ) + (f", {self.detected} caught by detectors" if self.detected else "")


def _by_key(table: dict[str, dict[bytes, int]]) -> dict[str, dict[str, int]]:
    """{outer: {quoted key bytes: n}} turned into {unquoted key: {outer: n}}, sorted."""
    result: dict[str, dict[str, int]] = {}
    for outer, keys in sorted(table.items()):
        for key, count in keys.items():
            name = key[1:-1].decode("utf-8", "backslashreplace")
            inner = result.setdefault(name, {})
            inner[outer] = inner.get(outer, 0) + count
    return dict(sorted(result.items()))


# The additive counters, in report order.
COUNTERS = tuple(f.name for f in fields(Stats) if f.name not in ("changed", "detections", "keys_seen", "rules_met"))
