"""The reference walk (Walker, Lark parser, RenderHandler): which lines are KV lines, what the grammar refuses, what is counted."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logfilter.engines.render import RenderHandler
from logfilter.engines.walker import REFERENCE, Walker
from logfilter.framing import LINES, BoundedFramer, Part
from logfilter.parsing.lark_parser import parse_kv_line, parse_opener
from logfilter.parsing.model import ParseFailed
from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import StreamSink
from logfilter.stats import Stats
from tests.properties import Chunks

OPEN = b"\tAttributeUserData\t[561] 00 14 00 00..\n"


def lines_of(parts: list[Part]) -> list[bytes]:
    """The whole lines (each with its LF) of the framer's parts; inputs here are far below its bound."""
    assert all(kind == LINES for kind, _data in parts)
    return [line + b"\n" for _kind, data in parts for line in data.split(b"\n")[:-1]]


def rest_of(parts: list[Part]) -> bytes:
    """What the framer hands out at the end: the unended last line, if any."""
    return b"".join(data for _kind, data in parts)


def mask(data: bytes, default: str = "hide", keys: tuple[str, ...] = ()) -> tuple[bytes, Stats]:
    stats = Stats()
    failures: list[int] = []
    rules = compile_policy(load_policy(None, default, keys))
    engine = Walker(rules, stats, RenderHandler(rules, stats), REFERENCE, lambda n, a: failures.append(n))
    framer = BoundedFramer()
    out = [engine.process(line, n) for n, line in enumerate(lines_of(framer.feed(data)), 1)]
    rest = rest_of(framer.finish())
    if rest:
        out.append(engine.process(rest, 0))
    return b"".join(out), stats


def mask_bounded(data: bytes, engine: str, chunk: int = 1 << 20, max_line: int = 64) -> tuple[bytes, Stats]:
    """`data` read in chunks through the whole pipeline (lines over `max_line` bytes go by parts), Notes=hide."""
    buffer = io.BytesIO()
    rules = compile_policy(load_policy(None, "copy", ("Notes=hide",)))
    stats = run([Chunks(data, chunk, "<memory>")], rules, StreamSink(buffer, "<memory>"), engine=engine, max_line=max_line)  # type: ignore[arg-type,list-item]
    return buffer.getvalue(), stats


ERROR_EXAMPLES = [
    ("c", "\t\t'KEY'\t'unterminated"),
    ("c", "\t\t'KEY'\t006c029a"),
    ("c", "\t\t'KEY'\tword"),
    ("c", "\t\t'KEY'"),
    ("c", "\t\tno quotes at all"),
    ("c", "\t\t'KEY'(list"),
    ("c", "\t\t'KEY'\t'v' trailing"),
    ("psdk", "\t\t'KEY' = \"v\""),
    ("psdk", "\t\t'KEY' [str] = unquoted words"),
    ("psdk", "\t\t'KEY' [str] \"v\""),
]


class TestGrammar:
    @pytest.mark.parametrize(("layout", "line"), ERROR_EXAMPLES)
    def test_refuses(self, layout: str, line: str) -> None:
        """Lines that are not a KV pair of their layout are refused (and so fail closed)."""
        with pytest.raises(ParseFailed):
            parse_kv_line(line, layout)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "line",
        ["\tAttributeUserData\t[561] 00 14 00 00..", "  AttributeExtensions   [111] 00 27 01 00",
         "\tAttributeReason\t[14] 00 00 00 00..", "\tAttributeReasons\t[0]", "AttributeUserData [bstr] = KVList: ",
         "KVList:", "\tAttributeUserData\t[561] 00 14 00 00 ..", "\tAttributeUserData\t'not a list'",
         "\tAttributeUserData"],
    )
    def test_openers(self, line: str) -> None:
        """The three KV attributes, whatever follows them, and any PSDK KVList line open a block."""
        assert parse_opener(line) is not None

    @pytest.mark.parametrize(
        ("line", "name"),
        [("AttributeExtensions [bstr] = KVList: ", "AttributeExtensions"),
         ("AttributeFoo=secret-canary KVList: ", "KVList"), ("x AttributeUserData KVList:", "KVList")],
    )
    def test_psdk_opener_names_only_known_attributes(self, line: str, name: str) -> None:
        """The block name used in stderr messages is a KV attribute name or `KVList`, never line text."""
        opener = parse_opener(line)
        assert opener is not None and opener.attribute == name

    @pytest.mark.parametrize(
        "line",
        ["\tAttributeConnID\t006c029a6685d004", "\tAttributeUserDataX\t[1] 00", "\tAttributeThisDN\t'9001'",
         "ISCC: AttributeUserData [12] 00", "\tAttributeUserDataSize\t12"],
    )
    def test_not_openers(self, line: str) -> None:
        """Other attributes, look-alike names and KV attributes not printed as a list open nothing."""
        assert parse_opener(line) is None


