"""JSON lines (JsonHandler): objects that validate, values as the tlib engine prints them, and messages cut at the right lines."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logfilter.engines.jsonl import JsonHandler
from logfilter.engines.walker import Walker
from logfilter.errors import ConfigError
from logfilter.pipeline import failure_reporter, run
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import StreamSink
from logfilter.sources.sniff import SNIFF_SIZE, sniff
from logfilter.stats import Stats
from tests.conftest import SAMPLES, case_args, golden_cases, load_keyed_policy
from tests.jsonl_oracle import check_values, objects
from tests.properties import Chunks
from tests.strategies import kv_log, log_text, policy_args


def _run(data: bytes, chain: Rules, chunk: int = 1 << 20, engine: str = "fast", all_lines: bool = True) -> tuple:
    """(output bytes, counts) of run in jsonl format."""
    buffer = io.BytesIO()
    stats = run([Chunks(data, chunk)], chain, StreamSink(buffer, "<memory>"),
                engine=engine, output_format="jsonl", all_lines=all_lines)  # fmt: skip
    return buffer.getvalue(), stats


def _tlib(data: bytes, chain: Rules) -> bytes:
    buffer = io.BytesIO()
    run([Chunks(data, 1 << 20)], chain, StreamSink(buffer, "<memory>"))
    return buffer.getvalue()


def _chain(default: str = "copy", *keys: str) -> Rules:
    return compile_policy(load_policy(None, default, keys))


class TestOracle:
    def test_a_wrong_value_is_caught(self) -> None:
        """check_values fails when a value in the JSON differs from run's output (the oracle can fail)."""
        data = b"message RequestX\n\tAttributeUserData\t[1] 00\n\t\t'PASSWORD'\t'secret'\n"
        chain = _chain("copy", "PASSWORD=hide")
        output, _stats = _run(data, chain)
        assert check_values(objects(output), _tlib(data, chain)) == 1
        with pytest.raises(AssertionError):
            check_values(objects(output.replace(b'"****"', b'"secret"')), _tlib(data, chain))


class TestEngines:
    @pytest.mark.parametrize("case", golden_cases(), ids=lambda path: path.name)
    def test_reference_and_fast_agree(self, case) -> None:  # type: ignore[no-untyped-def]
        """The Lark-read JSON walk and the regex-read one write the same objects, whatever the chunk size."""
        args = case_args(case)
        chain = compile_policy(load_policy(case / "filter.ini", ignore_key_case="--ignore-key-case" in args))
        data = (case / "input.log").read_bytes()
        expected = _run(data, chain, engine="reference")[0]
        assert _run(data, chain, chunk=7)[0] == expected
        check_values(objects(expected), (case / "expected.log").read_bytes())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(log_text(), kv_log()), policy_args(), st.integers(1, 80))
def test_generated_logs(data: bytes, policy: tuple, chunk: int) -> None:
    """Generated logs: valid objects, values as the tlib engine prints them, failed-closed lines all counted."""
    assume(sniff(data[:SNIFF_SIZE]) != "binary")  # refused as run refuses it (tests/properties.py)
    default, keys, ignore_case = policy
    try:
        chain = compile_policy(load_keyed_policy(None, default, keys, ignore_case))
    except ConfigError:
        assume(False)
    output, stats = _run(data, chain, chunk)
    items = objects(output)
    check_values(items, _tlib(data, chain))
    assert sum(item.get("failed_closed", 0) for item in items) == stats.failed_closed
    starts = [item["line"] for item in items]
    assert starts == sorted(starts)


def test_samples_in_small_chunks() -> None:
    """The samples, read 61 bytes at a time, give the same objects as read whole."""
    chain = compile_policy(load_policy(SAMPLES / "filter.ini"))
    data = b"".join(path.read_bytes() for path in sorted(SAMPLES.glob("*.log")))
    assert _run(data, chain, 61)[0] == _run(data, chain)[0]


def test_golden_cases_have_values() -> None:
    """The golden cases hold many values to check, so the value checks are not empty."""
    total = 0
    for case in golden_cases():
        chain = compile_policy(load_policy(case / "filter.ini", ignore_key_case="--ignore-key-case" in case_args(case)))
        total += check_values(objects(_run((case / "input.log").read_bytes(), chain)[0]), (case / "expected.log").read_bytes())
    assert total > 100


