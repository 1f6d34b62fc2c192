"""The walker and its handler contract: a recording handler shows which events a few small logs give, in order."""

from __future__ import annotations

from logfilter.audit.findings import ScanHandler
from logfilter.audit.keys import KeysHandler
from logfilter.audit.preview import PreviewHandler
from logfilter.engines.blocks import Block, Frame
from logfilter.engines.handler import Handler
from logfilter.engines.render import RenderHandler
from logfilter.engines.walker import REFERENCE, REGEX, Walker
from logfilter.framing import END, HEAD, MORE
from logfilter.parsing.model import KVLine, Opener, Pair
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy
from logfilter.rules.filters import FilterType
from logfilter.stats import Stats

OPEN = b"\tAttributeUserData\t[5] 00 03 00 00..\n"
LOG = (
    b"message EventRinging\n"  # 1
    + OPEN  # 2
    + b"\t\t'A'\t'1'\n"  # 3
    b"\t\t'L'(list) 'B'\t'2'\n"  # 4
    b"\t\t\t'C'\t'3'\n"  # 5
    b"\t\t'S'(list) 'D'\t'4'\n"  # 6
    b"\t\t\t'E'\t'5'\n"  # 7
    b"\t\t'K'\tword\n"  # 8: not a KV pair
    b"\tAttributeConnID\t1\n"  # 9
)


class Recorder(Handler):
    """Records every event with what identifies it; renders like run (so outputs can be compared)."""

    def __init__(self, rules: Rules, stats: Stats, reads_free_lines: bool = True) -> None:
        self.reads_free_lines = reads_free_lines
        self.render = RenderHandler(rules, stats)
        self.events: list[tuple[object, ...]] = []

    def free_line(self, body: bytes, lineno: int, opener: Opener | None) -> None:
        self.events.append(("free_line", lineno, opener.attribute if opener else None))

    def block_opened(self, block: Block, body: bytes) -> None:
        self.events.append(("block_opened", block.attribute, block.layout))

    def block_closed(self) -> None:
        self.events.append(("block_closed",))

    def kv_line(self, body: bytes, lineno: int, block: Block) -> bytes | None:
        self.events.append(("kv_line", lineno))
        return body

    def kv_line_done(self, body: bytes, lineno: int, block: Block, out: bytes) -> None:
        self.events.append(("kv_line_done", lineno, out))

    def list_opened(self, pair: Pair, frame: Frame, block: Block) -> None:
        rule = frame.inherited.text if frame.inherited else None
        self.events.append(("list_opened", pair.key, rule, block.path))

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        self.events.append(("list_skipped", pair.key, rule.text))
        self.render.list_skipped(pair, rule, block)

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        self.events.append(("leaf", pair.key, chosen.text, block.path, block.inherited_from))
        return self.render.leaf(kv, pair, chosen, block)

    def failed(self, lineno: int, attribute: str) -> None:
        self.events.append(("failed", lineno, attribute))

    def long_line(self, head: bytes, lineno: int, free: bool) -> None:
        self.events.append(("long_line", lineno, free))

    def long_line_end(self, lineno: int, free: bool, size: int) -> None:
        self.events.append(("long_line_end", lineno, free, size))


def _rules(default: str = "copy", *keys: str) -> Rules:
    return compile_policy(load_policy(None, default, keys))


def _walk(data: bytes, reads_free_lines: bool = True) -> tuple[Recorder, bytes, Stats]:
    rules, stats = _rules("copy", "L=hide", "S=skip"), Stats()
    recorder = Recorder(rules, stats, reads_free_lines)
    out: list[bytes] = []
    Walker(rules, stats, recorder, REFERENCE).feed(data, 1, out)
    return recorder, b"".join(out), stats


