"""Untagger and pipeline.untag: examples of each treatment, and round trips through `run` with tag()."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from logfilter.engines.untag import DEFAULT_PAIR, TagPair, Untagger, UntagStats, config_pairs, parse_tags
from logfilter.errors import ConfigError
from logfilter.pipeline import run
from logfilter.pipeline import untag as untag_run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import Policy, Rule
from logfilter.rules.filters import HIDE, parse_filter_type
from logfilter.sinks.streams import StreamSink
from tests.properties import Chunks
from tests.strategies import LIST_KEY, TAG_KEYS, TAG_STRINGS, kv_log

COMMENT: TagPair = ("<!--", "-->")
BOTH = (DEFAULT_PAIR, COMMENT)


def untag(data: bytes, filter_type: str | None = "hide", pairs: tuple[TagPair, ...] = BOTH) -> bytes:
    """One feed of whole lines through a fresh Untagger."""
    chosen = None if filter_type is None else parse_filter_type(filter_type)
    return Untagger(pairs, chosen).feed(data)


def untag_chunked(data: bytes, filter_type: str | None, pairs: tuple[TagPair, ...], size: int) -> tuple[bytes, UntagStats]:
    buffer = io.BytesIO()
    chosen = None if filter_type is None else parse_filter_type(filter_type)
    stats = untag_run([Chunks(data, size)], pairs, chosen, StreamSink(buffer, "<memory>"))
    return buffer.getvalue(), stats


def run_policy(data: bytes, default: str, rules: dict[str, str]) -> bytes:
    """`logfilter run` through the Python API, with no line failing closed."""
    policy = Policy(parse_filter_type(default), tuple(Rule(k, parse_filter_type(v), "test") for k, v in rules.items()))
    buffer = io.BytesIO()
    stats = run([Chunks(data, 1 << 20)], compile_policy(policy), StreamSink(buffer, "<memory>"))
    assert stats.failed_closed == 0
    return buffer.getvalue()


class TestTreatments:
    def test_c_hide_keeps_quotes(self) -> None:
        """By default a tagged C value becomes the hide output, quotes kept, tags gone."""
        assert untag(b"\t\t'PASSWORD'\t<#'111111111'#>\n") == b"\t\t'PASSWORD'\t'****'\n"

    def test_psdk_hide_is_output_suppressed(self) -> None:
        """A tagged PSDK value under hide prints as the PSDK would: `'key' [output suppressed]`."""
        data = b"\t\t'PASSWORD' [str] = <#\"1234\"#>  \n\t\t'Tries' [int] = <!--3-->\n"
        assert untag(data) == b"\t\t'PASSWORD' [output suppressed]  \n\t\t'Tries' [output suppressed]\n"

    def test_psdk_partial_mask_keeps_type(self) -> None:
        """A partial mask on a PSDK value keeps its type and `=`, like run does."""
        assert untag(b"'k' [str] = <#\"12345678\"#>\n", "unhide-last,4") == b"'k' [str] = \"****5678\"\n"

    def test_int_and_binary(self) -> None:
        """Unquoted values follow value kinds: integers lose digits, binary becomes `****` whole."""
        data = b"\t'RTR'\t<#-115#>\n\t'B'\t<#[8] 4a 42 37 01..#>\n"
        assert untag(data, "hide-first,2") == b"\t'RTR'\t-**5\n\t'B'\t****\n"
        assert untag(data) == b"\t'RTR'\t****\n\t'B'\t****\n"

    def test_strip(self) -> None:
        """--strip (None) removes the tags only and keeps the value as it was."""
        assert untag(b"a <#'x y'#> b <!--42--> c\n", None) == b"a 'x y' b 42 c\n"

    def test_copy_is_strip(self) -> None:
        """The copy filter type strips like --strip."""
        data = b"\t'K'\t<#'v'#>\n"
        assert untag(data, "copy") == untag(data, None) == b"\t'K'\t'v'\n"

    def test_skip_removes_value_and_tags(self) -> None:
        """skip removes the tagged text with its tags, and nothing else."""
        assert untag(b"\t'K'\t<#'v'#>  \r\n", "skip") == b"\t'K'\t  \r\n"

    def test_retag(self) -> None:
        """tag(a,b) replaces the tags with other ones."""
        assert untag(b"\t'K'\t<!--'v'-->\n", "tag([[,]])") == b"\t'K'\t[['v']]\n"

    def test_unhide_last(self) -> None:
        """unhide-last,4 keeps the last four characters inside the quotes."""
        assert untag(b"\t'Card'\t<#'4111111111111234'#>\n", "unhide-last,4") == b"\t'Card'\t'************1234'\n"


class TestFinding:
    def test_custom_tags(self) -> None:
        """A custom pair is found like the default one."""
        assert untag(b"\t'P'\t<**'1111111111'**>\n", pairs=(("<**", "**>"),)) == b"\t'P'\t'****'\n"

    def test_several_pairs_in_one_line_one_pass(self) -> None:
        """Values tagged with different pairs on one line are all handled in one pass."""
        data = b"x <#'a'#> y <!--'b'--> z <#1#>\n"
        assert untag(data) == b"x '****' y '****' z ****\n"

    def test_longer_prefix_wins(self) -> None:
        """Where two prefixes start at one position, the longer one is the tag."""
        data = b"\t'K'\t<#'v'#>\n"
        assert untag(data, None, pairs=(("<", ">"), DEFAULT_PAIR)) == b"\t'K'\t'v'\n"

    def test_quoted_value_may_hold_quotes_and_postfix(self) -> None:
        """A quoted value closes at its quote followed by the postfix, not at an earlier bare postfix."""
        data = b"\t'K'\t<#'it's #> here'#>\n"
        assert untag(data, None) == b"\t'K'\t'it's #> here'\n"

    def test_value_may_hold_another_prefix(self) -> None:
        """Scanning is non-overlapping: a prefix inside a tagged value is part of the value."""
        assert untag(b"<#'a<!--b'#> <!--'c'-->\n", None) == b"'a<!--b' 'c'\n"

    def test_empty_values(self) -> None:
        """An empty quoted value is a value: hide gives `'****'`, strip gives `''`."""
        assert untag(b"<#''#>\n") == b"'****'\n"
        assert untag(b"<#''#>\n", None) == b"''\n"

    def test_any_line(self) -> None:
        """Tags are found on any line, not only in KV blocks."""
        assert untag(b"12:00:01 Trc 04541 free text <#'secret'#> more\n") == b"12:00:01 Trc 04541 free text '****' more\n"

    def test_no_prefix_passes_through_untouched(self) -> None:
        """A chunk without any prefix comes back as the very same bytes object."""
        data = b"\t'K'\t'<!- #> -->'\n" * 100
        assert untag(data) is data


class TestFailClosed:
    def test_prefix_without_postfix_hides_rest_of_line(self) -> None:
        """An unclosed tag hides everything from the prefix to the line ending, and is counted with its line."""
        failures: list[int] = []
        untagger = Untagger(BOTH, HIDE, on_failure=failures.append)
        data = b"ok\n\t'K'\t<#'open-canary\r\nnext <#'x'#>\n\t'L'\t<#'v'\n"
        assert untagger.feed(data, 10) == b"ok\n\t'K'\t****\r\nnext '****'\n\t'L'\t****\n"
        assert failures == [11, 13]
        assert (untagger.stats.tagged, untagger.stats.failed_closed) == (1, 2)

    def test_quoted_value_needs_quote_before_postfix(self) -> None:
        """A quoted value whose closing quote is not followed by the postfix fails closed, even under --strip."""
        assert untag(b"<#'abc#> tail\n", None) == b"****\n"

    def test_postfix_on_a_later_line_does_not_close(self) -> None:
        """A closing tag is looked for on the prefix's own line only."""
        assert untag(b"<#'a\n'#>\n", None) == b"****\n'#>\n"

    def test_last_line_without_ending(self) -> None:
        """The last line may lack its line ending; a lone CR there is part of the line."""
        assert untag(b"<#'a\r", None) == b"****"


