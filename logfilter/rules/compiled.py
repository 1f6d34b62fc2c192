"""Compiles a Policy into the per-key lookup the walk uses: one dict lookup per key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from logfilter.rules.config import Policy
from logfilter.rules.filters import FilterType

if TYPE_CHECKING:
    from logfilter.rules.detect import Detectors


class Rules:
    """The compiled rules: `rule_for(key)` is the key's own rule, or None; `default` else.

    A rule that leaves a value in clear (copy, tag) gives way to `detect_rule` when one of
    `detectors` recognizes something in the value (rules/treatment.py).
    """

    __slots__ = (
        "_folded", "_quoted", "default", "detect_rule", "detectors", "identity", "ignore_key_case", "origins",
        "rule_for", "rules",
    )

    def __init__(self, policy: Policy) -> None:
        self.default: FilterType = policy.default
        # The safety net: values a rule leaves in clear are searched by these, and what
        # they recognize is masked with detect_rule instead.
        self.detectors: Detectors | None = _detectors(policy.detect) if policy.detect else None
        self.detect_rule: FilterType = policy.detect_filter_type
        self.ignore_key_case = policy.ignore_key_case
        # [log-filter-attributes] / [log-filter-sip], read by identity/reader.py; empty: nothing reads those lines.
        self.identity = policy.identity
        # Each key's own rule, by key as written in the configuration.
        self.rules: dict[str, FilterType] = {rule.key: rule.filter_type for rule in policy.rules}
        # Where each rule is written (file:line, or --key), for the report of rules that match nothing.
        self.origins: dict[str, str] = {rule.key: rule.origin for rule in policy.rules}
        # Each rule's key by the key token it matches (quoted, as printed), and by its folded name.
        self._quoted = {f"'{key}'".encode("utf-8", "surrogateescape"): key for key in self.rules}
        self._folded = {key.casefold(): key for key in self.rules}
        if policy.ignore_key_case:
            folded = {rule.key.casefold(): rule.filter_type for rule in policy.rules}

            def rule_for(key: str) -> FilterType | None:
                return folded.get(key.casefold())

            self.rule_for = rule_for
        else:
            self.rule_for = self.rules.get

    def met(self, keys: Iterable[bytes]) -> set[str]:
        """The rules (their keys, as the configuration writes them) that `keys` (quoted, as printed) match."""
        if not self.ignore_key_case:
            quoted = self._quoted
            return {quoted[key] for key in keys if key in quoted}
        folded = self._folded
        names = (key[1:-1].decode("utf-8", "surrogateescape").casefold() for key in keys)
        return {folded[name] for name in names if name in folded}


def _detectors(names: tuple[str, ...]) -> Detectors:
    from logfilter.rules.detect import detectors  # phonenumbers and stdnum: only for rules that detect

    return detectors(names)


def compile_policy(policy: Policy) -> Rules:
    """Build the Rules for a Policy once, before any record is read."""
    return Rules(policy)
