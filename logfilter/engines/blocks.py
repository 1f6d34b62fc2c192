"""What a KV block is: which lines belong to it, how deep they are indented, and the lists open in it.

A line belongs to the open block when it is not empty, starts with a blank, and either starts
with a quote or is indented deeper than the opener (formats.md §2). Columns count tab stops
every 8. The walker (walker.py) keeps the Block and its Frames; handlers only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from logfilter.parsing.events import WHITESPACE
from logfilter.parsing.model import Layout
from logfilter.rules.filters import FilterType

FAILED_KV_LINE = b"'****'"  # what is left of a KV line that failed closed: a quoted value (untag's is FAILED_TEXT)
NORMAL, DROP, OPAQUE = 0, 1, 2  # a list; a skipped list or line; what cannot be read
TAB_STOP = 8
_QUOTE = ord("'")


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
    """Split a line into its body and its line ending (CRLF, LF or none)."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


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
