"""Near misses: how many edits apart two spellings are, and the nearest of a few valid ones.

Used where a configuration names something that does not exist (a section, a filter type) and
where a rule's key matches nothing in the logs: the message says what was probably meant. An
edit is one character inserted, deleted or replaced, or two neighbours swapped
(`hdie` -> `hide`, `log-filtre` -> `log-filter`).
"""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str, limit: int = 3) -> int:
    """The edits between `a` and `b` (optimal string alignment); `limit` + 1 when more than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, start=1):
            cost = char != other
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return min(row[-1], limit + 1)


def nearest(word: str, choices: Iterable[str], limit: int = 2) -> str | None:
    """The choice fewest edits from `word` (case ignored), if it is at most `limit` edits away; ties: the first."""
    folded = word.casefold()
    best: tuple[int, str] | None = None
    for choice in choices:
        edits = distance(folded, choice.casefold(), limit)
        if edits <= limit and (best is None or edits < best[0]):
            best = (edits, choice)
    return best[1] if best is not None else None
