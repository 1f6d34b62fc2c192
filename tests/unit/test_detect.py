"""Detectors: what each one recognizes, and the near misses it must not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logfilter.rules.detect import NAMES, DetectorError, Detectors, parse_names, preview

ALL = Detectors(NAMES)


@pytest.mark.parametrize(
    ("text", "detector"),
    [
        ("4111111111111111", "pan"),
        ("4111 1111 1111 1111", "pan"),
        ("4111-1111-1111-1111", "pan"),
        ("378282246310005", "pan"),  # 15-digit Amex
        ("6011000990139424", "pan"),
        ("4222222222222", "pan"),  # 13 digits
        ("card no. 5500005555555559 exp 12/27", "pan"),
        ("078-05-1121", "ssn"),
        ("123 45 6789", "ssn"),
        ("DE89370400440532013000", "iban"),
        ("DE89 3704 0044 0532 0130 00", "iban"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("gb82west12345698765432", "iban"),
        ("jane.roe@example.com", "email"),
        ("mail: J_Roe+cc@mail.example.co.uk.", "email"),
        ("+1 415 555 0123", "phone"),
        ("+14155550123", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("+1 (415) 555-0123", "phone"),
        # numbers and words beside them
        ("4111 1111 1111 1111 123", "pan"),
        ("cvv 123 4111111111111111", "pan"),
        ("4111111111111111-01", "pan"),
        ("card 4111 1111 1111 1111 12/25", "pan"),
        ("IBAN: GB82 WEST 1234 5698 7654 32 please", "iban"),
        ("+1 (415) 555-0123 1", "phone"),
    ],
)
def test_recognized(text: str, detector: str) -> None:
    assert ALL.first(text.encode()) == detector
    assert [hit.detector for hit in ALL.hits(text.encode())] == [detector]


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn fails
        "4111 1111 1111 1112",
        "0000000000001234",  # no issuer number starts with 0 (zero-padded counters)
        "411111111111",  # 12 digits: too short
        "41111111111111111111",  # 20 digits: too long, and not cut into a card number
        "4111  1111 1111 1111",  # two blanks in a row
        "x4111111111111111",  # part of a word
        "000-12-3456", "666-12-3456", "900-12-3456", "987-65-4320",  # SSN areas never issued
        "123-00-4567", "123-45-0000",  # group 00, serial 0000
        "078-05-1120",  # the Woolworth wallet card, published
        "123-45 6789",  # mixed separators
        "123456789",  # nine bare digits: too often something else
        "DE89370400440532013001",  # IBAN check digits wrong
        "DE8937040044053201300",  # one character short for Germany
        "XX89370400440532013000",  # no such country
        "jane.roe@example", "jane@@example.com", ".jane@example.com", "jane..roe@example.com", "sip_01@+4389",
        "user@10.0.0.1",
        "+1 555 0100",  # not a valid North American number
        "+0 415 555 0123",
        "14155550123",  # not in international form
        "006c029a6685d004", "1479123456", "2026-11-23T10:26:01.560", "@10:26:01.5600",
    ],
)
def test_not_recognized(text: str) -> None:
    assert ALL.first(text.encode()) is None
    assert ALL.hits(text.encode()) == []


def test_only_chosen_detectors_run() -> None:
    only_email = Detectors(["email"])
    assert only_email.first(b"4111111111111111 jane.roe@example.com") == "email"
    assert only_email.first(b"4111111111111111") is None
    assert Detectors([]).first(b"4111111111111111") is None


def test_hits_in_order_without_overlap() -> None:
    text = b"+4111111111111111 then jane.roe@example.com and 4012888888881881"
    hits = ALL.hits(text)
    assert [(hit.detector, text[hit.start : hit.end]) for hit in hits] == [
        ("pan", b"4111111111111111"), ("email", b"jane.roe@example.com"), ("pan", b"4012888888881881"),
    ]  # fmt: skip


def test_parse_names() -> None:
    assert parse_names("email, PAN") == ("pan", "email")
    assert parse_names("all") == NAMES
    assert parse_names("") == ()
    with pytest.raises(DetectorError, match="unknown detector 'visa'"):
        parse_names("pan,visa")


@pytest.mark.parametrize(
    ("text", "reveal", "shown"),
    [
        ("4111111111111111", True, "************1111"),
        ("4111111111111111", False, "****************"),
        ("12345678901", True, "***********"),  # under 12 characters: nothing revealed
        ("1234", True, "****"),
        ("jane.roe@example.com", True, "****************.com"),
        ("ab\udcffcdefghijkl\udcfe", True, "*" * 14),  # an undecodable byte in the last four
    ],
)
def test_preview(text: str, reveal: bool, shown: str) -> None:
    assert preview(text, reveal) == shown


class TestCandidatesNeed:
    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.sampled_from(["4111 1111 1111 1111", "078-05-1120", "DE89 3704 0044 0532 0130 00", "GB82WEST",
                                    "a.b@example.com", "@", "+1 (415) 555-0123", "+", "-", " ", ".", "(", "1", "9", "x",
                                    "Z", "ab", "0"]), max_size=12).map("".join))
    def test_every_candidate_holds_its_digits_and_byte(self, text: str) -> None:
        """A text in which a detector's pattern finds a candidate has the digits and the byte that detector needs
        (values without them are passed over before any search)."""
        import re

        from logfilter.rules.detect import KINDS

        data = text.encode()
        for kind in KINDS:
            for hit in re.finditer(kind.pattern, data):
                rest = data[hit.start() :]  # a pattern may look ahead past its match
                assert sum(rest.count(d) for d in b"0123456789") >= kind.digits, (kind.name, rest)
                assert kind.needs in hit.group(), (kind.name, hit.group())


class TestIbanSpans:
    """The IBAN detector asks stdnum of the one prefix with the country's length: the same spans as
    asking it of every prefix, longest first (what it did before, and what _shortened does)."""

    VALID = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606",
             "NL91ABNA0417164300", "AD1200012030200359100100", "BE68539007547034", "CH9300762011623852957"]  # fmt: skip

    @staticmethod
    def spaced(iban: str) -> str:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))

    def check(self, text: bytes) -> None:
        from logfilter.rules.detect import _iban, _iban_spans, _shortened

        assert list(_iban_spans(text)) == list(_shortened(_iban, 15)(text)), text

    @pytest.mark.parametrize("iban", VALID)
    def test_valid_ones_whole_spaced_lowercase_and_followed(self, iban: str) -> None:
        from logfilter.rules.detect import _iban, _iban_spans

        for form in (iban, self.spaced(iban), iban.lower(), iban + "1234", self.spaced(iban) + " 12AB"):
            self.check(form.encode())
        assert list(_iban_spans(iban.encode())) == ([(0, len(iban))] if _iban(iban.encode()) else [])

    @settings(max_examples=1500, deadline=None)
    @given(st.sampled_from(VALID), st.integers(0, 40), st.text("0123456789ABCDEFabcdef ", max_size=12),
           st.sampled_from(["", "DE", "AF", "ad", "ZZ", "be"]))
    def test_changed_ones(self, iban: str, cut: int, tail: str, country: str) -> None:
        text = (country + iban[len(country) :])[:cut] + tail
        if len(text) >= 4 and text[:2].isalpha() and text[2:4].isdigit():
            self.check(text.encode())
