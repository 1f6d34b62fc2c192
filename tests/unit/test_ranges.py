"""A text log cut at message boundaries and masked range by range equals it masked whole."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from logfilter.batch.ranges import Range, cuts, join
from logfilter.batch.rewrite import Outcome, Rewriter
from logfilter.engines.registry import WalkChoice
from logfilter.parsing.events import starts_event
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from tests.conftest import GOLDEN, golden_cases

CONFIG = GOLDEN / "fail-closed" / "filter.ini"


def corpus() -> bytes:
    """Every golden input, one after another: C and PSDK blocks, CRLF, bad KV lines, non-UTF-8."""
    return b"".join((case / "input.log").read_bytes().rstrip(b"\n") + b"\n" for case in golden_cases()) * 3


def rewrite(data: bytes, name: str = "big.log") -> tuple[bytes, Outcome]:
    chain = compile_policy(load_policy(CONFIG))
    out = io.BytesIO()
    rewriter = Rewriter(chain, choice=WalkChoice("fast"), on_error="redact", keep_binary=False, spool_dir=Path("."))
    outcome = rewriter.rewrite(io.BytesIO(data), out, name)
    return out.getvalue(), outcome


def pieces(data: bytes, ranges: list[Range]) -> list[bytes]:
    return [data[piece.start : piece.end] for piece in ranges]


@pytest.mark.parametrize("range_size", [1, 200, 4096, 20_000])
def test_ranges_masked_apart_equal_the_whole(range_size: int) -> None:
    data = corpus()
    ranges = cuts(io.BytesIO(data), len(data), range_size)
    assert len(ranges) > 1
    whole, outcome = rewrite(data)
    results = [rewrite(piece) for piece in pieces(data, ranges)]
    assert b"".join(output for output, _ in results) == whole
    joined = join("big.log", [part for _, part in results])
    assert joined.stats == outcome.stats
    assert outcome.stats.failed_closed > 5  # so the warnings are capped, and shifted
    assert joined.warnings == outcome.warnings


def test_cuts_only_before_a_line_that_starts_a_log_event() -> None:
    data = corpus()
    ranges = cuts(io.BytesIO(data), len(data), 1)
    assert len(ranges) > 20
    for piece in ranges[1:]:
        assert data[piece.start - 1 : piece.start] == b"\n"
        assert starts_event(data[piece.start :].split(b"\n", 1)[0].rstrip(b"\r"))


def test_ranges_cover_the_input_once() -> None:
    data = corpus()
    ranges = cuts(io.BytesIO(data), len(data), 3000)
    assert ranges[0].start == 0 and ranges[-1].end is None
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:], strict=False))
    assert b"".join(pieces(data, ranges)) == data


def test_no_cut_inside_one_endless_block() -> None:
    data = b"@10:26:01 message EventRinging\n" + b"\tAttributeUserData\t[9] 00 01 00 00..\n" + b"\t\t'K'\t'v'\n" * 5000
    assert cuts(io.BytesIO(data), len(data), 100) == [Range(0, 0, None)]


def test_no_range_starts_with_what_would_not_sniff_as_text() -> None:
    lines = [b"10:00:00.000 Std 00000 one\n", b"10:00:01.000 Std 00000 a NUL \x00 here: a range would sniff as binary\n",
             b"10:00:02.000 Std 00000 three\n"]  # fmt: skip
    data = b"".join(lines)
    starts = [piece.start for piece in cuts(io.BytesIO(data), len(data), 1)]
    assert starts == [0, len(lines[0]) + len(lines[1])]


def test_a_failed_range_fails_the_file_with_its_line() -> None:
    ok = Outcome("big.log")
    ok.stats.lines = 10
    failed = Outcome("big.log", "file", "failed", reason="big.log:3: unparsable line in an AttributeUserData block")
    assert join("big.log", [ok, failed]).reason == "big.log:13: unparsable line in an AttributeUserData block"


MULTI_LINE = (
    b"@10:26:01.560 [0] 8.1.000.23 send_to_client: message EventRinging\n"
    b"\tAttributeUserData\t[120] 00 03 00 00..\n"
    b"\t\t'PASSWORD'\t'first line of a secret\n"
    b"SECRET-CONTINUATION-ONE\n"
    b"SECRET-CONTINUATION-TWO\n"
    b"last line'\n"
    b"\t\t'DNIS'\t'8410'\n"
    b"@10:26:02.000 [0] 8.1.000.23 a line of its own\n"
)


@pytest.mark.parametrize("range_size", [1, 50, 200])
def test_no_cut_inside_a_multi_line_value(range_size: int) -> None:
    """The column-0 lines of a value left open are no boundary: a range starting there would copy them."""
    data = MULTI_LINE * 4
    whole, _ = rewrite(data)
    assert b"SECRET-CONTINUATION" not in whole
    ranges = cuts(io.BytesIO(data), len(data), range_size)
    assert len(ranges) > 1
    assert b"".join(rewrite(piece)[0] for piece in pieces(data, ranges)) == whole
