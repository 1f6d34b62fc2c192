"""Patterns that match no file (a wrong mount, a typo): said on stderr, on /healthz and in /metrics.

Said at the start, then once a minute while it stays so, and when it changes. A log folder
is often empty before the server's first write, so /healthz stays 200 with the reason for a
grace period (--unmatched-grace); after it, it turns 503, but only while *no* pattern
matches a file: then nothing at all is followed. One pattern among several that matches
nothing (a file that appears only now and then) stays a note on /healthz and a metric.
"""

from __future__ import annotations

from logfilter.follow.health import Health
from logfilter.follow.options import Say
from logfilter.names import printable

REPEAT = 60.0  # seconds between reminders that a pattern still matches no file


class Unmatched:
    """Which patterns match no file now, and since when; told as it changes."""

    def __init__(self, patterns: tuple[str, ...], grace: float, health: Health, say: Say) -> None:
        self.patterns, self.grace, self.health, self.say = patterns, grace, health, say
        self.since: dict[str, float] = {}  # patterns that match no file: since when
        self._said: dict[str, float] = {}  # when each was last said on stderr

    def look(self, matched: set[str], now: float) -> None:
        """The patterns in `matched` match a file now; the others do not."""
        for pattern in self.patterns:
            shown = f"'{printable(pattern)}'"
            if pattern in matched:
                if self.since.pop(pattern, None) is not None:
                    self._said.pop(pattern, None)
                    self.say(f"pattern {shown} matches a file now")
                continue
            since = self.since.setdefault(pattern, now)
            last = self._said.get(pattern)
            if last is None or now - last >= REPEAT:
                self._said[pattern] = now
                still = f"still matches no file, for {int((now - since) // 60)} min" if last is not None else "matches no file"
                self.say(f"warning: pattern {shown} {still}; waiting for one (a wrong mount or a typo?)")
        self._tell_health(now)

    def _tell_health(self, now: float) -> None:
        shown = ", ".join(f"'{printable(pattern)}'" for pattern in self.since)
        self.health.note("patterns", f"no file matches {shown}" if self.since else "")
        if len(self.since) == len(self.patterns) and now - min(self.since.values()) >= self.grace:
            self.health.problem("patterns", f"no file has matched {shown} for {self.grace:g} s; check the mount and the patterns")
        else:
            self.health.solved("patterns")