class TestEvents:
    def test_a_block_event_by_event(self) -> None:
        """Free lines, an opener, leaves, a list with a rule, a skipped list, an unreadable line, the block's end."""
        recorder, out, _stats = _walk(LOG)
        assert recorder.events == [
            ("free_line", 1, None),
            ("free_line", 2, "AttributeUserData"),
            ("block_opened", "AttributeUserData", "c"),
            ("kv_line", 3), ("leaf", "A", "copy", (), None), ("kv_line_done", 3, b"\t\t'A'\t'1'\n"),
            ("kv_line", 4), ("list_opened", "L", "hide", ("L",)), ("leaf", "B", "hide", ("L",), "L"),
            ("kv_line_done", 4, b"\t\t'L'(list) 'B'\t'****'\n"),
            ("kv_line", 5), ("leaf", "C", "hide", ("L",), "L"), ("kv_line_done", 5, b"\t\t\t'C'\t'****'\n"),
            ("kv_line", 6), ("list_skipped", "S", "skip"), ("kv_line_done", 6, b""),
            ("kv_line", 7), ("kv_line_done", 7, b""),  # inside the skipped list: dropped unread
            ("kv_line", 8), ("failed", 8, "AttributeUserData"), ("kv_line_done", 8, b"\t\t'****'\n"),
            ("block_closed",),
            ("free_line", 9, None),
        ]  # fmt: skip
        assert out == LOG.replace(b"'2'", b"'****'").replace(b"'3'", b"'****'").replace(
            b"\t\t'S'(list) 'D'\t'4'\n\t\t\t'E'\t'5'\n", b""
        ).replace(b"'K'\tword", b"'****'")

    def test_both_parsers_give_the_same_events(self) -> None:
        """The parser is an argument: REFERENCE and REGEX read the log alike, event for event."""
        rules = _rules("copy", "L=hide", "S=skip")
        seen = []
        for parser in (REFERENCE, REGEX):
            recorder = Recorder(rules, Stats())
            Walker(rules, Stats(), recorder, parser).feed(LOG, 1, [])
            seen.append(recorder.events)
        assert seen[0] == seen[1]

    def test_free_lines_unseen_when_not_read(self) -> None:
        """A handler that does not read free lines hears of those that may open a block, and those ending one."""
        recorder, _out, stats = _walk(LOG, reads_free_lines=False)
        free = [event for event in recorder.events if event[0] == "free_line"]
        assert free == [("free_line", 2, "AttributeUserData"), ("free_line", 9, None)]
        assert stats.lines == 9 and stats.messages == 0  # every line counted; a passed-over header is not

    def test_counts(self) -> None:
        """The walker counts lines, messages, pairs and failed lines; the handler counts what rules did."""
        _recorder, _out, stats = _walk(LOG)
        assert (stats.lines, stats.messages, stats.pairs, stats.failed_closed) == (9, 1, 5, 1)  # A L B C S
        assert (stats.copied, stats.masked, stats.skipped) == (1, 2, 1)


class TestHooks:
    def test_kv_line_can_pass_a_line_over(self) -> None:
        """kv_line returning None leaves the line unread: it comes out as it is, with no pair event."""

        class PassOver(Recorder):
            def kv_line(self, body: bytes, lineno: int, block: Block) -> bytes | None:
                return None

        rules = _rules("hide")
        recorder = PassOver(rules, Stats())
        out: list[bytes] = []
        Walker(rules, Stats(), recorder).feed(OPEN + b"\t\t'A'\t'secret'\n", 1, out)
        assert b"".join(out) == OPEN + b"\t\t'A'\t'secret'\n"
        assert not [event for event in recorder.events if event[0] in ("leaf", "kv_line_done")]

    def test_emit_says_what_is_written(self) -> None:
        """What emit returns is the walk's output: a collector writes nothing."""

        class Quiet(Handler):
            def emit(self, out: bytes) -> bytes:
                return b""

        out: list[bytes] = []
        Walker(_rules(), Stats(), Quiet()).feed(LOG, 1, out)
        assert b"".join(out) == b""

    def test_a_holding_handler_keeps_the_walk_busy(self) -> None:
        """While the handler holds output, the walk is not idle: no checkpoint is taken there."""

        class Holding(Handler):
            holding = True

        walker = Walker(_rules(), Stats(), Holding())
        walker.feed(b"free\n", 1, [])
        assert not walker.idle
        assert Walker(_rules(), Stats(), Handler()).idle


