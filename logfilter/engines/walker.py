"""The block logic (LineEngine) and the reference engine: the Chain applied to every KV pair, line by line.

A line belongs to a KV block when it follows a block opener (grammars/tlib.lark `opener`),
is not blank, starts with a blank, and either starts with a quote or is indented deeper
than the opener. Inside a block, indentation decides which open list a line belongs to;
the grammar decides what the line is made of. Lines outside blocks come out untouched.
The engine never needs a later line to decide about an earlier one, so each line can be
written as soon as it is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from logfilter.parsing import events, lark_parser
from logfilter.parsing.lark_parser import ParseFailed, message_header_regex, opener_hint_regex
from logfilter.parsing.model import KVLine, Layout, Opener, Pair
from logfilter.rules.compiled import Chain
from logfilter.rules.filters import FilterType
from logfilter.stats import Stats

FAILED_CLOSED = b"'****'"
SUPPRESSED = "[output suppressed]"
# A line starting with any of these is indented; one made only of them carries no data.
WHITESPACE = b" \t\r\v\f"
_TAB_STOP = 8
_QUOTE = ord("'")
NORMAL, _DROP, _OPAQUE = 0, 1, 2
# The parts of a line longer than the framer holds (logfilter/overlong.py), as the engine gets them.
HEAD, MORE, END = 0, 1, 2
_PASS, _MASK = 1, 2
# The actions that print a value as it is, so detectors look at it.
IN_CLEAR = ("copy", "tag")

# Called with (line number, attribute name) for a KV line that failed closed; may raise.
OnFailure = Callable[[int, str], None]
ParseKVLine = Callable[[str, Layout], KVLine]
ParseOpener = Callable[[str], Opener | None]


def split_eol(line: bytes) -> tuple[bytes, bytes]:
    """Split a line into its body and its line ending (CRLF, LF or none)."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


@dataclass(slots=True)
class _Frame:
    """An open list (or a dropped or unreadable line) that deeper lines belong to."""

    own: int  # lines indented deeper than this column belong to it
    inherited: FilterType | None
    mode: int
    key: str = ""  # the list key, for the nesting path (logfilter keys)


@dataclass(slots=True)
class Block:
    layout: Layout
    indent: int
    attribute: str
    frames: list[_Frame] = field(default_factory=list)