class TestFlush:
    def _engine(self) -> tuple[Walker, list[bytes]]:
        chain = _chain("hide")
        stats = Stats()
        engine = Walker(chain, stats, JsonHandler(chain, stats, "x.log"), on_failure=failure_reporter(str, "redact", lambda m: None))
        return engine, []

    def test_quiet_flush_then_continuation(self) -> None:
        """A flush that is not the message's end writes it; the lines that go on make a `continued` object."""
        engine, out = self._engine()
        first = b"message RequestX\n\tAttributeUserData\t[1] 00\n\t\t'L'(list) 'A'\t'1'\n"
        engine.feed(first, 1, out)
        assert not engine.idle
        out.append(engine.flush(False))
        assert not engine.idle  # the message may go on: no checkpoint here
        engine.feed(b"\t\t\t'B'\t'2'\n\tAttributeThisDN\t'9'\n", 4, out)
        out.append(engine.flush(True))
        assert engine.idle
        one, two = objects(b"".join(out))
        assert one["kv"] == {"AttributeUserData": {"L": {"A": "****"}}} and "continued" not in one
        assert two["continued"] is True and two["line"] == 4 and two["message"] == "RequestX"
        assert two["kv"] == {"AttributeUserData": {"L": {"B": "****"}}}
        assert two["attributes"] == {"AttributeThisDN": "9"}

    def test_ended_flush_writes_the_last_free_line(self) -> None:
        """At a record's end nothing is held: the last free line is written (with all lines), the engine is idle."""
        chain = _chain()
        stats = Stats()
        engine = Walker(chain, stats, JsonHandler(chain, stats, "x.log", all_lines=True), on_failure=failure_reporter(str, "redact", lambda m: None))
        out: list[bytes] = []
        engine.feed(b"10:00:00.000 Std 05060 hello\n", 1, out)
        assert b"".join(out) == b"" and not engine.idle
        assert objects(engine.flush(True)) == [{"file": "x.log", "line": 1, "text": "10:00:00.000 Std 05060 hello"}]
        assert engine.idle

    def test_block_outside_a_message(self) -> None:
        """A KV block with no message header before it is a message with no name; its values are filtered."""
        output, _stats = _run(b"free\n\tAttributeUserData\t[1] 00\n\t\t'K'\t'v'\n", _chain("hide"), all_lines=False)
        (item,) = objects(output)
        assert (item["line"], item["message"], item["header"], item["kv"]) == (2, None, [], {"AttributeUserData": {"K": "****"}})


def test_crlf_gives_the_objects_of_lf() -> None:
    """Line endings are not part of any text: a CRLF log gives the same objects as its LF copy."""
    chain = compile_policy(load_policy(SAMPLES / "filter.ini"))
    crlf = (SAMPLES / "sipserver-crlf.log").read_bytes()
    assert b"\r\n" in crlf
    assert _run(crlf, chain)[0] == _run(crlf.replace(b"\r\n", b"\n"), chain)[0]


def test_psdk_boilerplate_is_header_only_under_the_header() -> None:
    """`message attributes:` right under a PSDK header is a header line; anywhere else it is another line."""
    data = b"'EventRinging' ('64')\nmessage attributes:\nAttributeThisDN [str] = \"2214\"\nmessage attributes:\n"
    (item,) = objects(_run(data, _chain())[0])
    assert item["header"] == ["'EventRinging' ('64')", "message attributes:"] and item["time"] is None
    assert item["attributes"] == {"AttributeThisDN": "2214"}
    assert item["other"] == [{"line": 4, "text": "message attributes:"}]


def test_a_hashed_value_is_one_token_whatever_its_kind() -> None:
    """`1234`, `'1234'` and PSDK `"1234"` hash to one token, and the JSON gives it bare each time."""
    data = (
        b"message RequestX\n\tAttributeUserData\t[3] 00\n\t\t'PIN'\t1234\n\t\t'PINS'\t'1234'\n"
        b"\t\t'BIN'\t[2] 12 34\n"
    )
    chain = compile_policy(load_keyed_policy(None, "hash"))
    (item,) = [item for item in objects(_run(data, chain)[0]) if item.get("message")]
    pin, pins = item["kv"]["AttributeUserData"]["PIN"], item["kv"]["AttributeUserData"]["PINS"]
    assert pin == pins and pin.startswith("h:") and len(pin) == 18
    assert item["kv"]["AttributeUserData"]["BIN"] == "****"


