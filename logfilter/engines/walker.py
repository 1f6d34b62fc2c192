"""The walker: the block logic every command shares, line by line; what becomes of each pair is its handler's.

It owns which lines belong to a KV block and where it ends (blocks.py), the lists open in
it, values left open over several lines (parsing/events.py), lines longer than the framer
holds, failing closed, and the counts of lines, messages, pairs and failed lines. It never
needs a later line to decide about an earlier one, so each line can be written as soon as
it is complete. A line that does not belong to the open block and does not end it
(blocks.ended_by) goes on with the value before it: in clear under copy, else failed closed.
Lines outside blocks that [log-filter-attributes] / [log-filter-sip] rules read go to its
IdentityReader (identity/reader.py) first.

    walker = Walker(rules, stats, RenderHandler(rules, stats), REGEX, on_failure)
    walker.feed(lines, lineno, out)    # whole lines; process(line): one line; overlong(part)
    walker.block                       # the open Block (read-only), or None

The Walker is not subclassed: its Handler (handler.py) is told what it meets, and the
compiled scanner (scanner.pyx) drives it through its public methods. The parser is an argument (handler.py):
REFERENCE (the Lark grammar, the definition of correct) or REGEX (regexes derived from it).
"""

from __future__ import annotations

from typing import final

from logfilter.engines.blocks import (
    DROP, FAILED_KV_LINE, OPAQUE, TAB_STOP, Block, Frame, belongs, clear_after, ended_by, settled, split_eol, width,
)  # fmt: skip
from logfilter.engines.handler import REFERENCE, REGEX, Handler, OnFailure, Parser, defined
from logfilter.engines.pairs import LinePairs
from logfilter.framing import HEAD, MORE
from logfilter.identity.reader import Found, IdentityReader, render
from logfilter.parsing import events
from logfilter.parsing.events import WHITESPACE
from logfilter.parsing.model import Layout, Opener, ParseFailed
from logfilter.parsing.regex_parser import unread_opener
from logfilter.parsing.terminals import opener_hint_regex
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.stats import Stats

__all__ = ["REFERENCE", "REGEX", "Walker"]
_PASS, _MASK = 1, 2  # an overlong line passes through, or fails closed


