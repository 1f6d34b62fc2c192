"""What the pairs of one KV line become: the lists it opens, whose rule wins, and each leaf, the handler's.

A line may open lists and end in a leaf, `'A'(list) 'B'(list) 'C'→'v'`, or hold a leaf alone.
A rule on a list key wins over every rule inside the list (docs/decisions.md, "Structure");
each list opened becomes a Frame of the block that its later, deeper lines belong to, and a
skipped one drops them. The walker (walker.py) reads the line; what a leaf becomes is its
handler's (handler.py).
"""

from __future__ import annotations

from logfilter.engines.blocks import DROP, NORMAL, Block, Frame
from logfilter.engines.handler import Handler, defined
from logfilter.parsing.model import KVLine, Pair
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.rules.unmatched import KeyWatch
from logfilter.stats import Stats


class LinePairs:
    """Walks the pairs of the KV lines of one walk, for one handler."""

    def __init__(self, rules: Rules, stats: Stats, handler: Handler) -> None:
        self._rules, self._stats, self._handler = rules, stats, handler
        (self._told_list,) = defined(handler, "list_opened")
        self._keys = KeyWatch(rules, stats)  # the rules whose keys the walk meets

    def chosen(self, pair: Pair, inherited: FilterType | None) -> FilterType:
        """The rule of leaf `pair`: its list's (`inherited`), its own, or the default."""
        return inherited or self._rules.rule_for(pair.key) or self._rules.default

    def walk(self, kv: KVLine, inherited: FilterType | None, column: int, step: int, block: Block) -> str | None:
        """The new text of line `kv` (at `column`, in a list whose rule is `inherited`), or None when it is dropped.

        A list opened at chain position `depth` owns the later lines indented deeper than
        `column + depth * step` (one TAB, or one space, per level).
        """
        stats, handler, frames = self._stats, self._handler, block.frames
        rule_for = self._rules.rule_for
        parts = [kv.indent]
        pair = kv.pair
        depth = 0
        while True:
            stats.pairs += 1
            if self._keys.pending:  # rules that match nothing
                self._keys.key(pair.key_raw)
            own_rule = rule_for(pair.key)
            if not pair.is_list:
                chosen = inherited or own_rule or self._rules.default
                block.took((kv, pair, chosen))
                text = handler.leaf(kv, pair, chosen, block)
                if text is None:
                    # A skipped first sub-pair leaves `'key'(list) ` on its list's line.
                    return "".join(parts) if depth else None
                parts.append(text)
                break
            # A rule on a list key wins over every rule inside the list.
            rule = inherited if inherited is not None else own_rule
            if rule is not None and rule.action == "skip":
                block.took(None, hidden=True)
                handler.list_skipped(pair, rule, block)
                frames.append(Frame(column + depth * step, None, DROP))
                return "".join(parts) if depth else None
            frames.append(Frame(column + depth * step, rule, NORMAL, pair.key))
            if self._told_list is not None:
                self._told_list(pair, frames[-1], block)
            parts += (pair.key_raw, pair.sep)
            if pair.sub is None:
                block.took(None)  # no value on the line
                break
            inherited, pair, depth = rule, pair.sub, depth + 1
        parts.append(kv.trail)
        return "".join(parts)