class TestBytes:
    def test_crlf_and_tabs_kept(self) -> None:
        """CRLF endings and tabs outside tagged spans come out unchanged."""
        data = b"message X\r\n\tAttributeUserData\t[1] 00\r\n\t\t'K'\t<#'v'#>\t\r\n"
        assert untag(data) == data.replace(b"<#'v'#>", b"'****'")

    def test_non_utf8_kept(self) -> None:
        """Undecodable bytes outside and inside a value survive; inside, each counts as one character."""
        data = b"\xff\xfe free\n\t'K'\t<#'ab\xffcd'#>\n"
        assert untag(data, None) == b"\xff\xfe free\n\t'K'\t'ab\xffcd'\n"
        assert untag(data, "unhide-first,3") == b"\xff\xfe free\n\t'K'\t'ab\xff**'\n"


class TestRun:
    def test_line_numbers_across_chunks(self) -> None:
        """Warnings name the input and the line, whatever the chunk size, and never the value."""
        data = b"a\nb\n\t'K'\t<#'open-canary\nc <#1#>\nd <#2\n"
        for size in (1, 3, 1 << 20):
            warnings: list[str] = []
            chosen = parse_filter_type("hide")
            buffer = io.BytesIO()
            stats = untag_run([Chunks(data, size, "app.log")], BOTH, chosen, StreamSink(buffer, "m"), warn=warnings.append)
            assert buffer.getvalue() == b"a\nb\n\t'K'\t****\nc ****\nd ****\n"
            assert warnings == [
                f"app.log:{n}: a tag opened with no closing tag on the line; hid the rest of the line (failed closed)"
                for n in (3, 5)
            ]
            assert (stats.lines, stats.tagged, stats.failed_closed, stats.bytes_in) == (5, 1, 2, len(data))

    def test_packed_input_refused(self) -> None:
        """Compressed input is refused, since its tags could not be seen."""
        with pytest.raises(ConfigError, match="gzip data, not a text log; decompress it first"):
            untag_chunked(b"\x1f\x8b\x08\x00rest", None, BOTH, 64)


