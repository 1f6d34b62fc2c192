"""One rule as the configuration wrote it: what it names, its filter type, and where it was written."""

from __future__ import annotations

from dataclasses import dataclass

from logfilter.rules.filters import FilterType


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of [log-filter-data] or --key (`key`: the key it names), or of [log-filter-attributes] /
    [log-filter-sip] (`key`: the attribute, or the header's canonical name); `origin`: file:line or --key."""

    key: str
    filter_type: FilterType
    origin: str
