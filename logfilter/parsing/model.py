"""Plain data for one parsed KV line: keys, values and the exact text between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ValueKind = Literal["str", "int", "bin"]
Layout = Literal["c", "psdk"]


class ParseFailed(Exception):
    """The line is not of the shape the grammar expects (either parser says so). Carries no input text."""


@dataclass(frozen=True, slots=True)
class Value:
    """A value token as printed: `'text'`, `"text"`, `115` or `[8] 4a 42 37 01..`."""

    kind: ValueKind
    raw: str


@dataclass(frozen=True, slots=True)
class Pair:
    """One key-value pair of a KV line; a list pair has no value and maybe a first sub-pair.

    `sep` is the exact text between the key token and the value: the blanks of the C print,
    `(list) ` of a C list, or ` [str] = ` of the PSDK print (`gap` is its leading blank).
    """

    key_raw: str
    sep: str
    value: Value | None = None
    is_list: bool = False
    sub: Pair | None = None
    gap: str = ""

    @property
    def key(self) -> str:
        """The key's name, without its quotes."""
        return self.key_raw[1:-1]


@dataclass(frozen=True, slots=True)
class KVLine:
    """A whole KV line without its line ending: indentation, pair chain, trailing blanks.

    `suppressed` marks a PSDK line the PSDK already hid (`'key' [output suppressed]`).
    """

    layout: Layout
    indent: str
    pair: Pair
    trail: str = ""
    suppressed: bool = False


@dataclass(frozen=True, slots=True)
class Opener:
    """A line that opens a KV block: its indentation, attribute name and layout.

    `unread`: a line that names a KV attribute where an opener would, but that the grammar does
    not read as one. Its block opens all the same (its pairs must not pass), and the line
    itself fails closed.
    """

    layout: Layout
    indent: str
    attribute: str
    unread: bool = False
