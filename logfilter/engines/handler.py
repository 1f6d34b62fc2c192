"""The small interfaces of a walk: Handler, Parser, and the Walk the loop drives.

The walker tells its Handler what it meets and reads lines with its Parser; the loop
(pipeline.py) drives a Walk: the Walker, the compiled scanner (scanner.pyx) or untag (untag.py).

The walker (walker.py) owns the block logic: which lines belong to a KV block, lists and
their indentation, values left open over several lines, overlong lines, failing closed, and
the counts of lines, messages, pairs and failed lines. What becomes of each line and pair is
the handler's: render masked text (render.py), build JSON objects (jsonl.py), record
findings (audit/findings.py), key shapes (audit/keys.py) or before and after (audit/preview.py).

The walker calls a handler in input order. For a line outside blocks: `free_line`, then
`block_opened` if it opens one. For a line of a block: `kv_line` (before it is read), then
for each pair on it `list_opened` / `list_skipped` / `leaf`, then `kv_line_done`; a line that
cannot be read, or a line of a value left open, is `failed`. A doubtful line (blocks.py) that
goes on with a value that came out as it went in is `continued`; with any other, `failed`. A line longer than the framer
holds is `long_line` at its head (before the walker acts on it) and `long_line_end` at its
end. With identity rules, a line they read (or a line of a SIP message) is `identity_line`
first. Every line's output (as `run` writes it) goes through `emit`, which says what the walk
writes; `flush` writes what the handler still holds.

Every method has a do-nothing default, so a handler defines only what it needs; a handler
reads the open block's state from the Block it is given, never from the walker's insides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

from logfilter.parsing import regex_parser
from logfilter.parsing.model import KVLine, Layout, Opener

if TYPE_CHECKING:
    from logfilter.engines.blocks import Block, Frame
    from logfilter.identity.reader import Found
    from logfilter.parsing.model import Pair
    from logfilter.rules.filters import FilterType

# Called with (line number, attribute name) for a KV line that failed closed; may raise.
OnFailure = Callable[[int, str], None]


class Handler:
    """What happens at each line and pair of a walk. Subclass it and define the events you need."""

    # False: the walker passes over lines outside blocks that open none, unseen (scan, keys):
    # no free_line for them, and no message count.
    reads_free_lines = True

    # How a handler that collects (engines/registry.collecting) can be walked by the compiled
    # scanner, which then tells it, instead of the Walker's events, for the lines it reads in C:
    # `attend`, the tag prefixes of a handler that attends to values in clear (scan's `in_clear`
    # and `search`); `inventory`, each list and leaf (keys': `seen_list`, `seen_leaf`); `preview`,
    # each KV line and its output (`line_seen`). None of them: the Walker reads every line.
    attend: tuple[bytes, ...] | None = None
    inventory = False
    preview = False

    @property
    def holding(self) -> bool:
        """Whether output is held for lines already walked (flush writes it): no fresh walk would go on alike."""
        return False

    def free_line(self, body: bytes, lineno: int, opener: Opener | None) -> None:
        """A line outside blocks (no line ending); `opener`: the block it opens (block_opened follows)."""

    def block_opened(self, block: Block, body: bytes) -> None:
        """A block opened at line `body` (no line ending)."""

    def block_closed(self) -> None:
        """The open block ended: the line being walked is not part of it."""

    def kv_line(self, body: bytes, lineno: int, block: Block) -> bytes | None:
        """A line of `block` (no line ending), before it is read: the body to read (this one, or a
        changed one), or None to pass it over unread, its output the line as it is."""
        return body

    def kv_line_done(self, body: bytes, lineno: int, block: Block, out: bytes) -> None:
        """A line of `block` was read and walked; `out` is its output as run writes it (b"": removed)."""

    def list_opened(self, pair: Pair, frame: Frame, block: Block) -> None:
        """List `pair` opened `frame` (now the innermost of block.frames), which its later lines belong to."""

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        """`rule` (skip) removes list `pair` with everything it holds; its lines are dropped unread."""

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        """A leaf pair of `kv` under the rule chosen for it (its list's, its own, or the default):
        the key, separator and value to write (rules/treatment.py), or None to drop the pair."""
        return None

    def continued(self, body: bytes, lineno: int, block: Block) -> None:
        """A line of `block` (no line ending) that goes on in clear with the value before it (copied)."""

    def failed(self, lineno: int, attribute: str) -> None:
        """A line of an `attribute` block that cannot be read, or that goes on with a value a rule
        changes, or an opener the grammar does not read: it failed closed."""

    def long_line(self, head: bytes, lineno: int, free: bool) -> None:
        """A line longer than the framer holds starts with `head`; `free`: it is outside blocks and
        passes through (else it fails closed whole). Told before the walker acts on it."""

    def long_line_end(self, lineno: int, free: bool, size: int) -> None:
        """The overlong line ended; `size`: its length without the line ending."""

    def identity_line(self, found: Found, lineno: int) -> bytes | None:
        """A line outside blocks that a [log-filter-attributes] / [log-filter-sip] rule reads, or a line
        of a SIP message (identity/reader.py): its output body, which free_line is then told (None:
        removed). Left undefined, the walker renders it as `run` writes it (identity.reader.render)."""
        return found.body

    def emit(self, out: bytes) -> bytes:
        """What the walk writes for output `out` (a line, or a part of an overlong line, as run writes it)."""
        return out

    def flush(self, ended: bool) -> bytes:
        """Output held back for lines already walked; `ended`: no line after this continues them."""
        return b""


def defined(handler: Handler, *hooks: str) -> list[Callable[..., object] | None]:
    """The handler's own methods for `hooks`, None for each it leaves to Handler's do-nothing default."""
    kind = type(handler)
    return [None if getattr(kind, hook) is getattr(Handler, hook) else getattr(handler, hook) for hook in hooks]


class Parser(NamedTuple):
    """How the walker reads one line: a KV line of a layout (raises ParseFailed), a candidate opener."""

    kv_line: Callable[[str, Layout], KVLine]
    opener: Callable[[str], Opener | None]


def _lark_kv_line(text: str, layout: Layout) -> KVLine:
    from logfilter.parsing import lark_parser  # lark is imported only by a walk that reads with it

    return lark_parser.parse_kv_line(text, layout)


def _lark_opener(text: str) -> Opener | None:
    from logfilter.parsing import lark_parser

    return lark_parser.parse_opener(text)


REFERENCE = Parser(_lark_kv_line, _lark_opener)  # the Lark grammar
REGEX = Parser(regex_parser.parse_kv_line, regex_parser.parse_opener)  # regexes derived from it


class Walk(Protocol):
    """What the loop (pipeline.py) drives for one input: the Walker, the compiled scanner, untag."""

    @property
    def idle(self) -> bool: ...  # nothing open: a fresh walk started here would go on alike

    @property
    def mid_line(self) -> bool: ...  # the output so far ends inside an overlong line

    @property
    def inside_value(self) -> bool: ...  # the next line may continue a value or an overlong line

    def feed(self, data: bytes, lineno: int, out: list[bytes]) -> int: ...
    def process(self, line: bytes, lineno: int) -> bytes: ...
    def overlong(self, piece: bytes, part: int, lineno: int) -> bytes: ...
    def flush(self, ended: bool) -> bytes: ...