class TestOverlong:
    def test_inside_a_block_it_fails_closed_whole(self) -> None:
        """An overlong KV line is told before the walker acts on it, fails closed, and ends with its size."""
        rules, stats = _rules("copy"), Stats()
        recorder = Recorder(rules, stats)
        walker = Walker(rules, stats, recorder)
        walker.feed(OPEN, 1, [])
        out = [walker.overlong(b"\t\t'K'\t'" + b"S" * 20, HEAD, 2), walker.overlong(b"S" * 30, MORE, 2)]
        out.append(walker.overlong(b"S'\r\n", END, 2))
        assert b"".join(out) == b"\t\t'****'\r\n"
        assert recorder.events[-3:] == [("long_line", 2, False), ("failed", 2, "AttributeUserData"),
                                        ("long_line_end", 2, False, 27 + 30 + 2)]  # fmt: skip

    def test_outside_blocks_it_passes_through(self) -> None:
        """An overlong free line ends the block and comes out as it went in, part by part."""
        rules, stats = _rules("hide"), Stats()
        recorder = Recorder(rules, stats)
        walker = Walker(rules, stats, recorder)
        walker.feed(OPEN, 1, [])
        parts = [(b"free " + b"x" * 10, HEAD), (b"x" * 10, MORE), (b"x\n", END)]
        assert b"".join(walker.overlong(piece, part, 2) for piece, part in parts) == b"".join(p for p, _ in parts)
        assert recorder.events[-3:] == [("long_line", 2, True), ("block_closed",), ("long_line_end", 2, True, 26)]
        assert walker.block is None and walker.idle


class TestHandlers:
    """Each handler on its own, walking the same small log."""

    def test_render_writes_what_run_writes(self) -> None:
        """RenderHandler renders every pair by its rule and counts it."""
        rules, stats = _rules("copy", "A=hide", "S=skip"), Stats()
        out: list[bytes] = []
        Walker(rules, stats, RenderHandler(rules, stats)).feed(LOG, 1, out)
        assert b"\t\t'A'\t'****'\n" in b"".join(out) and b"'S'(list)" not in b"".join(out)
        assert (stats.masked, stats.skipped) == (1, 1)

    def test_scan_finds_what_a_rule_would_mask(self) -> None:
        """ScanHandler reports a value its rule masks as `****`, never the value, and writes nothing."""
        rules, found = _rules("copy", "A=hide", "S=skip"), []
        out: list[bytes] = []
        Walker(rules, Stats(), ScanHandler(rules, "x.log", found.append, everywhere=False)).feed(LOG, 1, out)
        assert [(f.line, f.detector, f.key, f.preview) for f in found] == [
            (3, "rule", "A", "****"), (6, "rule", "S", "****"), (8, "unparsable", None, ""),
        ]  # fmt: skip
        assert b"".join(out) == b""

    def test_keys_records_shapes_and_paths(self) -> None:
        """KeysHandler records each key at its nesting path, with the rule that applies and why."""
        rules, shapes = _rules("copy", "L=hide", "S=skip"), {}
        handler = KeysHandler(rules, shapes)
        Walker(rules, Stats(), handler).feed(LOG, 1, [])
        got = {(path, key): (shape.filter_type, shape.why) for (_attr, path, key), shape in shapes.items()}
        assert got == {
            ((), "A"): ("copy", "default"), ((), "L"): ("hide", "rule"), (("L",), "B"): ("hide", "list L"),
            (("L",), "C"): ("hide", "list L"), ((), "S"): ("skip", "rule"),
        }  # fmt: skip
        assert handler.unparsable == 1

    def test_preview_keeps_before_and_after(self) -> None:
        """PreviewHandler keeps each KV line before and after (None: removed), by message."""
        rules, stats = _rules("copy", "L=hide", "S=skip"), Stats()
        handler = PreviewHandler(rules, stats)
        Walker(rules, stats, handler).feed(LOG, 1, [])
        changed = {change.lineno: change.after for _message, change in handler.seen if change.after != change.before}
        assert changed == {4: b"\t\t'L'(list) 'B'\t'****'", 5: b"\t\t\t'C'\t'****'", 6: None, 7: None, 8: b"\t\t'****'"}
        assert {message for message, _change in handler.seen} == {1}
