"""Filter types: their semantics, their option syntax, and the contract every type keeps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logfilter.parsing.model import Value
from logfilter.rules.filters import FilterTypeError, parse_filter_type

MASKING = ["hide", "hide-first,3", "hide-last,3", "unhide-first,3", "unhide-last,3"]


def masked(option: str, raw: str, kind: str = "str") -> str:
    return parse_filter_type(option).apply(Value(kind, raw))  # type: ignore[arg-type]


class TestSemantics:
    @pytest.mark.parametrize(
        ("option", "expected"),
        [
            ("copy", "'111111111'"),
            ("hide", "'****'"),
            ("hide-first,3", "'***111111'"),
            ("hide-last,3", "'111111***'"),
            ("unhide-first,3", "'111******'"),
            ("unhide-last,5", "'****11111'"),
            ("tag()", "<#'111111111'#>"),
            ("tag", "<#'111111111'#>"),
            ("tag(,)", "<#'111111111'#>"),
            ("tag(<!--,-->)", "<!--'111111111'-->"),
            ("tag(<**, **>)", "<**'111111111'**>"),
        ],
    )
    def test_formats_md_table(self, option: str, expected: str) -> None:
        """Each type gives the output of formats.md §4 for 'PASSWORD'→'111111111'."""
        assert masked(option, "'111111111'") == expected

    @pytest.mark.parametrize(
        ("option", "expected"),
        [("hide-first,9", "'****'"), ("hide-last,9", "'****'"), ("unhide-first,9", "'1234'"), ("unhide-last,4", "'1234'")],
    )
    def test_n_at_least_length(self, option: str, expected: str) -> None:
        """hide-* mask every character and keep the length; unhide-* leave the value as it is."""
        assert masked(option, "'1234'") == expected

    def test_hide_never_reveals_length(self) -> None:
        """hide gives four stars whatever the length, even for an empty value."""
        assert {masked("hide", v) for v in ("''", "'1'", "'1234567890abcdef'")} == {"'****'"}

    def test_partial_masks_leave_empty_values(self) -> None:
        """A partial mask leaves '' as it is."""
        assert all(masked(option, "''") == "''" for option in MASKING[1:])

    def test_int_digits_are_masked(self) -> None:
        """Unquoted values: masked characters replace digits; hide gives ****; tags wrap the token."""
        assert (masked("hide-first,2", "115", "int"), masked("hide", "115", "int")) == ("**5", "****")
        assert masked("tag()", "115", "int") == "<#115#>"

    def test_negative_int_keeps_its_sign(self) -> None:
        """The sign of a negative integer is not a digit: it stays, and only digits are masked."""
        assert (masked("hide-first,1", "-1234", "int"), masked("unhide-last,2", "-1234", "int")) == ("-*234", "-**34")
        assert masked("hide", "-1234", "int") == "****"

    def test_binary_has_no_partial_view(self) -> None:
        """A binary value is copied, tagged whole, or becomes **** under every masking type."""
        raw = "[8] 4a 42 37 01.."
        assert masked("copy", raw, "bin") == raw
        assert masked("tag()", raw, "bin") == f"<#{raw}#>"
        assert {masked(option, raw, "bin") for option in MASKING} == {"****"}

    def test_psdk_double_quotes_are_kept(self) -> None:
        """In the PSDK print the value sits between double quotes, which stay in place."""
        assert masked("unhide-last,1", '"App_type_1"') == '"*********1"'

    def test_counts_characters_not_bytes(self) -> None:
        """Multi-byte characters count as one."""
        assert masked("unhide-last,2", "'Zoë Ångström'") == "'**********öm'"


class TestContract:
    @given(text=st.text(min_size=8, max_size=40).filter(lambda s: "\n" not in s and "\r" not in s))
    @pytest.mark.parametrize("option", MASKING)
    def test_masks_change_long_values_deterministically(self, option: str, text: str) -> None:
        """Every masking type returns text, the same each time, and never the input of 8+ characters."""
        raw = f"'{text}'"
        first, second = masked(option, raw), masked(option, raw)
        assert isinstance(first, str) and first == second
        assert first != raw

    @given(text=st.text(max_size=40))
    @pytest.mark.parametrize("option", MASKING[1:])
    def test_partial_masks_keep_length(self, option: str, text: str) -> None:
        """Partial masks keep the number of characters."""
        assert len(masked(option, f"'{text}'")) == len(text) + 2


class TestOptionSyntax:
    @pytest.mark.parametrize(
        ("option", "canonical"),
        [("", "copy"), ("  hide  ", "hide"), ("hide-first , 3", "hide-first,3"), ("tag( <! , !> )", "tag(<!,!>)"),
         ("tag(,-->)", "tag(<#,-->)"), ("tag(<(,)>)", "tag(<(,)>)")],
    )
    def test_accepted(self, option: str, canonical: str) -> None:
        """Blanks around tokens and tags are allowed and are not part of a tag."""
        assert parse_filter_type(option).text == canonical

    @pytest.mark.parametrize(
        ("option", "fragment"),
        [
            ("hdie", "unknown filter type"),
            ("HIDE", "unknown filter type"),
            ("hide-first", "unknown filter type"),
            ("hide-first,x", "unknown filter type"),
            ("hide-first,0", "at least 1"),
            ("unhide-last,-2", "unknown filter type"),
            ("tag(a,b,c)", "unknown filter type"),
            ("tag(abc)", "separated by a comma"),
            ("tag(12345678901234567,x)", "prefix longer than 16"),
            ("tag(x,12345678901234567)", "postfix longer than 16"),
            ("copy hide", "unknown filter type"),
        ],
    )
    def test_refused(self, option: str, fragment: str) -> None:
        """Invalid option text is refused with a message that says what is wrong."""
        with pytest.raises(FilterTypeError, match=fragment):
            parse_filter_type(option)

    def test_sixteen_character_tags_are_allowed(self) -> None:
        """A tag of exactly 16 characters is accepted."""
        assert parse_filter_type(f"tag({'<' * 16},{'>' * 16})").prefix == "<" * 16


class TestPlainForms:
    @pytest.mark.parametrize("text", ["hide", " copy ", "skip\t", "hide-first,3", "unhide-last , 04", "hide-last,0",
                                      "unhide-first,\t12", "tag", " hash", "hash ", "tag ", "hide-first,", "hidefirst,3", "tag(", "hash(8)",
                                      "tag(<!--,-->)", " tag ( [ , ] ) ", "tag(<<,>>)x", "tag(a b,c)", "tag(a,)", "tag(,b)",
                                      "tag(" + "<" * 17 + ",>)", "tag(a,b,c)", "tag((,))", "tag(\u00a0a,b)", "tag(a\u00a0,b)"])
    def test_read_as_the_grammar_reads_them(self, text: str) -> None:
        """The plain forms read without Lark give what filter_type.lark gives, errors included."""
        from logfilter.rules.filters import read_with_grammar

        def outcome(parse):  # noqa: ANN001, ANN202
            try:
                rule = parse(text)
            except FilterTypeError as exc:
                return str(exc)
            shown = None if rule.is_hash or rule.action == "skip" else rule.apply(Value("str", "'123456'"))
            return (rule.text, rule.action, rule.prefix, rule.postfix, rule.length, shown)

        assert outcome(parse_filter_type.__wrapped__) == outcome(read_with_grammar)
