"""Rules that match nothing: which, and the keys met that each one probably meant.

Keys match exactly and case-sensitively (as the servers match them), so `Password=hide` masks
nothing in a log that says `PASSWORD`, silently. Each walk has a KeyWatch that notes in its
Stats the rules whose key it meets; at the end a front door asks `Stats.unmatched_rules(rules)`
and says which rules met no key, with the keys met that are the same in another case or one
edit away.

The watch costs next to nothing once every rule has met its key. Until then, for the KV lines
the compiled scanner reads in C (engines/scanner.pyx, which tells it each rule's key once, as it
meets it), it looks for the keys of the rules still waiting in each chunk with a plain byte
search, and only in a chunk that holds one does it read the keys of those lines; it keeps keys
for the suggestions from every pair the walker reads and from the scanner's lines of the
first SAMPLE_BYTES of an input, of one chunk in SAMPLE_EVERY after that, and of any chunk that
holds a waiting key in capitals, in small letters or capitalized. Which rules matched is exact;
a key one edit away met only a few times far into a large input may be missing from the
suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from logfilter.names import printable
from logfilter.parsing.regex_parser import key_token_ok, row_keys_regex, token
from logfilter.rules.spelling import distance

if TYPE_CHECKING:
    from logfilter.rules.compiled import Rules
    from logfilter.stats import Stats

MAX_LIKELY = 5  # keys named per rule
MAX_KEYS_SEEN = 10_000  # distinct keys kept for the suggestions (a log with more is damaged or hostile)
SAMPLE_BYTES = 1 << 20  # the first MiB of each input is sampled whole, then every SAMPLE_EVERY-th chunk
SAMPLE_EVERY = 16
_ENCODING = ("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A rule (`key=filter_type`, written at `origin`: file:line or --key) that matched no key met."""

    key: str
    filter_type: str
    origin: str
    likely: tuple[str, ...] = ()  # keys met that it probably meant, the same key in another case first

    def message(self) -> str:
        """One line for stderr or a log: `filter.ini:4: the rule Password=hide matched no key ...; did you mean PASSWORD? ...`."""
        text = f"{self.origin}: the rule {printable(self.key)}={self.filter_type} matched no key in the logs read"
        if self.likely:
            keys = " or ".join(printable(key) for key in self.likely)
            return f"{text}; did you mean {keys}? (keys match case and spelling exactly)"
        return text

    def as_dict(self) -> dict[str, object]:
        """For JSON reports: the rule, where it is written, and the keys it probably meant."""
        return {
            "key": printable(self.key),
            "filter_type": self.filter_type,
            "origin": self.origin,
            "likely": [printable(key) for key in self.likely],
        }


def unmatched(rules: Rules, stats: Stats) -> list[Unmatched]:
    """The rules of `rules` that met no key in the walks `stats` counted, in the order written.

    None when no KV pair was read: then no rule could have matched, and that is no news
    about any one of them.
    """
    if not stats.pairs:
        return []
    seen = sorted(key[1:-1].decode(*_ENCODING) for key in stats.keys_seen)
    return [
        Unmatched(key, rules.rules[key].text, origin, _likely(key, seen))
        for key, origin in rules.origins.items()
        if key not in stats.rules_met
    ]


def _likely(key: str, seen: list[str]) -> tuple[str, ...]:
    """The keys met that `key` probably meant: the same in another case, or one edit away (case aside)."""
    folded = key.casefold()
    near = [(other.casefold() != folded, other) for other in seen if other != key and distance(other.casefold(), folded, 1) <= 1]
    return tuple(other for _, other in sorted(near))[:MAX_LIKELY]


Contains = Callable[[bytes, list[bytes]], bool]


def _contains(buf: bytes, keys: list[bytes]) -> bool:
    return any(key in buf for key in keys)


