"""Values left tagged in clear: what `untag` watches its own output for, so it never does nothing silently.

untag hides the values wrapped in the tag pairs it is given (`<#`...`#>`, the Genesys default,
unless told others with --tags or -c). A log tagged with another pair passes through it
unchanged, values in clear. The pairs of the vendor guide's tag() examples (`<!--`...`-->`,
which the README and samples/filter.ini use too, and `<**`...`**>`) are well known; when one
of them, not among the pairs untag was given, still wraps a value in its output, untag says so
and fails (TagSpotter.check). A value is recognized by the prefix right after a blank (the
separator after its key) and before the first character of a value token (a quote, a digit, a
sign or the `[` of a binary value): an HTML comment in a SIP body (`<!-- note -->`) is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from logfilter.engines.untag import DEFAULT_PAIR, TagPair
from logfilter.errors import LogFilterError
from logfilter.sinks.streams import Sink

KNOWN_PAIRS: tuple[TagPair, ...] = (("<!--", "-->"), ("<**", "**>"))


def shown(pair: TagPair) -> str:
    """A tag pair as the user writes it for --tags: `<!--,-->`."""
    return f"{pair[0]},{pair[1]}"


class TagSpotter:
    """A Sink that passes untag's output on and counts the values still wrapped in a known tag pair it was not given."""

    def __init__(self, sink: Sink, in_use: Iterable[TagPair]) -> None:
        self._sink = sink
        used = set(in_use)
        self._patterns = [
            (pair, re.compile(rb"[ \t]" + re.escape(pair[0].encode()) + rb"['\"0-9\[-]"))
            for pair in KNOWN_PAIRS
            if pair not in used
        ]
        self.found: dict[TagPair, int] = {}
        self.first_line: dict[TagPair, int] = {}
        self._lines = 0

    def write(self, data: bytes) -> None:
        for pair, pattern in self._patterns:
            hits = pattern.findall(data)
            if hits:
                if pair not in self.found:
                    self.first_line[pair] = self._lines + data.count(b"\n", 0, pattern.search(data).start()) + 1  # type: ignore[union-attr]
                self.found[pair] = self.found.get(pair, 0) + len(hits)
        self._lines += data.count(b"\n")
        self._sink.write(data)

    def flush(self) -> None:
        self._sink.flush()

    def close(self) -> None:
        self._sink.close()

    def check(self) -> None:
        """Raise LogFilterError (exit 1) when values tagged with a known pair untag was not given went out in clear."""
        if not self.found:
            return
        pair, count = next(iter(self.found.items()))
        msg = (
            f"{count} values tagged with {shown(pair)} are still in clear in the output (the first on line "
            f"{self.first_line[pair]} of it): untag hides only the tags it is given ({shown(DEFAULT_PAIR)} unless told); "
            f"run it again with --tags '{shown(pair)}', or with -c and the rules file that tagged the log"
        )
        raise LogFilterError(msg)