class TestHostile:
    """What issue 8 bounds in run, the JSON lines bound too: long lines, open values, deep lists."""

    OPENER = b"message RequestX\n\tAttributeUserData\t[1] 00..\n"

    def test_an_overlong_line_goes_into_no_object(self) -> None:
        chain = _chain("copy", "PASSWORD=hide")
        long_free = b"12:00:00 " + b"x" * 300 + b"\n"
        long_kv = b"\t\t'Notes'\t'" + b"S" * 300 + b"'\n"
        data = self.OPENER + long_kv + b"\t\t'PASSWORD'\t'pw'\n" + long_free + b"10:00:00 next\n"
        buffer = io.BytesIO()
        stats = run([Chunks(data, 64)], chain, StreamSink(buffer, "<memory>"), output_format="jsonl", all_lines=True, max_line=100)
        items = objects(buffer.getvalue())
        # The column-0 lines after the block start no event: they go on with it (issue 22), and after
        # PASSWORD (hidden) they fail closed, the overlong one whole.
        (message,) = items
        assert message["failed_closed"] == 3 and message["kv"]["AttributeUserData"] == {"PASSWORD": "****"}
        assert stats.failed_closed == 3
        assert b"SSSS" not in buffer.getvalue() and b"xxxx" not in buffer.getvalue()

    def test_the_lines_of_a_value_left_open_fail_closed(self) -> None:
        chain = _chain("copy", "Notes=hide")
        data = self.OPENER + b"\t\t'Notes'\t'first\nSECRET-ONE\nend'\n\t\t'DNIS'\t'8410'\n10:00:00 next\n"
        output, stats = _run(data, chain)
        (message,) = objects(output)  # `10:00:00 next` starts no event: it goes on with DNIS (copy), in clear
        assert b"SECRET" not in output and stats.failed_closed == 3 == message["failed_closed"]
        assert message["kv"]["AttributeUserData"] == {"DNIS": "8410"}
        assert message["other"] == [{"line": 7, "text": "10:00:00 next"}]

    def test_a_pair_like_line_inside_a_value_left_open_is_no_pair(self) -> None:
        """A line that looks like a pair while a failed line's value is open is that value's text:
        failed closed, never a JSON pair in clear."""
        chain = _chain("copy", "Notes=hide")
        data = self.OPENER + b"\t\t'Notes'\t'first\n\t\tsecond\n\t\t'PIN'\t'Canary1234'\n\t\t'DNIS'\t'8410'\n"
        output, stats = _run(data, chain)
        (message,) = objects(output)
        assert b"Canary1234" not in output and stats.failed_closed == 3 == message["failed_closed"]
        assert message["kv"]["AttributeUserData"] == {"DNIS": "8410"}

    def test_lists_deeper_than_json_allows_are_flattened(self) -> None:
        chain = _chain("copy", "PASSWORD=hide")
        data = self.OPENER + b"\t\t" + b"'L'(list) " * 300 + b"'PASSWORD'\t'deep-secret'\n"
        output, _stats = _run(data, chain)
        (message,) = objects(output)
        assert b"deep-secret" not in output and message["flattened"] == 300 - 32
        inner = message["kv"]["AttributeUserData"]
        for _ in range(32):
            inner = inner["L"]
        assert inner == {"PASSWORD": "****"}


def test_left_out_is_the_same_whatever_the_reads() -> None:
    """An overlong CRLF line's length leaves out its CRLF even when a read cuts between CR and LF."""
    data = b"free " + b"Q" * 100 + b"\r\nnext\r\n"
    sizes = set()
    for chunk in (7, 4096):
        buffer = io.BytesIO()
        run([Chunks(data, chunk)], _chain(), StreamSink(buffer, "<memory>"), output_format="jsonl", all_lines=True, max_line=32)
        sizes.add(objects(buffer.getvalue())[0]["left_out"])
    assert sizes == {105}