class LineEngine:
    """Masks one input stream line by line; create one per input file.

    The block logic lives here once; a subclass says which parser reads one line.
    """

    parse_kv_line: ParseKVLine
    parse_opener: ParseOpener

    def __init__(self, chain: Chain, stats: Stats, on_failure: OnFailure) -> None:
        self._chain = chain
        self._stats = stats
        self._on_failure = on_failure
        self._block: Block | None = None
        # The quote that ends a value a failed line left open: lines until then fail closed.
        self._awaiting: bytes | None = None
        self._long = 0  # inside an overlong line: _PASS it through or _MASK it
        self._long_quote: bytes | None = None
        self._long_tail = b""
        self._headers = message_header_regex()
        self._opener_hint = opener_hint_regex()

    @property
    def idle(self) -> bool:
        """Whether no KV block is open: an engine started fresh here would go on alike."""
        return self._block is None and self._awaiting is None and not self._long

    @property
    def mid_line(self) -> bool:
        """Whether the output so far ends inside an overlong line (more of it is to come)."""
        return self._long != 0

    @property
    def inside_value(self) -> bool:
        """Whether the next line may continue a value left open or an overlong line: not a place
        where a fresh engine goes on alike, even at a split point."""
        return self._awaiting is not None or self._long != 0

    def feed(self, data: bytes, lineno: int, out: list[bytes]) -> int:
        """Append the output for `data` (whole lines; the first is line `lineno`) to `out`.

        Return the number of lines read. Output for lines before a failure that raises
        is already in `out`.
        """
        lines = data.split(b"\n")
        lines.pop()  # data ends with a line feed
        process = self.process
        for offset, line in enumerate(lines):
            out.append(process(line + b"\n", lineno + offset))
        return len(lines)

    def process(self, line: bytes, lineno: int) -> bytes:
        """Return the output bytes for one input line (with its line ending, if any)."""
        self._stats.lines += 1
        return self._line(line, lineno)

    def _line(self, line: bytes, lineno: int) -> bytes:
        body, eol = split_eol(line)
        block = self._block
        if block is not None:
            if self._awaiting is not None:
                if not events.starts_event(body):
                    return self._continued(block, body, eol, lineno)
                self._awaiting = None
            if belongs(block, body):
                return self._kv_line(block, body, eol, lineno)
            self._block = None
        self._free_line(body)
        return line

    def _free_line(self, body: bytes) -> None:
        if self._headers.search(body):
            self._stats.messages += 1
        self._open(body)

    def _open(self, body: bytes) -> None:
        """Open a block if this free line is an opener."""
        # Only lines naming a KV attribute (or KVList:) can open a block: parse those alone.
        if self._opener_hint.search(body):
            opener = self.parse_opener(body.decode("utf-8", "surrogateescape"))
            if opener is not None:
                self._block = Block(opener.layout, width(opener.indent.encode()), opener.attribute)

    def _kv_line(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        lead = len(body) - len(body.lstrip(WHITESPACE))
        if lead == len(body):
            return body + eol  # blanks only: still inside the block, nothing to mask
        column = width(body[:lead])
        frames = block.frames
        while frames and frames[-1].own >= column:
            frames.pop()
        top = frames[-1] if frames else None
        if top is not None and top.mode == _DROP:
            return b""
        if top is not None and top.mode == _OPAQUE:
            return self._fail(block, body[:lead], eol, column, lineno, body)
        try:
            kv = self.parse_kv_line(body.decode("utf-8", "surrogateescape"), block.layout)
        except ParseFailed:
            return self._fail(block, body[:lead], eol, column, lineno, body)
        step = _TAB_STOP if body[lead - 1] == 9 else 1
        out = self._render(kv, top.inherited if top else None, column, step, frames)
        return b"" if out is None else out.encode("utf-8", "surrogateescape") + eol

    def _fail(self, block: Block, indent: bytes, eol: bytes, column: int, lineno: int, body: bytes = b"") -> bytes:
        self._stats.failed_closed += 1
        self._on_failure(lineno, block.attribute)
        # Deeper lines may continue what could not be read: they fail closed too; and so do
        # the lines of a value it left open, wherever they start (logfilter/events.py).
        block.frames.append(_Frame(column, None, _OPAQUE))
        self._awaiting = events.opened(body)
        return indent + FAILED_CLOSED + eol

    def _continued(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        """A line after a failed line that left a value open: masked, up to the line closing it."""
        stripped = body.lstrip(WHITESPACE)
        if not stripped:
            return body + eol  # no data on it; the value may go on after it
        if events.closes(body, self._awaiting):  # type: ignore[arg-type]
            self._awaiting = None
        self._stats.failed_closed += 1
        self._on_failure(lineno, block.attribute)
        return body[: len(body) - len(stripped)] + FAILED_CLOSED + eol

    def overlong(self, piece: bytes, part: int, lineno: int) -> bytes:
        """The output for one part (HEAD, MORE or END) of a line longer than the framer holds.

        The head decides, as for a whole line: a line inside a KV block (or inside a value a
        failed line left open) fails closed whole, its text dropped; any other line passes
        through unchanged, part by part. Only the head is read (for a message header or an
        opener); the end part carries the line ending (none at the end of the input).
        """
        if part == HEAD:
            self._stats.lines += 1
            self._long_tail = piece[-64:]
            placeholder = self._long_head(piece, lineno)
            self._long = _PASS if placeholder is None else _MASK
            return piece if placeholder is None else placeholder
        self._long_tail = (self._long_tail + piece)[-64:]
        if part == MORE:
            return piece if self._long == _PASS else b""
        mode, self._long = self._long, 0
        if mode == _PASS:
            return piece
        body, eol = split_eol(self._long_tail)
        if self._long_quote is not None and not events.closes(body, self._long_quote):
            self._awaiting = self._long_quote  # the value goes on after this line
        return eol

    def _long_head(self, head: bytes, lineno: int) -> bytes | None:
        """Read the head of an overlong line: its placeholder when it fails closed, else None."""
        block = self._block
        lead = len(head) - len(head.lstrip(WHITESPACE))
        if block is not None and self._awaiting is not None and not events.starts_event(head):
            self._long_quote, self._awaiting = self._awaiting, None
            self._stats.failed_closed += 1
            self._on_failure(lineno, block.attribute)
            return head[:lead] + FAILED_CLOSED
        self._awaiting = None
        if block is not None and belongs(block, head):
            self._long_quote = events.opened(head + b"\x00")  # the line goes on: nothing closes at the cut
            placeholder = self._fail(block, head[:lead], b"", width(head[:lead]), lineno)
            self._awaiting = None  # decided at the line's end
            return placeholder
        self._long_quote = None
        self._block = None
        self._free_line(head)
        return None

    def _render(
        self, kv: KVLine, inherited: FilterType | None, column: int, step: int, frames: list[_Frame]
    ) -> str | None:
        """The new line text, or None when the whole line is skipped.

        A list opened at chain position `depth` of a line at `column` owns the later lines
        indented deeper than `column + depth * step` (one TAB, or one space, per level).
        """
        stats = self._stats
        rule_for = self._chain.rule_for
        parts = [kv.indent]
        pair = kv.pair
        depth = 0
        while True:
            stats.pairs += 1
            own_rule = rule_for(pair.key)
            if not pair.is_list:
                text = self._leaf(kv, pair, inherited or own_rule or self._chain.default)
                if text is None:
                    # A skipped first sub-pair leaves `'key'(list) ` on its list's line.
                    return "".join(parts) if depth else None
                parts.append(text)
                break
            # A rule on a list key wins over every rule inside the list.
            rule = inherited if inherited is not None else own_rule
            if rule is not None and rule.action == "skip":
                self._skip_list(pair, rule)
                frames.append(_Frame(column + depth * step, None, _DROP))
                return "".join(parts) if depth else None
            frames.append(_Frame(column + depth * step, rule, NORMAL, pair.key))
            self._opened_list(pair, frames[-1])
            parts += (pair.key_raw, pair.sep)
            if pair.sub is None:
                break
            inherited, pair, depth = rule, pair.sub, depth + 1
        parts.append(kv.trail)
        return "".join(parts)

    def flush(self, ended: bool) -> bytes:
        """Output held back for lines already read; `ended`: no line read after this continues them.

        This engine writes each line as it reads it, so it holds nothing; a subclass that
        writes whole messages (jsonl.py) returns the message in progress.
        """
        return b""

    def _opened_list(self, pair: Pair, frame: _Frame) -> None:
        """Called when list `pair` opens `frame`, which the later lines of the list belong to."""

    def _skip_list(self, pair: Pair, rule: FilterType) -> None:
        """Count a list key that `rule` (skip) removes with all it holds."""
        self._stats.skipped += 1
        self._stats.count_change(rule.text, pair.key_raw.encode("utf-8", "surrogateescape"))

    def _leaf(self, kv: KVLine, pair: Pair, chosen: FilterType) -> str | None:
        """The key, separator and value of a leaf pair under `chosen` (or the safety net); None to skip it."""
        stats = self._stats
        caught = None if kv.suppressed or self._chain.detectors is None else self._caught(chosen, pair)
        if caught is not None:
            stats.count_detection(caught, pair.key_raw.encode("utf-8", "surrogateescape"))
            chosen = self._chain.detect_rule
        if kv.suppressed and chosen.action != "skip" or chosen.action == "copy":
            stats.copied += caught is None
            return pair.key_raw + pair.sep + (pair.value.raw if pair.value else "")
        if caught is None:
            stats.count_change(chosen.text, pair.key_raw.encode("utf-8", "surrogateescape"))
        if chosen.action == "skip":
            stats.skipped += caught is None
            return None
        if chosen.action == "tag":
            stats.tagged += caught is None
            return pair.key_raw + pair.sep + chosen.apply(pair.value)  # type: ignore[arg-type]
        stats.masked += caught is None
        if kv.layout == "psdk" and chosen.hides_whole_value:
            return pair.key_raw + pair.gap + SUPPRESSED
        return pair.key_raw + pair.sep + chosen.apply(pair.value, kv.layout)  # type: ignore[arg-type]

    def _caught(self, rule: FilterType, pair: Pair) -> str | None:
        """The detector (the chain has some) that recognizes something in a value `rule` would leave in clear, if any.

        Binary values are not searched: their bytes are printed as hex.
        """
        if rule.action not in IN_CLEAR or pair.value is None or pair.value.kind == "bin":
            return None
        return self._chain.detectors.first(pair.value.raw.encode("utf-8", "surrogateescape"))  # type: ignore[union-attr]


class ReferenceEngine(LineEngine):
    """The definition of correct: every line read by the Lark parser of grammars/tlib.lark."""

    parse_kv_line = staticmethod(lark_parser.parse_kv_line)
    parse_opener = staticmethod(lark_parser.parse_opener)


def width(indent: bytes) -> int:
    """The column an indentation reaches, with tab stops every 8 columns."""
    column = 0
    for byte in indent:
        column = (column // _TAB_STOP + 1) * _TAB_STOP if byte == 9 else column + 1
    return column


def belongs(block: Block, body: bytes) -> bool:
    # Only an empty line or one that starts without a blank ends a block (formats.md §2).
    if not body or body[0] not in WHITESPACE:
        return False
    stripped = body.lstrip(WHITESPACE)
    if not stripped:
        return True
    return stripped[0] == _QUOTE or width(body[: len(body) - len(stripped)]) > block.indent
