"""Identity rules inside: where identities are in a SIP value, how a message is delimited, both engines alike."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logfilter.engines.jsonl import JsonHandler
from logfilter.engines.render import RenderHandler
from logfilter.engines.walker import Walker
from logfilter.identity import sip
from logfilter.pipeline import run
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy
from logfilter.rules.filters import parse_filter_type
from logfilter.rules.identity_rules import IdentityRules
from logfilter.rules.rule import Rule
from logfilter.sinks.streams import StreamSink
from logfilter.sources.sniff import SNIFF_SIZE, sniff
from logfilter.stats import Stats
from tests.conftest import GOLDEN, load_keyed_policy
from tests.jsonl_oracle import objects
from tests.strategies import log_text


def rules(attributes: dict[str, str] | None = None, headers: dict[str, str] | None = None, default: str = "copy") -> Rules:
    """Compiled rules with these [log-filter-attributes] / [log-filter-sip] rules (filter type texts)."""
    policy = load_keyed_policy(None, default)
    identity = IdentityRules(
        tuple(Rule(name, parse_filter_type(text), "test") for name, text in (attributes or {}).items()),
        tuple(Rule(name, parse_filter_type(text), "test") for name, text in (headers or {}).items()),
    )
    if any(named.filter_type.is_hash for named in (*identity.attributes, *identity.sip)):
        secret = load_keyed_policy(None, "hash").default.secret
        identity = identity.bound(lambda filter_type: filter_type.keyed(secret) if filter_type.is_hash else filter_type)  # type: ignore[arg-type]
    return compile_policy(replace(policy, identity=identity))


def mask(data: bytes, chain: Rules, engine: str = "fast", chunk: int = 1 << 20, max_line: int = 1 << 22) -> tuple:
    """Output, counts and warnings of a run over `data` read `chunk` bytes at a time."""

    class Chunks:
        name = "t.log"

        def chunks(self):  # type: ignore[no-untyped-def]
            for start in range(0, len(data), chunk):
                yield data[start : start + chunk]

    out, warnings = io.BytesIO(), []
    stats = run([Chunks()], chain, StreamSink(out, "<memory>"), warn=warnings.append, engine=engine, max_line=max_line)  # type: ignore[arg-type]
    return out.getvalue(), stats.as_dict(), warnings


def spans(value: bytes) -> list[bytes] | None:
    """The identities sip.identities finds in a header line `X: value`, as text."""
    line = b"X: " + value
    found = sip.identities(line, 3)
    return None if found is None else [line[span.start : span.end] for span in found]


class TestSipValues:
    @pytest.mark.parametrize(("value", "expected"), [
        (b'"Jane Roe" <sip:+14155550123@gw;user=phone>;tag=a', [b'"Jane Roe"', b"+14155550123"]),
        (b"Jane Roe <sips:jroe:secret@gw:5061>", [b"Jane Roe", b"jroe:secret"]),
        (b"<tel:+1-415-555-0123;phone-context=+1>", [b"+1-415-555-0123"]),
        (b"sip:alice@atlanta.example.com;tag=1928301774", [b"alice"]),
        (b"sip:+1415;npdi;rn=+1416@gw;tag=x", [b"+1415;npdi;rn=+1416"]),
        (b'"Roe, Jane <boss>" <sip:a@h>, <sip:b@h;x=1,2>;q=0.5, sip:c@h', [b'"Roe, Jane <boss>"', b"a", b"b", b"c"]),
        (b'"esc \\"quoted\\" name" <sip:d@h>', [b'"esc \\"quoted\\" name"', b"d"]),
        (b'<sip:e@h>;+sip.instance="<urn:uuid:1,2>";expires=60', [b"e"]),
        (b"<sip:gw.example.com;lr>, <urn:service:sos>, <http://a@b/>", []),
        (b"*", []),
        (b"", []),
        (b'"" <sip:f@h>', [b"f"]),
        (b"<sip:g@h>,", [b"g"]),  # the list goes on on a folded line
    ])  # fmt: skip
    def test_identities_are_display_names_and_user_parts(self, value: bytes, expected: list[bytes]) -> None:
        """Display names (quoted or not) and sip/sips user parts and tel numbers; hosts, params and other schemes stay."""
        assert spans(value) == expected

    @pytest.mark.parametrize("value", [
        b'"Jane Roe <sip:a@h>', b"<sip:a@h", b"Jane Roe", b"8c1f2a90-0001@10.0.0.5", b"<a@h>", b"<sip:a@h> junk",
        b'<sip:a@h>;p="open', b"Roe, Jane <sip:a@h>", b"<sip:a@h>,, <sip:b@h>",
    ])  # fmt: skip
    def test_values_that_cannot_be_read(self, value: bytes) -> None:
        """A value that is not a list of name-addr / addr-spec elements is unreadable: the caller fails closed."""
        assert spans(value) is None


class TestMessages:
    HEADERS = {"From": "hide", "Request-URI": "hide"}

    def out(self, text: str, headers: dict[str, str] | None = None) -> str:
        return mask(text.encode(), rules(headers=headers or self.HEADERS))[0].decode()

    def test_a_message_cut_short_ends_at_a_time_stamp_an_event_or_an_opener(self) -> None:
        """Headers after the end of a message are lines like any other: a `From:` there is not read."""
        for end in ("13:00:00.100: SIPTR: something", "13:00:00.100 Trc 04541 x", "message EventRinging",
                    "\tAttributeUserData\t[1] 00 01 00 00.."):  # fmt: skip
            text = f"13:00:00.000: Sending [0,UDP] 9 bytes to h:5060 >>>>>\nINVITE sip:a@h SIP/2.0\n{end}\nFrom: <sip:b@h>\n"
            assert self.out(text).splitlines()[1:] == ["INVITE sip:****@h SIP/2.0", end, "From: <sip:b@h>"], end

    def test_blank_lines_before_the_start_line_and_a_message_with_none(self) -> None:
        """Blank lines after the introducer are skipped; a message printed without a start line is read from its first header."""
        text = ("x Sending [0,UDP] 9 bytes to h >>>>>\n\n\nINVITE sip:a@h SIP/2.0\nFrom: <sip:b@h>\n\n"
                "x Received [0,UDP] 9 bytes from h <<<<<\nFrom: <sip:c@h>\n\n")  # fmt: skip
        assert self.out(text).splitlines() == [
            "x Sending [0,UDP] 9 bytes to h >>>>>", "", "", "INVITE sip:****@h SIP/2.0", "From: <sip:****@h>", "",
            "x Received [0,UDP] 9 bytes from h <<<<<", "From: <sip:****@h>", "",
        ]  # fmt: skip

    def test_the_body_and_what_follows_it_are_not_read(self) -> None:
        """After the blank line that ends the headers, nothing is a header: a sipfrag body passes as it is."""
        text = "x Sending [0,UDP] 9 bytes to h >>>>>\nNOTIFY sip:a@h SIP/2.0\nFrom: <sip:b@h>\n\nSIP/2.0 200 OK\nFrom: <sip:c@h>\n"
        assert self.out(text).splitlines()[-2:] == ["SIP/2.0 200 OK", "From: <sip:c@h>"]

    def test_output_read_again_is_unchanged_and_warns_nothing(self) -> None:
        """What logfilter leaves of a line it failed closed (`****`) is not read as a failure again."""
        chain = rules({"AttributeANI": "hide"}, {"From": "hide", "To": "hide", "Request-URI": "hide"})
        data = (GOLDEN / "sip-skip-tag-fail-closed" / "input.log").read_bytes().replace(b"From: <#", b"From: <")
        data += b"\tAttributeANI\t'+1415' extra\n"
        once, counts, warnings = mask(data, chain)
        assert warnings and counts["failed_closed"] == len(warnings)
        assert mask(once, chain)[::2] == (once, [])

    def test_the_walker_is_not_idle_inside_a_message(self) -> None:
        """Inside a SIP message or an attribute value left open a fresh walker would not go on alike: no checkpoint there."""
        chain = rules({"AttributeANI": "hide"}, {"From": "hide"})
        walker = Walker(chain, Stats(), RenderHandler(chain, Stats()))
        seen = []
        for line in (b"x Sending [0,UDP] 1 bytes to h >>>>>\n", b"INVITE sip:a@h SIP/2.0\n", b"From: <sip:b@h>\n", b"\n",
                     b"\tAttributeANI\t'12\n", b"34'\n", b"done\n"):  # fmt: skip
            walker.process(line, 1)
            seen.append((walker.idle, walker.inside_value))
        assert seen == [(False, True), (False, True), (False, True), (True, False), (False, True), (True, False), (True, False)]


def test_a_sip_message_written_before_its_end_goes_on_as_a_continued_object() -> None:
    """jsonl: a flush inside a SIP message (follow, on quiet) writes it; its later headers make a `continued` object."""
    chain = rules(headers={"From": "hide"})
    stats = Stats()
    walker, out = Walker(chain, stats, JsonHandler(chain, stats, "x.log")), []
    walker.feed(b"12:00:00.000: Sending [0,UDP] 1 bytes to h >>>>>\nINVITE sip:a@h SIP/2.0\nFrom: <sip:b@h>\n", 1, out)
    out.append(walker.flush(False))
    walker.feed(b"f: <sip:c@h>\n\nv=0\n", 4, out)
    out.append(walker.flush(True))
    items = objects(b"".join(out))
    assert [(item["line"], item["time"], item.get("continued"), item["sip"]["headers"]) for item in items] == [
        (1, "12:00:00.000", None, {"From": "<sip:****@h>"}), (4, "12:00:00.000", True, {"f": "<sip:****@h>"}),
    ]  # fmt: skip


class TestLongLines:
    def test_a_listed_line_too_long_to_hold_fails_closed_whole(self) -> None:
        """A listed header or attribute line longer than the line bound keeps its name; the rest is `****`, counted."""
        chain = rules({"AttributeANI": "unhide-last,4"}, {"From": "unhide-last,4"})
        long = b"9" * 300
        data = (b"x Sending [0,UDP] 9 bytes to h >>>>>\nINVITE sip:a@h SIP/2.0\nFrom: <sip:" + long + b"@h>\n"
                b"Subject: " + long + b"\n\n\tAttributeANI\t'" + long + b"'\n")  # fmt: skip
        for engine in ("fast", "reference"):
            out, counts, warnings = mask(data, chain, engine, chunk=64, max_line=128)
            assert out.splitlines()[2:] == [b"From: ****", b"Subject: " + long, b"", b"\tAttributeANI\t****"]
            assert counts["failed_closed"] == 2 and len(warnings) == 2


class TestHash:
    def test_one_number_one_token_wherever_it_is(self) -> None:
        """`'+1415'` in a UserData value, an attribute (quoted or bare) and a URI user part hash to one `h:` text."""
        chain = rules({"AttributeANI": "hash", "AttributeOtherDN": "hash"}, {"From": "hash"}, default="hash")
        data = (b"message EventRinging\n\tAttributeANI\t'+14155550123'\n\tAttributeOtherDN\t+14155550123\n"
                b"\tAttributeUserData\t[1] 00 01 00 00..\n\t\t'ANI'\t'+14155550123'\n"
                b"x Sending [0,UDP] 9 bytes to h >>>>>\nSIP/2.0 200 OK\nFrom: <sip:+14155550123@h>\n\n")  # fmt: skip
        out = mask(data, chain)[0].decode()
        tokens = {piece.split("'")[0].split("@")[0] for piece in out.split("h:")[1:]}
        assert len(tokens) == 1 and out.count("h:") == 4 and "14155550123" not in out


def _sip_message(draw: st.DrawFn) -> list[str]:
    headers = draw(st.lists(st.sampled_from([
        'From: "Jane Roe" <sip:+14155550123@gw>;tag=1', "f: <sip:1@h>", "To: <tel:+1415>, x <sip:2@h>", "t: bad <",
        "Contact: *", " folded <sip:3@h>", "\tfolded", "Call-ID: 1@h", "not a header", "", "P-Asserted-Identity: sip:4@h",
        "\tAttributeUserData\t[1] 00 01 00 00..", "\t\t'PASSWORD'\t'p'", "\tAttributeANI\t'+1415", "12:00:00.000 x",
    ]), max_size=8))  # fmt: skip
    start = draw(st.sampled_from(["INVITE sip:+1415@gw SIP/2.0", "SIP/2.0 200 OK", "REGISTER sip:h SIP/2.0", "", "junk"]))
    return ["12:00:00.000: Sending [0,UDP] 9 bytes to h:5060 >>>>>", start, *headers]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.composite(_sip_message)(), st.just(["\tAttributeANI\t'+14155550123'"]),
                          st.just(["AttributeOtherDN [str] = \"7185550132\""]), st.just(["\tAttributeANI\t'open"]),
                          log_text().map(lambda data: [data.decode("utf-8", "surrogateescape")])), max_size=8),
       st.sampled_from(["\n", "\r\n"]), st.integers(1, 80), st.sampled_from(["hide", "skip", "tag", "unhide-last,4"]))  # fmt: skip
def test_fast_and_reference_agree_under_identity_rules(pieces: list[list[str]], eol: str, chunk: int, rule: str) -> None:
    """Generated logs of SIP messages, attribute lines and KV blocks: both engines write the same bytes and counts."""
    chain = rules({"AttributeANI": rule, "AttributeOtherDN": rule}, {"From": rule, "To": "hide", "Request-URI": rule})
    data = "".join(line + eol for piece in pieces for line in piece).encode("utf-8", "surrogateescape")
    assume(sniff(data[:SNIFF_SIZE]) != "binary")  # refused where it shows (tests/properties.py)
    expected = mask(data, chain, "reference")
    assert mask(data, chain, "fast", chunk) == expected


def test_a_file_of_identity_rules_alone_is_a_configuration(tmp_path: Path) -> None:
    """A file that sets only [log-filter-sip] rules is not refused as one that masks nothing."""
    config = tmp_path / "f.ini"
    config.write_text("[log-filter-sip]\nFrom=hide\n")
    assert compile_policy(load_policy(config)).identity.sip[0].key == "From"
