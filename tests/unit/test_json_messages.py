"""The compiled JSON lines handler's readings in C, held to the regexes jsonl.py defines them by.

The objects it builds are held to JsonHandler's by tests/unit/test_differential.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logfilter.engines.json_messages import header_name, time_stamp
from logfilter.engines.jsonl import MESSAGE_NAME, TIME_STAMP
from logfilter.parsing.events import message_header

LINES = [
    b"@10:00:00.0083 [0] 8.1.010.00 send_to_client: message EventACK",
    b"message RequestAttachUserData",
    b"Message EventRinging",
    b"10:00:00.057 Trc 04541 RequestAttachUserData received from [325] (0000004d WDE 10.0.7.6:16111)",
    b"'EventRinging' ('2')",
    b"'EventRinging' ('')",
    b"'Eventx' ('12') trailing",
    b"'Event' ('12')",
    b"x message EventACK",
    b"xmessage EventACK",
    b":message \"EventACK\" more",
    b"\tmessage Eventack",
    b"message Eventack message EventOther",
    b"message EventAck\"x",
    b"message ",
    b"2016-04-20T09:22:09.969 Std 00000 message RequestX",
    b"2016-04-20 09:22:09,969 message EventX",
    b"2016-04-20T09:22 09:22:09.969",
    b"@10:26:01.5600",
    b"@@10:26:01",
    b"10:26:01.",
    b"10:26:01,5",
    b"1:26:01.5",
    b"",
]


@pytest.mark.parametrize("line", LINES, ids=repr)
def test_readings_of_known_lines(line: bytes) -> None:
    check(line)


def check(line: bytes) -> None:
    header = message_header(line)
    expected = MESSAGE_NAME.search(header.group()).group() if header else None  # type: ignore[union-attr]
    assert header_name(line) == expected
    time = TIME_STAMP.match(line)
    assert time_stamp(line) == (time.group(1) if time else None)


PIECES = st.sampled_from(
    [b"message ", b"Message ", b"essage ", b"Event", b"Request", b"Ack", b"x", b"'", b"' ('", b"')", b"12",
     b" ", b"\t", b":", b'"', b"@", b"10:26:01", b".5600", b",5", b"2016-04-20", b"T", b"-", b"\xc3\xa9"]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=12).map(b"".join))
def test_readings_of_generated_lines(line: bytes) -> None:
    check(line)


@pytest.mark.parametrize("depth", [40, 300])
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_a_message_continued_inside_lists_deeper_than_json_allows_stays_flattened(depth: int, engine: str) -> None:
    """follow writes a message before its end when the file goes quiet (flush, not ended): the object
    that continues it nests its open lists no deeper than MAX_DEPTH either, and says how many it
    flattened (a review found it nested as deep as the log: orjson refused it past about 250)."""
    import orjson

    from logfilter.engines.jsonl import MAX_DEPTH
    from logfilter.engines.registry import WalkChoice
    from logfilter.rules.compiled import compile_policy
    from logfilter.stats import Stats
    from tests.conftest import load_keyed_policy

    lines = [b"message EventRinging\n", b"\tAttributeUserData\t[3] 00 01..\n"]
    lines += [b"\t" * (2 + level) + b"'L%d'(list)\n" % level for level in range(depth)]
    lines += [b"\t" * (2 + depth) + b"'PASSWORD'\t'CanaryPw'\n", b"\t" * (2 + depth) + b"'X'\t'after'\n"]
    rules = compile_policy(load_keyed_policy(None, "copy", ("PASSWORD=hide",)))
    walk = WalkChoice(engine, "jsonl").build("in.log", rules, Stats(), lambda *_: None)
    out: list[bytes] = []
    walk.feed(b"".join(lines[:-1]), 1, out)
    out.append(walk.flush(False))  # the file went quiet here
    walk.feed(lines[-1], len(lines), out)
    out.append(walk.flush(True))
    first, second = (orjson.loads(line) for line in b"".join(out).splitlines())
    assert second["continued"] is True
    for item, leaf in ((first, "PASSWORD"), (second, "X")):
        assert item["flattened"] == depth - MAX_DEPTH
        inner, nested = item["kv"]["AttributeUserData"], 0
        while len(inner) == 1 and isinstance(next(iter(inner.values())), dict):
            inner, nested = next(iter(inner.values())), nested + 1
        assert nested == MAX_DEPTH and leaf in inner
    assert b"CanaryPw" not in b"".join(out)