class TestBlocks:
    def test_block_ends_at_attribute_indent(self) -> None:
        """A line back at the opener's indentation ends the block and is copied."""
        data = OPEN + b"\t\t'K'\t'v'\n\tAttributeOther\t'x'\n\t\t\t'K'\t'after'\n"
        out, _ = mask(data)
        assert out == OPEN + b"\t\t'K'\t'****'\n\tAttributeOther\t'x'\n\t\t\t'K'\t'after'\n"

    def test_whitespace_only_line_keeps_block(self) -> None:
        """A line of blanks (or a lone CR) is not empty: the block goes on and the line is copied."""
        out, _ = mask(OPEN + b"\t\t\r\n\t\t'K'\t'v'\r\n\r\r\n\t\t'K'\t'w'\r\n\n\t\t'K'\t'after empty'\n")
        assert out == OPEN + (b"\t\t\r\n\t\t'K'\t'****'\r\n\r\r\n\t\t'K'\t'****'\r\n\n"
                              b"\t\t'K'\t'after empty'\n")

    def test_mixed_tabs_and_spaces_nest_by_column(self) -> None:
        """Indentation is compared in columns (tab stops of 8), so three tabs are deeper than 8 spaces."""
        data = OPEN + b"        'CUSTOMER'(list) 'NAME'\t'Jane'\n\t\t\t'ACCOUNT'\t'4111'\n"
        out, _ = mask(data, "copy", ("CUSTOMER=hide",))
        assert out == OPEN + b"        'CUSTOMER'(list) 'NAME'\t'****'\n\t\t\t'ACCOUNT'\t'****'\n"

    def test_unforeseen_header_still_opens(self) -> None:
        """A list header of an unforeseen shape still opens the block: its pairs are masked."""
        opener = b"\tAttributeUserData\t[561] 00 14 00 00 .. (truncated)\n"
        assert mask(opener + b"\t\t'P'\t'secret'\n")[0] == opener + b"\t\t'P'\t'****'\n"

    def test_quoted_line_at_equal_indent_stays_in_block(self) -> None:
        """A quoted line at the opener's own indentation is still a KV line (mixed tabs and spaces)."""
        opener = b"        AttributeUserData [5] 00\n"
        out, _ = mask(opener + b"\t'K'\t'v'\n")
        assert out == opener + b"\t'K'\t'****'\n"

    def test_skip_removes_the_pair_and_leaves_a_list_line_its_key(self) -> None:
        """A skipped pair's line is removed; a skipped first sub-pair leaves `'key'(list) ` and the list's other lines."""
        data = OPEN + b"\t\t'A'\t'1'\n\t\t'S'\t'CanaryGone'\n\t\t'L'(list) 'S'\t'CanaryToo'\n\t\t\t'B'\t'2'\n\t\t'K'\t'v'\n"
        out, stats = mask(data, "copy", ("S=skip",))
        assert out == OPEN + b"\t\t'A'\t'1'\n\t\t'L'(list) \n\t\t\t'B'\t'2'\n\t\t'K'\t'v'\n"
        assert stats.skipped == 2

    def test_a_list_rule_wins_over_the_rules_of_lists_inside_it(self) -> None:
        """Inside a list with a rule, an inner list and its pairs take the outer rule, whatever their own keys say."""
        data = (OPEN + b"\t\t'CUSTOMER'(list) 'NAME'\t'Jane'\n\t\t\t'ADDR'(list) 'Street'\t'Main 1'\n"
                b"\t\t\t\t'City'\t'Springfield'\n\t\t'K'\t'v'\n")
        out, _ = mask(data, "copy", ("CUSTOMER=hide", "ADDR=copy", "City=copy"))
        assert out == OPEN + (b"\t\t'CUSTOMER'(list) 'NAME'\t'****'\n\t\t\t'ADDR'(list) 'Street'\t'****'\n"
                              b"\t\t\t\t'City'\t'****'\n\t\t'K'\t'v'\n")

    def test_counts(self) -> None:
        """Stats count pairs by treatment and failed-closed lines, and never hold values."""
        data = (b"message EventRinging\n" + OPEN + b"\t\t'A'\t'1'\n\t\t'B'\t'2'\n\t\t'L'(list) 'C'\t'3'\n"
                b"\t\t'S'\t'4'\n\t\t'bad\n")
        _, stats = mask(data, "copy", ("A=hide", "B=tag()", "S=skip"))
        assert (stats.messages, stats.pairs, stats.copied, stats.masked, stats.tagged, stats.skipped,
                stats.failed_closed) == (1, 5, 1, 1, 1, 1, 1)

    def test_only_values_change(self) -> None:
        """Under hide, removing the masked values from input and output leaves the same bytes."""
        data = OPEN + b"\t\t'K1'\t'abc'  \r\n\t\t'K2'\t12\n"
        out, _ = mask(data)
        assert out.replace(b"'****'", b"'abc'").replace(b"\t****", b"\t12") == data


