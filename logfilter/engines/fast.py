"""The fast path of `run`: the walker's semantics, with C-level regex scans doing the bulk.

Python wakes up only at block openers, at lines the bulk patterns do not cover (nested
lists, blank or unreadable lines, the line after a block), and at values that change:
- outside blocks, one search (regex_parser.block_scan_regex) finds the next C opener with
  the leaf lines after it; a clean block (no line a rule changes, and the message's next
  attribute line after it) is counted and copied whole. A line naming a KV attribute before
  that opener, or any opener line the bulk pattern does not match, goes to the walker.
  Message headers are found once per chunk (events.header_lines);
- inside a block, one `match` of regex_parser.run_regex consumes the leaf KV lines that
  share a list (or none), rendered by rules/treatment.row_renderer; only the lines whose key
  has a rule that changes it are visited (every line, when the default changes values);
- every other line goes through a Walker (regex parser, RenderHandler), which FastEngine
  wraps and drives through its public methods only: among them, a line after a run that
  does not belong to the block and surely ends it (blocks.ends) closes it here; any other
  (a doubtful line) is the walker's, told first what the runs read (Walker.read_in_bulk).
tests/unit/test_differential.py holds output and counts equal to the reference walk's. A
compiled scanner replaces this module next: it is kept as it was, bar the interface.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from logfilter.engines.blocks import NORMAL, Block, belongs, ends, split_eol, width
from logfilter.engines.handler import OnFailure
from logfilter.engines.render import RenderHandler
from logfilter.engines.walker import REGEX, Walker
from logfilter.errors import InputError
from logfilter.identity.reader import line_hint
from logfilter.parsing import regex_parser
from logfilter.parsing.events import WHITESPACE, header_lines
from logfilter.parsing.model import Layout
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.rules.unmatched import KeyWatch
from logfilter.stats import Stats

_ENCODING = ("utf-8", "surrogateescape")
# Indentations seen inside lists get a compiled run pattern each, up to this many per
# engine; past it (a damaged or hostile log) their lines go through the walker.
MAX_INDENTS = 64
KVLIST = b"KVList:"
_BLANK_LINE = WHITESPACE + b"\n"  # what a line that holds only blanks is made of


class FastEngine:
    """Masks one input stream in chunks of whole lines; equal to the reference walk."""

    def __init__(self, rules: Rules, stats: Stats, on_failure: OnFailure) -> None:
        self._rules, self._stats = rules, stats
        self._walker = Walker(rules, stats, RenderHandler(rules, stats), REGEX, on_failure)
        self._runs = {"c": regex_parser.run_regex("c"), "psdk": regex_parser.run_regex("psdk")}
        self._tuples = {"c": regex_parser.row_tuple_regex("c"), "psdk": regex_parser.row_tuple_regex("psdk")}
        self._renders: dict[int, treatment.Render] = {}  # by id(rule): the rules hold every rule
        self._attribute = regex_parser.attribute_hint()
        self._indent = regex_parser.leaf_indent_regex()
        self._c_opener = regex_parser.c_opener_line_regex()
        self._widths: dict[bytes, int] = {}
        self._indented_runs: dict[tuple[Layout, bytes], re.Pattern[bytes]] = {}
        self._exact = {key.encode(*_ENCODING): rule for key, rule in rules.rules.items()}
        # What the runs read of the open block, not yet told to the walker (read_in_bulk): its
        # top-level pairs, and where the last run ended (-1: a line was walked after it), under which rule.
        self._bulk_block: Block | None = None
        self._bulk_pairs = 0
        self._bulk_end = -1
        self._bulk_inherited: FilterType | None = None
        self._keys = KeyWatch(rules, stats)  # the rules whose keys the rows handled in bulk meet
        # Visit every leaf line when the default changes values, keys fold case or detectors
        # look at every value; otherwise only lines whose key has a rule other than copy.
        self._lookup = self._folded_lookup if rules.ignore_key_case else self._exact.get
        self._every_row = rules.default.action != "copy" or rules.ignore_key_case or rules.detectors is not None
        self._changing = _changing_keys(rules) if not self._every_row else None
        # Whole clean blocks are skipped in one match when few lines change.
        self._scan = None if self._every_row else regex_parser.block_scan_regex(_changing_names(rules))
        # [log-filter-attributes] / [log-filter-sip] (identity/): the lines their reader may need go to the walker.
        self._identity_hint = line_hint(rules)

    idle = property(lambda self: self._walker.idle)
    mid_line = property(lambda self: self._walker.mid_line)
    inside_value = property(lambda self: self._walker.inside_value)

    def process(self, line: bytes, lineno: int) -> bytes:
        return self._walker.process(line, lineno)

    def overlong(self, piece: bytes, part: int, lineno: int) -> bytes:
        return self._walker.overlong(piece, part, lineno)

    def flush(self, ended: bool) -> bytes:
        return self._walker.flush(ended)

    def feed(self, data: bytes, lineno: int, out: list[bytes]) -> int:
        lines = data.count(b"\n")
        self._stats.lines += lines
        # A leading LF makes every line start follow an LF, so patterns can start with one.
        buf = b"\n" + data
        if self._keys.pending:
            self._keys.chunk(buf)
        self._buf, self._out, self._last = buf, out, 1
        self._line_pos, self._line_no = 1, lineno
        # Where the next KVList:, opener scan and attribute name are (valid while ahead of
        # the position): each is searched once per stretch of text, never again per line.
        self._next_kvlist = -1
        self._next_block: re.Match[bytes] | None = None
        self._next_block_from = len(buf)  # nothing cached yet
        self._next_attribute = -1
        self._next_identity = -1
        self._header_lines = header_lines(buf)  # the line starts with a message header, in order
        self._bulk_end = -1
        pos, end = 1, len(buf)
        walker = self._walker
        inside = walker.value_open  # changes only when the walker reads a line (_slow)
        try:
            while pos < end:
                block = walker.block
                if block is None:
                    if self._identity_hint is not None:
                        pos = self._identity_free(pos, end)
                        inside = walker.value_open
                        continue
                    pos = self._free(pos, end)
                    continue
                if inside:  # a value a failed line left open: line by line
                    pos = self._slow(pos, buf.index(b"\n", pos) + 1)
                    inside = walker.value_open
                    continue
                pos = self._leaf_run(block, pos)
                if pos >= end:
                    break
                line_end = buf.index(b"\n", pos) + 1
                body = split_eol(buf[pos:line_end])[0]
                if not belongs(block, body):
                    if ends(body):
                        walker.close_block()  # the line is a free line: _free reads it
                        continue
                    self._tell_bulk()  # a doubtful line: the walker decides, knowing what the runs read
                pos = self._slow(pos, line_end)
                inside = walker.value_open
        except InputError:
            out.append(buf[self._last : pos])
            raise
        self._tell_bulk()  # the block may go on in the next chunk
        out.append(buf[self._last :])
        return lines

    def _tell_bulk(self) -> None:
        """Tell the walker what the runs read of the open block since it was last told."""
        block = self._walker.block
        if block is not None and block is self._bulk_block:
            last = None
            if self._bulk_end >= 0:
                last = self._buf[self._buf.rfind(b"\n", 0, self._bulk_end - 1) + 1 : self._bulk_end]
            self._walker.read_in_bulk(self._bulk_pairs, last, self._bulk_inherited)
        self._bulk_block, self._bulk_pairs, self._bulk_end = None, 0, -1

    def _width(self, indent: bytes) -> int:
        column = self._widths.get(indent)
        if column is None:
            column = width(indent)
            if len(self._widths) < 4 * MAX_INDENTS:
                self._widths[indent] = column
        return column

    # ------------------------------------------------------------ outside blocks

    def _free(self, pos: int, end: int) -> int:
        """Pass free lines from pos up to the next C opener, and its block too when that is clean.

        A clean block is an opener followed by leaf lines no rule changes, then a line that
        surely ends the block (regex_parser.block_scan_regex): it is counted and copied whole.
        """
        buf = self._buf
        if self._next_kvlist < pos:
            found = buf.find(KVLIST, pos)
            self._next_kvlist = found if found >= 0 else len(buf)  # not `end`, which identity rules may cut short
        found_block = self._scan_from(pos)
        if found_block is None or self._next_kvlist < found_block.start("rows") or found_block.end() > end:
            return self._free_line_by_line(pos, end)
        if self._next_attribute < pos:
            hit = self._attribute.search(buf, pos)
            self._next_attribute = hit.start() if hit is not None else end
        if self._next_attribute < found_block.start("attribute"):
            return self._free_line_by_line(pos, end)  # a line naming an attribute the bulk pattern does not read
        rows_start = found_block.start("rows")
        self._count_headers(pos, rows_start)  # the free lines and the opener line
        if found_block.group("clean") is not None:
            count = buf.count(b"\n", rows_start, found_block.end())
            if self._keys.busy:
                self._keys.rows(buf, rows_start - 1, found_block.end())
            self._stats.pairs += count
            self._stats.copied += count
            return found_block.end()
        self._open_c(found_block, found_block.start() + 1, rows_start)
        return rows_start

    def _identity_free(self, pos: int, end: int) -> int:
        """Free lines under identity rules: a line their reader may need (a listed attribute's, a SIP
        introducer, any while a SIP message or a value is open) goes to the walker; those before it as ever."""
        buf = self._buf
        if self._next_identity < pos:
            hit = self._identity_hint.search(buf, pos - 1)  # type: ignore[union-attr]
            self._next_identity = buf.rfind(b"\n", 0, hit.start() + 1) + 1 if hit is not None else end
        if self._next_identity > pos and not self._walker.inside_value:
            return self._free(pos, self._next_identity)  # never past it
        return self._slow(pos, buf.index(b"\n", pos) + 1)

    def _open_c(self, opener: re.Match[bytes], start: int, end: int) -> None:
        """Open a C block from a match with the opener's indent and attribute groups (its line: [start, end))."""
        indent, attribute = opener.group("indent", "attribute")
        self._walker.open_block("c", self._width(indent), attribute.decode(), split_eol(self._buf[start:end])[0])

    def _scan_from(self, pos: int) -> re.Match[bytes] | None:
        """The next C opener at or after pos (from the cache while it is still ahead)."""
        if self._scan is None:
            return None
        cached = self._next_block
        if self._next_block_from <= pos and (cached is None or cached.start() >= pos - 1):
            return cached
        found = self._scan.search(self._buf, pos - 1)
        self._next_block, self._next_block_from = found, pos
        return found

    def _free_line_by_line(self, pos: int, end: int) -> int:
        """Pass free lines from pos up to the next line that may open a block, and read that line."""
        buf = self._buf
        if self._next_attribute < pos:
            hit = self._attribute.search(buf, pos)
            self._next_attribute = hit.start() if hit is not None else len(buf)
        start = min(self._next_attribute, self._next_kvlist)
        if start >= end:
            self._count_headers(pos, end)
            return end
        line_start = buf.rfind(b"\n", pos - 1, start) + 1
        line_end = buf.index(b"\n", start) + 1
        opener = self._c_opener.match(buf, line_start, line_end)
        if opener is not None and buf.find(KVLIST, line_start, line_end) < 0:
            self._count_headers(pos, line_end)
            self._open_c(opener, line_start, line_end)  # the common C opener
            return line_end
        self._count_headers(pos, line_start)
        return self._slow(line_start, line_end)  # anything else as the walker reads it (and counts)

    def _count_headers(self, start: int, end: int) -> None:
        """Count the message headers on the free lines in [start, end) (whole lines)."""
        headers = self._header_lines
        self._stats.messages += bisect_left(headers, end) - bisect_left(headers, start)

    # ------------------------------------------------------------ inside blocks

    def _leaf_run(self, block: Block, start: int) -> int:
        """Handle the leaf KV lines from `start` that share one treatment; return where they end.

        Outside lists every leaf line is treated alike. Inside lists, a run of leaf lines
        with the same indentation belongs to the same list, as the walker would find line
        by line. Anything else is left to the walker (returns `start`).
        """
        buf, frames = self._buf, block.frames
        if not frames:
            end = self._runs[block.layout].match(buf, start).end()  # type: ignore[union-attr]
            if end > start:
                if self._bulk_block is not block:
                    self._bulk_block, self._bulk_pairs = block, 0
                self._bulk_pairs += self._run(start, end, block.layout, None)  # top-level pairs, one a line
                self._bulk_end, self._bulk_inherited = end, None
            return end
        lead = self._indent.match(buf, start)
        if lead is None:
            return start
        indent = lead.group()
        top = self._walker.enter(self._width(indent))
        if top is not None and top.mode != NORMAL:
            return start
        run = self._indented_runs.get((block.layout, indent))
        if run is None:
            if len(self._indented_runs) >= MAX_INDENTS:
                return start
            run = self._indented_runs[(block.layout, indent)] = regex_parser.run_regex(block.layout, indent)
        end = run.match(buf, start).end()  # type: ignore[union-attr]
        if end > start:
            inherited = top.inherited if top is not None else None
            lines = self._run(start, end, block.layout, inherited)
            if self._bulk_block is not block:
                self._bulk_block, self._bulk_pairs = block, 0
            if top is None:  # no list holds them: top-level pairs
                self._bulk_pairs += lines
            self._bulk_end, self._bulk_inherited = end, inherited
        return end

    def _run(self, start: int, end: int, layout: Layout, inherited: FilterType | None) -> int:
        """Apply the rules to a run of leaf KV lines in [start, end) that share one list (or none); return its lines."""
        buf, stats = self._buf, self._stats
        count = buf.count(b"\n", start, end)
        stats.pairs += count
        if self._keys.busy:
            self._keys.rows(buf, start - 1, end)
        if inherited is not None and inherited.action == "copy" and self._rules.detectors is None:
            stats.copied += count
            return count
        if inherited is not None or self._every_row:
            # Every line may change: rebuild the run from its rows in one piece.
            render, lookup, default = self._renderer_for, self._lookup, self._rules.default
            rows = self._tuples[layout].findall(buf, start, end)
            new = b"".join([render(inherited or lookup(row[1][1:-1]) or default)(row) for row in rows])
            self._replace(start, end, new)
            return count
        changing = self._changing
        if changing is None:
            stats.copied += count
            return count
        changed = 0
        exact, tuples, render = self._exact, self._tuples[layout], self._renderer_for
        for hit in changing.finditer(buf, start - 1, end):
            row = tuples.match(buf, hit.start() + 1)
            line = row.groups()  # type: ignore[union-attr]
            self._replace(row.start(), row.end(), render(exact[line[1][1:-1]])(line))  # type: ignore[union-attr]
            changed += 1
        stats.copied += count - changed
        return count

    def _folded_lookup(self, key: bytes) -> FilterType | None:
        return self._rules.rule_for(key.decode(*_ENCODING))

    def _renderer_for(self, rule: FilterType) -> treatment.Render:
        """The function that renders a row tuple under `rule`, counting what it does (cached)."""
        render = self._renders.get(id(rule))
        if render is None:
            render = self._renders[id(rule)] = treatment.row_renderer(self._rules, rule, self._stats)
        return render

    def _slow(self, start: int, end: int) -> int:
        """Run one line through the walker; return where the next line starts."""
        buf = self._buf
        self._line_no += buf.count(b"\n", self._line_pos, start)
        self._line_pos = start
        line = buf[start:end]
        if self._bulk_end >= 0 and not line.strip(_BLANK_LINE):
            self._tell_bulk()  # a line of blanks leaves the value before it the last: the walker must know it
        self._bulk_end = -1  # the walker reads a line after the last run
        try:
            new = self._walker.step(line, self._line_no)
        except InputError:
            self._out.append(buf[self._last : start])  # the lines before it (free lines, maybe)
            self._last = start
            raise
        if new != line:
            self._replace(start, end, new)
        return end

    def _replace(self, start: int, end: int, new: bytes) -> None:
        self._out.append(self._buf[self._last : start])
        self._out.append(new)
        self._last = end


def _changing_names(rules: Rules) -> bytes | None:
    """An alternation of the keys whose own rule changes a value (under default copy)."""
    keys = [key for key, rule in rules.rules.items() if rule.action != "copy" and regex_parser.key_token_ok(key)]
    if not keys:
        return None
    return b"|".join(re.escape(key.encode(*_ENCODING)) for key in sorted(keys, key=len, reverse=True))


def _changing_keys(rules: Rules) -> re.Pattern[bytes] | None:
    """A pattern for the start of a leaf line whose key's own rule changes it (default copy)."""
    names = _changing_names(rules)
    if names is None:
        return None
    return re.compile(b"\n" + regex_parser.changing_row_start(names))
