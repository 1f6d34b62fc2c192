"""The handler of `run`: each pair rendered as the rules say, into the masked log.

Free lines come out as they went in; each leaf pair is rendered by rules/treatment.py and
counted, and a skipped list is counted. The walker puts the line together around them.
"""

from __future__ import annotations

from logfilter.engines.blocks import Block
from logfilter.engines.handler import Handler
from logfilter.parsing.model import KVLine, Pair
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.stats import Stats


class RenderHandler(Handler):
    """Renders every pair under its rule (or the detectors' net), counting what each rule did."""

    def __init__(self, rules: Rules, stats: Stats) -> None:
        self._rules, self._stats = rules, stats

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        return treatment.treat(self._rules, self._stats, kv, pair, chosen)

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        treatment.count(self._stats, treatment.SKIP, rule, pair.key_raw)
