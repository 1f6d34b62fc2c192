"""What a KV block is: which lines belong to it, where it ends, how deep they are indented, the lists open in it.

A line belongs to the open block when it is not empty, starts with a blank, and either starts
with a quote or is indented deeper than the opener (formats.md §2). Columns count tab stops
every 8. A line that does not belong ends the block only where a real event starts (`ends`:
a log event at column 0, the message's next attribute); any other such line is doubtful,
and the pair count the header announced (`Block.complete`) and the value before it decide
(`ended_by`). The walker (walker.py) keeps the Block and its Frames; handlers only read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from logfilter.identity.sip import introduces
from logfilter.parsing.events import WHITESPACE, announced, blank_bytes, starts_event
from logfilter.parsing.model import KVLine, Layout, Pair
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType

FAILED_KV_LINE = b"'****'"  # what is left of a KV line that failed closed: a quoted value (untag's is FAILED_TEXT)
NORMAL, DROP, OPAQUE = 0, 1, 2  # a list; a skipped list or line; what cannot be read
TAB_STOP = 8
_QUOTE = ord("'")
_UNCOUNTED = -1  # Block._count before the header was read for it

# A leaf pair as the walker read it: its line, the pair, and the rule chosen for it.
Leaf = tuple[KVLine, Pair, FilterType]


@dataclass(slots=True)
class Frame:
    """An open list (or a dropped or unreadable line) that the lines indented deeper than `own` belong to."""

    own: int
    inherited: FilterType | None  # the list's rule, which wins over every rule inside it
    mode: int  # NORMAL, DROP or OPAQUE
    key: str = ""  # the list key


@dataclass(slots=True)
class Block:
    """The open KV block. Handlers read it; only the walker changes it."""

    layout: Layout
    indent: int
    attribute: str
    frames: list[Frame] = field(default_factory=list)
    header: bytes = b""  # the opener line (no line ending)
    read: int = 0  # top-level pairs read so far
    # The last leaf read, which a doubtful line after it may go on with; None when the last
    # line held none (or none was read). `hidden`: the last line was dropped or failed closed,
    # so whatever goes on with it must not come out either; `damaged`: it failed closed.
    last: Leaf | None = None
    hidden: bool = False
    damaged: bool = False
    _count: int | None = _UNCOUNTED

    def took(self, leaf: Leaf | None, hidden: bool = False, damaged: bool = False) -> None:
        """The walker read a line: its last leaf (None: it held none), dropped or failed closed."""
        self.last, self.hidden, self.damaged = leaf, hidden or damaged, damaged

    @property
    def complete(self) -> bool:
        """Whether every top-level pair the header announced is read (formats.md §5).

        Never, for a block whose header says no count (the PSDK print, a header of another shape).
        """
        if self._count == _UNCOUNTED:
            self._count = announced(self.header) if self.layout == "c" else None
        return self._count is not None and self.read >= self._count

    def enter(self, column: int) -> Frame | None:
        """Close the lists a line at `column` is not in; return the innermost open one (the walker's)."""
        frames = self.frames
        while frames and frames[-1].own >= column:
            frames.pop()
        return frames[-1] if frames else None

    @property
    def path(self) -> tuple[str, ...]:
        """The keys of the open lists, outermost first."""
        return tuple(frame.key for frame in self.frames)

    @property
    def inherited(self) -> FilterType | None:
        """The rule the innermost open list carries to what it holds, if any."""
        return self.frames[-1].inherited if self.frames else None

    @property
    def inherited_from(self) -> str | None:
        """The list key whose rule the innermost list carries: the outermost list with a rule."""
        return inherited_from(self.frames)


def inherited_from(frames: list[Frame]) -> str | None:
    """The key of the outermost of `frames` with a rule (whose rule the innermost carries), if any."""
    return next((frame.key for frame in frames if frame.inherited is not None), None)


def split_eol(line: bytes) -> tuple[bytes, bytes]:
    """Split a line into its body and its line ending: the LF with every CR before it (CRLF, or a
    CRLF log converted twice, `\\r\\r\\n`), the CRs that end an input's last line, or none.

    A line of CRs only (other than CRLF) keeps its first CR as its body: a line of blanks, which
    stays in a block, as a lone CR always did (blocks.belongs).
    """
    body = line.rstrip(b"\r\n")
    if not body and line[:1] == b"\r" and line != b"\r\n":
        return b"\r", line[1:]
    return body, line[len(body) :]


def width(indent: bytes) -> int:
    """The column an indentation reaches, with tab stops every 8 columns."""
    column = 0
    for byte in indent:
        column = (column // TAB_STOP + 1) * TAB_STOP if byte == 9 else column + 1
    return column


def belongs(block: Block, body: bytes) -> bool:
    """Whether a line (no line ending) is part of the open block."""
    # Only an empty line or one that starts without a blank ends a block (formats.md §2).
    if not body or body[0] not in WHITESPACE:
        return False
    stripped = body.lstrip(WHITESPACE)
    if not stripped:
        return True
    return stripped[0] == _QUOTE or width(body[: len(body) - len(stripped)]) > block.indent


def ends(body: bytes) -> bool:
    """Whether a line that does not belong to the open block (no line ending) surely ends it.

    A column-0 line that starts a log event (parsing/events.starts_event) does, and so does a
    line naming an attribute, as the message's next attribute line (`→AttributeConnID→...`):
    indented, or at column 0 with a blank after the name (`AttributeANI→'+1718...'`, a line
    pasted with its indentation lost, which an identity rule reads as the attribute line it is);
    or a SIP introducer at column 0 (`... Sending ... >>>>>`, identity/sip.introduces).
    An empty line, or any other, is doubtful: the walker decides (walker.py).
    """
    if body[:1] in _BLANK_STARTS:
        return body.lstrip(WHITESPACE).startswith(b"Attribute")
    return starts_event(body) or _ATTRIBUTE_LINE.match(body) is not None or introduces(body)


def ended_by(block: Block, body: bytes, rules: Rules) -> bool:
    """Whether a line (no line ending) that does not belong to the open block ends it.

    A real event start does (`ends`), and so does an empty line (it ends a message, formats.md
    §2), unless the header announced pairs that have not come and the block is damaged or has
    read nothing: a log pasted from a web page has blank lines between its lines. Any other
    line is doubtful: it ends a block that read every pair its header announced, unless the
    value before it did not come out as it went in, and a block that has read nothing yet
    when it does not look like a pair; else it goes on with the block (the walker's).
    """
    if ends(body):
        return True
    if not body:
        return block.complete or not (block.damaged or block.read == 0)
    if settled(block, rules):
        return True
    return block.last is None and not block.hidden and block.read == 0 and not pair_like(body)


def settled(block: Block, rules: Rules) -> bool:
    """Whether every line that does not belong to the block ends it: it read all its announced
    pairs, and its last value (if any) came out as it went in. A walk started fresh after it goes on alike."""
    return block.complete and clear_after(block, rules, b"") is not False


def clear_after(block: Block, rules: Rules, more: bytes) -> bool | None:
    """Whether line `more` may go on in clear with the block's last value; None: no value was read."""
    if block.hidden:
        return False
    if block.last is None:
        return None
    kv, pair, chosen = block.last
    return treatment.goes_on_in_clear(rules, kv, pair, chosen, more)


def pair_like(body: bytes) -> bool:
    """Whether a line (no line ending) starts, after any blanks, with a quote of any kind, as a
    pair does: `'RTR'`, a PSDK `'key' [str]`, or one pasted from a web page with its quotes
    made typographic (`‘RTR’ ‘115’`) and its TABs made non-breaking spaces."""
    return _PAIR_LIKE().match(body) is not None


_BLANK_STARTS = tuple(bytes([blank]) for blank in WHITESPACE)
_ATTRIBUTE_LINE = re.compile(rb"Attribute[A-Z][A-Za-z0-9_]*[ \t]")  # an attribute line's start, its name and a blank


@cache
def _PAIR_LIKE() -> re.Pattern[bytes]:  # noqa: N802 - a constant, built once
    quotes = b"['\"`]|" + b"|".join(re.escape(quote.encode()) for quote in "\u00b4\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033")
    return re.compile(blank_bytes() + b"*(?:" + quotes + b")")
