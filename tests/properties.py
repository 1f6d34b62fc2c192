"""The fuzzing properties, one function per target, shared by the hypothesis tests
(tests/unit/test_fuzz.py) and the atheris harness (fuzz/fuzz_logfilter.py).

Each takes arbitrary bytes and raises AssertionError (or lets an unexpected exception
escape) when a property fails:
- parsers: the Lark parser and the regex parser accept the same lines and read them alike;
  only ParseFailed escapes;
- config: any rules file loads or is refused with ConfigError, nothing else;
- run: a log with canary pairs planted in it (some in lines longer than the smaller line bound)
  comes out of both engines (the compiled scanner, `fast`, and the reference), at any chunk
  size and line bound, the same, with no canary left;
  a log without any block opener comes out as it went in.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from logfilter.errors import ConfigError
from logfilter.framing import MAX_LINE
from logfilter.parsing import lark_parser, regex_parser
from logfilter.parsing.model import ParseFailed
from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import StreamSink

CANARY = b"Zq8CanaryXw"
# Longer than the smaller line bound run_path uses (64): such a line goes to the engine in parts.
LONG = CANARY * 8
PLANTS = (
    b"message EventRinging\n\tAttributeUserData\t[5] 00 14 00 00..\n\t\t'PASSWORD'\t'" + CANARY + b"'\n",
    b"message EventRinging\n\tAttributeUserData\t[5] 00..\n\t\t'Notes'\t'a\n" + CANARY + b" b\nc'\n",
    b"'EventRinging' ('2')\nAttributeUserData [bstr] = KVList: \n\t'PASSWORD' [str] = \"" + CANARY + b"\"\n",
    b"message EventRinging\n\tAttributeExtensions\t[5] 00..\n\t\t'L'(list) 'PASSWORD'\t'" + CANARY + b"'\n",
    # An overlong KV line, and an overlong line at column 0 inside a value a failed line left open.
    b"message EventRinging\n\tAttributeUserData\t[5] 00..\n\t\t'PASSWORD'\t'" + LONG + b"'\n",
    b"message EventRinging\n\tAttributeUserData\t[5] 00..\n\t\t'Notes'\t'a\n" + LONG + b"\nb " + LONG + b"'\n",
)
DEFAULTS = ("copy", "hide", "skip", "tag", "unhide-last,2")
OPENER_HINT = re.compile(rb"Attribute(?:UserData|Extensions|Reasons?)|KVList:")


class Chunks:
    """A source (as pipeline.run reads one) that hands out `data` in chunks of `size` bytes; the
    unit tests read through it too."""

    def __init__(self, data: bytes, size: int, name: str = "<test>") -> None:
        self.name, self._data, self._size = name, data, size

    def chunks(self) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._size):
            yield self._data[start : start + self._size]


def parsers(data: bytes) -> None:
    """The reference (Lark) and regex line parsers (the latter reads what the scanner hands the walker) agree on one line."""
    text = data.decode("utf-8", "surrogateescape").split("\n", 1)[0].rstrip("\r")
    for layout in ("c", "psdk"):
        results = []
        for parse_line in (lark_parser.parse_kv_line, regex_parser.parse_kv_line):
            try:
                results.append(parse_line(text, layout))  # type: ignore[arg-type]
            except ParseFailed:
                results.append(None)
        assert results[0] == results[1], f"{layout} line read differently"
    assert lark_parser.parse_opener(text) == regex_parser.parse_opener(text), "opener read differently"


def config(data: bytes) -> None:
    """A rules file of any bytes loads and compiles, or is refused with ConfigError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "filter.ini")
        path.write_bytes(data)
        try:
            compile_policy(load_policy(path))
        except ConfigError as exc:
            assert "\n" not in str(exc).rstrip("\n"), "a config error is one line"


def _mask(data: bytes, default: str, engine: str, chunk: int, max_line: int) -> tuple[bytes, dict[str, object]]:
    """Output bytes and counts of one engine over `data`."""
    chain = compile_policy(load_policy(None, default, ("PASSWORD=hide", "Notes=hide")))
    buffer = io.BytesIO()
    try:
        stats = run([Chunks(data, chunk, "<fuzz>")], chain, StreamSink(buffer, "<memory>"), engine=engine, max_line=max_line)  # type: ignore[arg-type]
    except ConfigError as exc:  # binary data (NUL bytes in the head): refused where it shows
        assert CANARY not in buffer.getvalue() and "not a text log" in str(exc)
        return b"", {}
    return buffer.getvalue(), stats.as_dict()


def planted(data: bytes, seed: int) -> bytes:
    """`data` with a canary pair planted at a line boundary chosen by `seed` (and one at the end)."""
    starts = [0] + [match.end() for match in re.finditer(rb"\n", data)]
    at = starts[seed % len(starts)]
    plant = PLANTS[seed % len(PLANTS)]
    tail = data if data.endswith(b"\n") or not data else data + b"\n"
    return data[:at] + plant + tail[at:] + PLANTS[(seed + 1) % len(PLANTS)]


def run_path(data: bytes, seed: int = 0) -> None:
    """Both engines, chunked two ways and under two line bounds, write the same bytes and counts;
    no planted canary comes out; a log with no block opener comes out unchanged."""
    if CANARY in data:
        return  # the input holds the canary outside any block itself
    default = DEFAULTS[seed % len(DEFAULTS)]
    log = planted(data, seed)
    for max_line in (64, MAX_LINE):
        expected = _mask(log, default, "reference", 1 << 20, max_line)
        assert CANARY not in expected[0], f"canary out (max_line {max_line}, default {default})"
        for chunk in (7, 4096):
            assert _mask(log, default, "fast", chunk, max_line) == expected, f"engines differ (chunk {chunk})"
    if OPENER_HINT.search(data) is None:
        for engine in ("fast", "reference"):
            out, counts = _mask(data, default, engine, 4096, 64)
            assert out == data or not counts, "bytes outside blocks changed"  # (no counts: refused as binary)