@final
class Walker:
    """Walks one input stream line by line for one handler; create one per input."""

    def __init__(
        self, rules: Rules, stats: Stats, handler: Handler, parser: Parser = REGEX, on_failure: OnFailure | None = None
    ) -> None:
        self._rules, self._stats, self._handler, self._parser = rules, stats, handler, parser
        self._on_failure = on_failure
        # The hooks the handler defines; one it leaves to Handler's default is not called at all.
        self._emit, self._kv_read, self._kv_done = defined(handler, "emit", "kv_line", "kv_line_done")
        self._told_free, self._told_open, self._told_close, self._told_continued = defined(
            handler, "free_line", "block_opened", "block_closed", "continued"
        )
        self._line_pairs = LinePairs(rules, stats, handler)
        self.block: Block | None = None  # the open KV block (read-only outside the walker), or None
        # The quote that ends a value a failed line left open: lines until then fail closed.
        self._awaiting: bytes | None = None
        self._long = 0  # inside an overlong line: _PASS it through or _MASK it
        self._long_quote: bytes | None = None
        self._long_tail = b""
        self._long_size = 0
        self._opener_hint = opener_hint_regex()
        # Lines outside blocks that [log-filter-attributes] / [log-filter-sip] rules read (identity/): None without such rules.
        self._identity = IdentityReader(rules, lambda body: self._opener(body) is not None) if rules.identity else None
        (self._told_identity,) = defined(handler, "identity_line")

    @property
    def idle(self) -> bool:
        """Whether nothing is open or held: a walker started fresh here would go on alike."""
        return self.block is None and not self.inside_value and not self._handler.holding

    @property
    def mid_line(self) -> bool:
        """Whether the output so far ends inside an overlong line (more of it is to come)."""
        return self._long != 0

    @property
    def inside_value(self) -> bool:
        """Whether the next line may go on with a value, an overlong line, or the open block even
        if it is empty or at column 0 (a doubtful line): no fresh walker goes on alike."""
        return self.value_open or self.block is not None and not settled(self.block, self._rules)

    @property
    def value_open(self) -> bool:
        """Whether a value a failed line left open, an overlong line, or a message an identity rule
        reads goes on: the next line is its."""
        return self._awaiting is not None or self._long != 0 or self._identity is not None and self._identity.open

    def feed(self, data: bytes, lineno: int, out: list[bytes]) -> int:
        """Append the output for `data` (whole lines; the first is line `lineno`) to `out`; return the
        lines read. Output for lines before a failure that raises is already in `out`."""
        if not self._handler.reads_free_lines and self._identity is None:
            return self._feed_blocks(data, lineno, out)
        lines = data.split(b"\n")
        lines.pop()  # data ends with a line feed
        process = self.process
        for offset, line in enumerate(lines):
            out.append(process(line + b"\n", lineno + offset))
        return len(lines)

    def _feed_blocks(self, data: bytes, lineno: int, out: list[bytes]) -> int:
        # Free lines are passed over in one search for the next line that may open a block.
        pos, end, count = 0, len(data), 0
        hint, process = self._opener_hint.search, self.process
        while pos < end:
            if self.block is None:
                found = hint(data, pos)
                start = data.rfind(b"\n", pos, found.start()) + 1 if found is not None else end
                if start > pos:
                    passed = data.count(b"\n", pos, start)
                    self._stats.lines += passed
                    count += passed
                    out.append(self._write(data[pos:start]))
                    pos = start
                    if pos >= end:
                        break
            line_end = data.index(b"\n", pos) + 1
            out.append(process(data[pos:line_end], lineno + count))
            count += 1
            pos = line_end
        return count

    def process(self, line: bytes, lineno: int) -> bytes:
        """Return the output for one input line (with its line ending, if any); counts it."""
        self._stats.lines += 1
        return self.step(line, lineno)

    def step(self, line: bytes, lineno: int) -> bytes:
        """Return the output for one input line, not counting it (the compiled scanner counts in bulk)."""
        body, eol = split_eol(line)
        block = self.block
        if block is not None:
            if self._awaiting is not None:
                if not events.starts_event(body):
                    out = self._continued(block, body, eol, lineno)
                    return out if self._emit is None else self._emit(out)
                self._awaiting = None
            if belongs(block, body):
                out = self._kv_line(block, body, eol, lineno)
                return out if self._emit is None else self._emit(out)
            if not ended_by(block, body, self._rules):
                out = self._goes_on(block, body, eol, lineno)
                return out if self._emit is None else self._emit(out)
            self.close_block()
        if self._identity is not None:
            found = self._identity.read(body, lineno)
            if found is not None:
                return self._identity_line(found, eol, lineno)
        new = self._free_line(body, lineno)
        out = line if new is None else new + eol
        return out if self._emit is None else self._emit(out)

    def _identity_line(self, found: Found, eol: bytes, lineno: int) -> bytes:
        """A line an identity rule reads, or a line of a SIP message: rendered (by the handler, if it
        renders them itself), then a free line as it comes out; a line that failed closed is counted."""
        if found.failed is not None:
            self._failed(lineno, found.what, in_block=False)
        told = self._told_identity
        out = render(found, self._rules, self._stats) if told is None else told(found, lineno)
        if out is None:
            return self._write(b"")
        new = self._free_line(out, lineno)
        return self._write((out if new is None else new) + eol)

    # -- what the compiled scanner (scanner.pyx) drives, besides step
    def open_block(self, layout: Layout, indent: int, attribute: str, body: bytes) -> None:
        """Open a block whose opener line `body` was read elsewhere, indented to column `indent`."""
        self.block = Block(layout, indent, attribute, header=body)
        if self._identity is not None:
            self._identity.reset()
        if self._told_open is not None:
            self._told_open(self.block, body)

    def take_over(self, frames: list[Frame]) -> None:
        """Go on with the open block from here with `frames` as its open lists, as the scanner walked them."""
        self.block.frames[:] = frames  # type: ignore[union-attr]

    def close_block(self) -> None:
        """End the open block: the line at hand does not belong to it."""
        if self.block is not None:
            self.block = None
            if self._told_close is not None:
                self._told_close()

    def _free_line(self, body: bytes, lineno: int, tell: bool = True) -> bytes | None:
        """Count a message header; tell the handler (unless not `tell`); open a block at an opener.

        Returns the line's new body when it fails closed (an opener the grammar does not read), else None.
        """
        if events.message_header(body) is not None:
            self._stats.messages += 1
        opener = self._opener(body)
        if tell and self._told_free is not None:
            self._told_free(body, lineno, opener)
        if opener is None:
            return None
        self.open_block(opener.layout, width(opener.indent.encode()), opener.attribute, body)
        if not opener.unread:
            return None
        self.block.took(None, damaged=True)  # type: ignore[union-attr]
        return self._masked(body, b"", lineno, opener.attribute)

    def _opener(self, body: bytes) -> Opener | None:
        # Only lines naming a KV attribute (or KVList:) can open a block: parse those alone. One
        # that names an attribute where an opener would and is not read as one opens a block
        # all the same: its pairs must never pass.
        if self._opener_hint.search(body):
            text = body.decode("utf-8", "surrogateescape")
            return self._parser.opener(text) or unread_opener(text)
        return None

    def _goes_on(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        """A doubtful line that does not end the block: it goes on with the value before it."""
        if not body or body.strip(WHITESPACE) == FAILED_KV_LINE:
            return body + eol  # nothing in it to mask: an empty line, or a line logfilter failed closed
        if clear_after(block, self._rules, body):
            if self._told_continued is not None:
                self._told_continued(body, lineno, block)
            return body + eol
        block.took(None, damaged=True)  # and so the lines that go on with it
        return self._masked(body, eol, lineno, block.attribute)

    def _kv_line(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        read = body if self._kv_read is None else self._kv_read(body, lineno, block)
        if read is None:
            return body + eol
        out = self._read(block, read, eol, lineno)
        if self._kv_done is not None:
            self._kv_done(body, lineno, block, out)
        return out

    def _read(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        lead = len(body) - len(body.lstrip(WHITESPACE))
        if lead == len(body):
            return body + eol  # blanks only: still inside the block, nothing to mask
        column = width(body[:lead])
        top = block.enter(column)
        if top is not None and top.mode == DROP:
            block.took(None, hidden=True)
            return b""
        if top is not None and top.mode == OPAQUE:
            return self._fail(block, body[:lead], eol, column, lineno, body)
        try:
            kv = self._parser.kv_line(body.decode("utf-8", "surrogateescape"), block.layout)
        except ParseFailed:
            return self._fail(block, body[:lead], eol, column, lineno, body)
        if top is None:
            block.read += 1  # a top-level pair: the header counts these (formats.md §5)
        step = TAB_STOP if body[lead - 1] == 9 else 1
        out = self._line_pairs.walk(kv, top.inherited if top else None, column, step, block)
        return b"" if out is None else out.encode("utf-8", "surrogateescape") + eol

    def _failed(self, lineno: int, attribute: str, in_block: bool = True) -> None:
        self._stats.failed_closed += 1
        if in_block:  # an identity line's failure is told on its Found (identity/reader.py)
            self._handler.failed(lineno, attribute)
        if self._on_failure is not None:
            self._on_failure(lineno, attribute)

    def _masked(self, body: bytes, eol: bytes, lineno: int, attribute: str) -> bytes:
        """A line that fails closed whole: its indentation and FAILED_KV_LINE, counted and told."""
        self._failed(lineno, attribute)
        return body[: len(body) - len(body.lstrip(WHITESPACE))] + FAILED_KV_LINE + eol

    def _fail(self, block: Block, indent: bytes, eol: bytes, column: int, lineno: int, body: bytes = b"") -> bytes:
        self._failed(lineno, block.attribute)
        block.took(None, damaged=True)
        # Deeper lines may continue what could not be read: they fail closed too; and so do
        # the lines of a value it left open, wherever they start (parsing/events.py).
        block.frames.append(Frame(column, None, OPAQUE))
        self._awaiting = events.opened(body)
        return indent + FAILED_KV_LINE + eol

    def _continued(self, block: Block, body: bytes, eol: bytes, lineno: int) -> bytes:
        """A line after a failed line that left a value open: masked, up to the line closing it."""
        if not body.lstrip(WHITESPACE):
            return body + eol  # no data on it; the value may go on after it
        if events.closes(body, self._awaiting):  # type: ignore[arg-type]
            self._awaiting = None
        return self._masked(body, eol, lineno, block.attribute)

    def overlong(self, piece: bytes, part: int, lineno: int) -> bytes:
        """The output for one part (HEAD, MORE or END, framing.py) of a line longer than the framer holds.

        The head decides: inside a KV block (or a value left open) the line fails closed whole,
        its text dropped; any other line passes through, part by part. Only the head is read
        (for a message header or an opener); the end part carries the line ending.
        """
        if part == HEAD:
            self._stats.lines += 1
            self._long_tail, self._long_size = piece[-64:], len(piece)
            placeholder = self._long_head(piece, lineno)
            self._long = _PASS if placeholder is None else _MASK
            return self._write(piece if placeholder is None else placeholder)
        self._long_tail = (self._long_tail + piece)[-64:]
        self._long_size += len(piece)
        if part == MORE:
            return self._write(piece if self._long == _PASS else b"")
        mode, self._long = self._long, 0
        body, eol = split_eol(self._long_tail)  # a CRLF may be cut between parts
        self._handler.long_line_end(lineno, mode == _PASS, self._long_size - len(eol))
        if mode == _PASS:
            return self._write(piece)
        if self._long_quote is not None and not events.closes(body, self._long_quote):
            self._awaiting = self._long_quote  # the value goes on after this line
        return self._write(eol)

    def _long_head(self, head: bytes, lineno: int) -> bytes | None:
        """Read the head of an overlong line: its placeholder when it fails closed, else None."""
        block = self.block
        lead = len(head) - len(head.lstrip(WHITESPACE))
        if block is not None and self._awaiting is not None and not events.starts_event(head):
            self._handler.long_line(head, lineno, False)
            self._long_quote, self._awaiting = self._awaiting, None
            return self._masked(head, b"", lineno, block.attribute)
        self._awaiting = None
        if block is not None and belongs(block, head):
            self._handler.long_line(head, lineno, False)
            self._long_quote = events.opened(head + b"\x00")  # the line goes on: nothing closes at the cut
            placeholder = self._fail(block, head[:lead], b"", width(head[:lead]), lineno)
            self._awaiting = None  # decided at the line's end
            return placeholder
        self._long_quote = None
        if block is not None and not ended_by(block, head, self._rules):  # a doubtful line: it goes on with the block
            self._handler.long_line(head, lineno, False)
            block.took(None, damaged=True)
            return self._masked(head, b"", lineno, block.attribute)
        kept = self._identity.long_head(head) if self._identity is not None else None
        if kept is not None:  # a line an identity rule reads, too long to read: it fails closed whole
            self._handler.long_line(head, lineno, False)
            self.close_block()
            self._failed(lineno, "line too long to read where an identity rule applies", in_block=False)
            return kept
        opener = self._opener(head)
        self._handler.long_line(head, lineno, opener is None or not opener.unread)
        self.close_block()
        return self._free_line(head, lineno, tell=False)  # reads the opener again: overlong lines are rare

    def flush(self, ended: bool) -> bytes:
        """Output the handler holds for lines already walked; `ended`: no line read after this continues them."""
        return self._handler.flush(ended)

    def _write(self, out: bytes) -> bytes:
        return out if self._emit is None else self._emit(out)