class TestOptions:
    @pytest.mark.parametrize(
        ("text", "pair"),
        [("<!--,-->", ("<!--", "-->")), (" <** , **> ", ("<**", "**>")), ("a b,c", ("a b", "c"))],
    )
    def test_parse_tags(self, text: str, pair: TagPair) -> None:
        """--tags PREFIX,POSTFIX; blanks around a tag are not part of it."""
        assert parse_tags(text) == pair

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("abc", "expected PREFIX,POSTFIX"),
            (",#>", "expected PREFIX,POSTFIX"),
            ("<#, ", "expected PREFIX,POSTFIX"),
            ("a,b,c", "expected PREFIX,POSTFIX"),
            ("x" * 17 + ",y", "prefix longer than 16 characters"),
        ],
    )
    def test_bad_tags(self, text: str, message: str) -> None:
        """A bad --tags value is a ConfigError that says what is expected."""
        with pytest.raises(ConfigError, match=message):
            parse_tags(text)

    def test_empty_or_multiline_tag_refused(self) -> None:
        """A tag must be one or more characters on one line."""
        for pair in (("", "#>"), ("<#", "a\nb")):
            with pytest.raises(ConfigError, match="a tag must be one or more characters"):
                Untagger([pair])

    def test_config_pairs(self, tmp_path: Path) -> None:
        """The tag pairs of a configuration's tag rules and default are read, other rules ignored."""
        path = tmp_path / "filter.ini"
        path.write_text("[log-filter]\ndefault-filter-type=tag(<**, **>)\n[log-filter-data]\nA=tag(<!--,-->)\nB=hide\nC=tag\n")
        assert config_pairs(path) == [COMMENT, DEFAULT_PAIR, ("<**", "**>")]


# ---------------------------------------------------------------- round trips through `run`

TAG_TYPES = ["tag()", "tag(<!--,-->)"]


@st.composite
def tag_policy(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """(default, {key: tag type}): tagged keys, maybe the list key, maybe everything by default."""
    keys = draw(st.lists(st.sampled_from([*TAG_KEYS, LIST_KEY]), unique=True, max_size=4))
    default = draw(st.sampled_from(["copy", "copy", *TAG_TYPES]))
    return default, {key: draw(st.sampled_from(TAG_TYPES)) for key in keys}


def _hidden(default: str, rules: dict[str, str]) -> tuple[str, dict[str, str]]:
    return ("copy" if default == "copy" else "hide"), dict.fromkeys(rules, "hide")


ROUND_TRIP = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestRoundTrip:
    @ROUND_TRIP
    @given(kv_log(), tag_policy(), st.integers(1, 200))
    def test_strip_gives_back_the_input(self, data: bytes, policy: tuple[str, dict[str, str]], size: int) -> None:
        """run with tag() rules, then untag --strip, gives back the input bytes exactly."""
        assume(not any(tag.encode() in data for tag in TAG_STRINGS))
        tagged = run_policy(data, *policy)
        out, stats = untag_chunked(tagged, None, BOTH, size)
        event("tagged" if stats.tagged else "nothing tagged")
        assert out == data
        assert stats.failed_closed == 0

    @ROUND_TRIP
    @given(kv_log(), tag_policy(), st.integers(1, 200))
    def test_hide_equals_run_with_hide(self, data: bytes, policy: tuple[str, dict[str, str]], size: int) -> None:
        """untag (hide) on run's tagged output equals run with hide for the same keys."""
        assume(not any(tag.encode() in data for tag in TAG_STRINGS))
        tagged = run_policy(data, *policy)
        out, stats = untag_chunked(tagged, "hide", BOTH, size)
        assert out == run_policy(data, *_hidden(*policy))
        assert stats.failed_closed == 0


def test_quoted_value_holding_the_postfix_is_hidden_whole() -> None:
    """A quoted value runs to the last quote a postfix follows, as a QUOTED token runs to the last quote."""
    from logfilter.engines.untag import DEFAULT_PAIR, Untagger

    line = b"\t\t'NAME'\t<#'O'#> Brien 4111111111111111'#>\n"
    assert Untagger([DEFAULT_PAIR], parse_filter_type("hide")).feed(line) == b"\t\t'NAME'\t'****'\n"
    assert Untagger([DEFAULT_PAIR]).feed(line) == b"\t\t'NAME'\t'O'#> Brien 4111111111111111'\n"