class TestFramer:
    @given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
    def test_lossless(self, data: bytes, cuts: list[int]) -> None:
        """However the stream is chunked, the lines joined give back every byte, and each ends at LF."""
        framer = BoundedFramer()
        bounds = sorted({c for c in cuts if c <= len(data)} | {0, len(data)})
        lines = [line for a, b in zip(bounds, bounds[1:]) for line in lines_of(framer.feed(data[a:b]))]
        rest = rest_of(framer.finish())
        assert b"".join(lines) + rest == data
        assert all(line.endswith(b"\n") and b"\n" not in line[:-1] for line in lines)
        assert b"\n" not in rest

    @given(data=st.binary(max_size=300))
    def test_copy_is_identity(self, data: bytes) -> None:
        """Under copy, any bytes come out unchanged unless a line inside a block failed closed."""
        out, stats = mask(data, "copy")
        assert out == data or stats.failed_closed > 0

    def test_copy_is_identity_on_blocks(self) -> None:
        """Under copy, well-formed blocks of every shape come out unchanged."""
        data = OPEN + b"\t\t'A'\t'x'\r\n\t\t'L'(list) 'B'\t[4] 00 01..\n\t\t\t'C'\t-3 \n\t\t'E'(list) \n"
        assert mask(data, "copy") [0] == data


