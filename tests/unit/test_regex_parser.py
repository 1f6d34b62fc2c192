"""The regex line parser (parsing/regex_parser.py) against the Lark parser it is derived from."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from logfilter.parsing import lark_parser, regex_parser, terminals
from logfilter.parsing.grammar import build
from logfilter.parsing.model import ParseFailed
from tests.strategies import any_kv_line, c_line, noise_line, psdk_line
from tests.unit.test_blocks import ERROR_EXAMPLES


def lark_kv(text: str, layout: str) -> object:
    try:
        return lark_parser.parse_kv_line(text, layout)  # type: ignore[arg-type]
    except ParseFailed:
        return "refused"


def regex_kv(text: str, layout: str) -> object:
    try:
        return regex_parser.parse_kv_line(text, layout)  # type: ignore[arg-type]
    except ParseFailed:
        return "refused"


@settings(max_examples=600)
@given(any_kv_line)
@example("\t\t'CUSTOMER'(list) 'NAME'\t'Jane Roe'")
@example("\t\t'RRequestedSkills'(list) ")
@example("\t\t'a'b'\t'v'")
@example("\t\t'k' [output suppressed] ")
def test_kv_lines_parse_the_same(text: str) -> None:
    """Both parsers accept and refuse the same lines, and split them into the same tokens."""
    for layout in ("c", "psdk"):
        assert regex_kv(text, layout) == lark_kv(text, layout), layout


@settings(max_examples=300)
@given(c_line())
def test_valid_c_lines_are_accepted(text: str) -> None:
    """The strategy produces what the grammar accepts, so the comparison above is not vacuous."""
    assert regex_kv(text, "c") != "refused"


@settings(max_examples=300)
@given(psdk_line())
def test_valid_psdk_lines_are_accepted(text: str) -> None:
    assert regex_kv(text, "psdk") != "refused"


@settings(max_examples=600)
@given(noise_line)
@example("\tAttributeUserData\tKVList: x")
@example("AttributeUserData [bstr] = KVList: ")
@example("\tAttributeReasons")
@example(" x KVList:")
def test_openers_parse_the_same(text: str) -> None:
    assert regex_parser.parse_opener(text) == lark_parser.parse_opener(text)


@pytest.mark.parametrize(("layout", "line"), ERROR_EXAMPLES)
def test_refuses_what_the_grammar_refuses(layout: str, line: str) -> None:
    with pytest.raises(ParseFailed):
        regex_parser.parse_kv_line(line, layout)  # type: ignore[arg-type]


# The KEY terminal as first written (one alternation per character); the grammar now has an
# unrolled form of it, which must take exactly the same bytes from every line.
KEY_AS_FIRST_WRITTEN = r"'(?:[^'\r\n]|'(?![ \t]|\(list\)))*'"


@settings(max_examples=600)
@given(noise_line)
@example("'a'b' 'c'")
@example("'it's'(list) 'x'")
@example("'a'(list'\t'b'")
def test_key_terminal_takes_what_its_first_form_took(text: str) -> None:
    import re

    old, new = re.compile(KEY_AS_FIRST_WRITTEN), re.compile(terminals.terminal_regex("KEY"))
    for start in range(len(text)):
        first, now = old.match(text, start), new.match(text, start)
        assert (first and first.span()) == (now and now.span())


@settings(max_examples=800)
@given(noise_line)
@example("@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging")
@example("'RequestAttachUserData' ('30')")
@example("Message EventAgentNotReady received")
def test_every_header_match_holds_a_hint(text: str) -> None:
    """events.header_lines searches only lines holding a HEADER_HINTS literal: every header match must hold one."""
    from logfilter.parsing.events import HEADER_HINTS

    for candidate in (text, "message Event" + text, "'Event" + text + "' ('1')"):
        found = terminals.message_header_regex().search(candidate.encode("utf-8", "surrogateescape"))
        if found is not None:
            assert any(hint in found.group() for hint in HEADER_HINTS), candidate


HEADER_LINES = ["message EventRinging", "\tmessage RequestX", "'EventX' ('3')", "x 'EventX' ('3')", "Message Event"]


@settings(max_examples=400)
@given(st.lists(noise_line | st.sampled_from(HEADER_LINES), max_size=12), st.sampled_from(["", "\n", "\r\n"]))
def test_header_lines_are_the_lines_with_a_message_header(lines: list[str], end: str) -> None:
    """events.header_lines (follow's restarts) finds what message_header finds line by line."""
    from logfilter.parsing.events import header_lines, message_header

    data = "\n".join(lines).encode("utf-8", "surrogateescape") + end.encode()
    starts, expected = 0, []
    for line in data.split(b"\n"):
        if message_header(line) is not None:
            expected.append(starts)
        starts += len(line) + 1
    assert header_lines(data) == expected
    assert header_lines(b"\n" + data) == [start + 1 for start in expected]  # as the fast path calls it


@settings(max_examples=800)
@given(noise_line)
@example("AttributeUserData [bstr] = KVList: ")
def test_every_psdk_opener_holds_kvlist(text: str) -> None:
    """The scanner finds PSDK openers by the literal KVLIST: every PSDK_KVLIST_LINE match must hold it."""
    import re

    from logfilter.engines.scanner import KVLIST

    for candidate in (text, text + " KVList:", "KVList:" + text):
        found = re.compile(terminals.terminal_regex("PSDK_KVLIST_LINE")).match(candidate)
        if found is not None:
            assert KVLIST.decode() in found.group(), candidate


def test_terminals_are_the_reference_parsers() -> None:
    """terminals.py reads the grammar without building a parser: each terminal as the parser has it."""
    parser = build("tlib", lark_parser.START)
    for terminal in parser.terminals:
        assert terminals.terminal_regex(terminal.name) == terminal.pattern.to_regexp(), terminal.name
