"""Counts of what a run did: lines, messages, pairs per treatment. Counts, never values."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class Stats:
    """Running totals, shared by every input of one run."""

    lines: int = 0
    messages: int = 0
    pairs: int = 0
    copied: int = 0
    masked: int = 0
    tagged: int = 0
    skipped: int = 0
    failed_closed: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name, for reports."""
        return asdict(self)

    def summary(self) -> str:
        """One line for stderr."""
        return (
            f"{self.lines} lines, {self.messages} messages, {self.pairs} KV pairs: "
            f"{self.copied} copied, {self.masked} masked, {self.tagged} tagged, "
            f"{self.skipped} skipped, {self.failed_closed} lines failed closed"
        )