class TestFailedClosed:
    def test_an_unreadable_line_becomes_its_indent_and_the_placeholder(self) -> None:
        """A KV line the grammar refuses is written as its indentation, `'****'` and its line ending; the next is read."""
        out, stats = mask(OPEN + b"\t\t'K'\tCanaryWord\r\n\t\t'OK'\t'v'\n", "copy")
        assert out == OPEN + b"\t\t'****'\r\n\t\t'OK'\t'v'\n"
        assert stats.failed_closed == 1

    def test_lines_deeper_than_an_unreadable_line_fail_closed_too(self) -> None:
        """Lines indented under an unreadable line may continue it: each becomes `'****'` at its own indent."""
        out, stats = mask(OPEN + b"\t\t'K'(list\n\t\t\t'Deeper'\t'CanaryDeep'\n\t\t'OK'\t'v'\n", "copy")
        assert out == OPEN + b"\t\t'****'\n\t\t\t'****'\n\t\t'OK'\t'v'\n"
        assert stats.failed_closed == 2

    def test_an_indented_line_without_quotes_is_a_kv_line_and_fails_closed(self) -> None:
        """A line deeper than the opener belongs to the block even without a quote: it fails closed, not in clear."""
        out, stats = mask(OPEN + b"\t\tCanary free words\n\t\t'OK'\t'v'\n", "copy")
        assert out == OPEN + b"\t\t'****'\n\t\t'OK'\t'v'\n"
        assert stats.failed_closed == 1

    def test_the_lines_of_a_value_left_open_fail_closed_up_to_its_end(self) -> None:
        """After a failed line leaves a quote open, every line (column 0 too) is masked up to the one closing it."""
        data = OPEN + b"\t\t'Notes'\t'first\nCanary second\n\n  third'\n\t\t'K'\t'v'\n"
        out, stats = mask(data, "copy")
        assert out == OPEN + b"\t\t'****'\n'****'\n\n  '****'\n\t\t'K'\t'v'\n"
        assert stats.failed_closed == 3

    def test_a_pair_like_line_inside_a_value_left_open_is_masked(self) -> None:
        """While a failed line's value is open, a line that looks like a pair is that value's text:
        masked up to the line that closes it (here the pair-like one), then pairs are read again."""
        data = OPEN + b"\t\t'Notes'\t'first\n\t\tsecond\n\t\t'PIN'\t'Canary1234'\n\t\t'K'\t'v'\n"
        out, stats = mask(data, "copy")
        assert out == OPEN + b"\t\t'****'\n\t\t'****'\n\t\t'****'\n\t\t'K'\t'v'\n"
        assert stats.failed_closed == 3

    def test_a_new_log_event_ends_a_value_left_open(self) -> None:
        """A Genesys event line at column 0 ends the value left open and is copied; the block goes on."""
        data = OPEN + b"\t\t'Notes'\t'first\nCanary second\n12:00:00.000 Std 00000 next\n\t\t'K'\t'v'\n"
        out, _ = mask(data, "copy")
        assert out == OPEN + b"\t\t'****'\n'****'\n12:00:00.000 Std 00000 next\n\t\t'K'\t'v'\n"


@pytest.mark.parametrize("engine", ["fast", "reference"])
class TestOverlong:
    @pytest.mark.parametrize("chunk", [1 << 20, 7, 1])
    def test_a_line_of_exactly_max_line_bytes_is_read_whole(self, engine: str, chunk: int) -> None:
        """A KV line of max_line bytes (without its LF) is parsed as any other, however it is read; one byte
        more fails closed whole."""
        line = b"\t\t'Notes'\t'" + b"x" * 52 + b"'"
        assert len(line) == 64
        assert mask_bounded(OPEN + line + b"\n", engine, chunk)[0] == OPEN + b"\t\t'Notes'\t'****'\n"
        longer = line[:-1] + b"x'"
        assert mask_bounded(OPEN + longer + b"\n", engine, chunk)[0] == OPEN + b"\t\t'****'\n"

    def test_a_value_left_open_stays_open_across_an_overlong_line(self, engine: str) -> None:
        """An overlong line that does not close a value a failed line left open leaves it open: a
        pair-like line after it is still that value's text, masked."""
        data = OPEN + b"\t\t'Notes'\t'a\n\t\t" + b"CanaryLong" * 10 + b"\n\t\t'PIN'\t'Canary1234'\n\t\t'K'\t'v'\n"
        out, stats = mask_bounded(data, engine)
        assert out == OPEN + b"\t\t'****'\n\t\t'****'\n\t\t'****'\n\t\t'K'\t'v'\n"
        assert stats.failed_closed == 3

    def test_an_overlong_line_continuing_a_value_left_open_fails_closed(self, engine: str) -> None:
        """An overlong line at column 0 inside a value a failed line left open is masked whole, as a short one is."""
        data = OPEN + b"\t\t'Notes'\t'a\n" + b"CanaryLong" * 10 + b"\nend'\n\t\t'K'\t'v'\n"
        out, stats = mask_bounded(data, engine)
        assert out == OPEN + b"\t\t'****'\n'****'\n'****'\n\t\t'K'\t'v'\n"
        assert stats.failed_closed == 3

    def test_an_overlong_line_that_closes_the_value_ends_it(self, engine: str) -> None:
        """An overlong continuation line that ends with the quote closes the value; a column-0 line after it
        starts no event, so it goes on with the block (issue 22: a block ends only where an event starts)
        and, after a value that failed closed, fails closed too."""
        data = OPEN + b"\t\t'Notes'\t'a\n" + b"CanaryLong" * 10 + b"'\nfree after\n"
        assert mask_bounded(data, engine)[0] == OPEN + b"\t\t'****'\n'****'\n'****'\n"
