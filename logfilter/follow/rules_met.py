"""Rules that have matched no key in the files followed (issue 20.1): on stderr and in /metrics.

Keys match exactly, case included, so `Password=hide` masks nothing in a log that says
`PASSWORD`. The follower looks whenever it has caught up with every file (what it has read is
then all there is), at most once a minute: each rule that met no key is said once on stderr,
with the keys it probably meant (rules/unmatched.py), and shown by `logfilter_rules_unmatched`;
a rule that meets a key later is said to, and leaves it. Health is not touched: a key may just
not have come yet, and one option file often serves several servers. Nothing is said before
the first KV pair is read.
"""

from __future__ import annotations

from logfilter.follow.options import Say
from logfilter.names import printable
from logfilter.rules.compiled import Rules
from logfilter.rules.unmatched import Unmatched
from logfilter.stats import Stats

EVERY = 60.0  # seconds at least between looks


class UnmatchedRules:
    """The rules that met no key in what the follower read; told as it changes."""

    def __init__(self, stats: Stats, say: Say) -> None:
        self._stats, self._say = stats, say
        self.rules: list[Unmatched] = []  # as at the last look (read by /metrics)
        self._next = 0.0

    def look(self, rules: Rules, now: float, caught_up: bool) -> None:
        """Look again if the follower has `caught_up` with its files and a minute has passed."""
        if not caught_up or now < self._next or not self._stats.pairs:
            return  # before the first KV pair no rule could have matched: that says nothing
        self._next = now + EVERY
        before = {rule.key for rule in self.rules}
        self.rules = self._stats.unmatched_rules(rules)
        after = {rule.key for rule in self.rules}
        for rule in self.rules:
            if rule.key not in before:
                self._say(f"warning: {rule.message()}")
        for key in sorted(before - after):
            self._say(f"the rule for {printable(key)} matched a key now")