class KeyWatch:
    """Notes in `stats` the rules whose key a walk meets, and while some rule has met none, keys it sees.

    `pending`: some rule has met no key (as far as this watch knows: another watch on the same
    Stats may have noted it since; the next call finds out). The compiled scanner calls `chunk` for
    each chunk while pending, and `rows` for the stretches of KV lines it reads while `busy`; the
    walker calls `key`, and so does the scanner for each rule's key when it first meets it.
    """

    def __init__(self, rules: Rules, stats: Stats, contains: Contains = _contains) -> None:
        """`contains`: whether any of some keys is in a chunk (the scanner's is glibc's memmem, in C)."""
        self._rules, self._stats = rules, stats
        self._contains = contains
        self._keys = row_keys_regex()
        self._sampled, self._chunks = 0, 0
        self._known = -1
        self._waiting: list[bytes] = []  # the rules waiting, as quoted keys
        self._variants: list[bytes] = []  # and the same keys in capitals, in small letters, capitalized
        self._search: re.Pattern[bytes] | None = None
        self._sample = False
        self.pending, self.busy = True, False
        self._sync()

    def key(self, key_raw: str) -> None:
        """A key the walker read (quoted, as printed); call it only while `pending`."""
        key = key_raw.encode(*_ENCODING)
        seen = self._stats.keys_seen
        if key in seen:
            return  # whether it has a rule was noted when it was first seen
        if len(seen) < MAX_KEYS_SEEN:
            seen.add(key)
        self._note(self._rules.met((key,)))

    def chunk(self, buf: bytes) -> None:
        """A chunk the scanner is about to walk; call it only while `pending`. Sets `busy`: whether
        its bulk rows need a look (a rule's key is in it somewhere, or its keys are sampled)."""
        if self._known != len(self._stats.rules_met):
            self._sync()
        self._chunks += 1
        seen = self._stats.keys_seen
        self._variants = [key for key in self._variants if key not in seen]  # one chunk each is enough
        self._sample = self.pending and (
            self._sampled < SAMPLE_BYTES
            or self._chunks % SAMPLE_EVERY == 0
            or self._contains(buf, self._variants)  # the usual mistake: PASSWORD written Password
        )
        if self._sample:
            self._sampled += len(buf)
        # A quoted key is found by a plain byte search, far faster than a regex over the chunk.
        waiting = self._rules.ignore_key_case or self._contains(buf, self._waiting)
        self.busy = self._sample or self.pending and waiting

    def rows(self, buf: bytes, start: int, end: int) -> None:
        """KV lines the scanner read in C, from the LF at `start` to `end`; only while `busy`."""
        keys = None
        if self._sample:
            keys = self._keys.findall(buf, start, end)
            seen = self._stats.keys_seen
            if len(seen) < MAX_KEYS_SEEN:
                seen.update(keys)
        if not self.pending:
            return
        if self._search is not None:
            keys = self._search.findall(buf, start, end)
        elif keys is None:  # keys fold case: the rules cannot be searched for as written
            keys = self._keys.findall(buf, start, end)
        if keys:
            self._note(self._rules.met(keys))

    def _note(self, met: set[str]) -> None:
        """Note rules met; from now on, search only for the others."""
        rules_met = self._stats.rules_met
        if met - rules_met or self._known != len(rules_met):
            rules_met |= met
            self._sync()

    def _sync(self) -> None:
        """Take up the rules met so far (by any watch of the Stats): what is still searched for."""
        met = self._stats.rules_met
        self._known = len(met)
        # A key that cannot be a key token (a quote then a blank) never matches: not waited for.
        waiting = [key for key in self._rules.rules if key not in met and key_token_ok(key)]
        self.pending = bool(waiting)
        self.busy = self.busy and self.pending
        self._waiting = [f"'{key}'".encode(*_ENCODING) for key in waiting]
        variants = {f"'{spelled}'".encode(*_ENCODING) for key in waiting for spelled in (key.upper(), key.lower(), key.capitalize())}
        self._variants = list(variants - set(self._waiting))
        if not waiting or self._rules.ignore_key_case:
            self._search = None
            return
        # A leaf row's KEY token is exactly 'K' when a blank follows it (K is a key token).
        names = b"|".join(re.escape(key) for key in sorted(self._waiting, key=len, reverse=True))
        self._search = re.compile(b"\n" + token("WS").encode() + b"(" + names + b")[ \t]")
