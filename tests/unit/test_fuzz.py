"""Bounded fuzzing in the normal test run: the properties of tests/properties.py on generated input.

The atheris harness (fuzz/fuzz_logfilter.py) runs the same properties for as long as one
likes; here each gets a few hundred examples, a few seconds each.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests import properties
from tests.strategies import any_kv_line, log_text, long_line

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Near-valid lines, and raw bytes with the characters that matter to the formats mixed in.
line_bytes = st.one_of(
    any_kv_line.map(lambda text: text.encode("utf-8", "surrogateescape")),
    st.binary(max_size=80),
    st.lists(st.sampled_from([b"'", b'"', b"\t", b" ", b"(list) ", b"[str]", b" = ", b"KVList: ", b"x", b"\xff",
                              b"\x00", b"\r", b"AttributeUserData", b"[8] 4a.."]), max_size=20).map(b"".join),
)  # fmt: skip
config_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(["[log-filter]", "[log-filter-data]", "default-filter-type=", "hide", "tag(", ",",
                              ")", "KEY=", "detect=", "\n", "\r\n", "#", "=", "unhide-last,", "9" * 30, "\ufeff",
                              "\udcff", "skip", "x" * 17]), max_size=30).map(lambda parts: "".join(parts).encode(
                                  "utf-8", "surrogateescape")),
)  # fmt: skip
log_bytes = st.one_of(
    log_text(),
    st.binary(max_size=300),
    st.lists(st.one_of(log_text(), line_bytes.map(lambda line: line + b"\n")), max_size=4).map(b"".join),
    # Blocks with lines longer than the smaller line bound (64) among them.
    st.lists(st.one_of(log_text(), long_line.map(lambda line: line.encode("utf-8", "surrogateescape") + b"\n")),
             max_size=6).map(b"".join),
)  # fmt: skip
# Seeds whose first planted canary is in an overlong line (properties.PLANTS[4] and [5]).
OVERLONG_PLANTS = (4, 5)


class TestFuzzParsers:
    @FUZZ
    @given(line_bytes)
    def test_the_two_parsers_agree_on_any_line(self, data: bytes) -> None:
        """Lark and the regex parser accept the same lines and read them alike; only ParseFailed escapes."""
        properties.parsers(data)


class TestFuzzConfig:
    @FUZZ
    @given(config_bytes)
    def test_any_rules_file_loads_or_is_refused_in_one_line(self, data: bytes) -> None:
        """A rules file of any bytes compiles or raises ConfigError with a one-line message."""
        properties.config(data)


class TestFuzzRun:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(log_bytes, st.integers(0, 1000))
    @example(b"\r\x00", 0)  # CR-only: refused, and said to be no text log (a fresh-clone CI run found it)
    @example(b"", OVERLONG_PLANTS[0])  # the canary in an overlong KV line
    @example(b"", OVERLONG_PLANTS[1])  # the canary in overlong lines of a value left open, at column 0
    @example(b"\tAttributeUserData\t[5] 00..\n\t\t'K'\t'v'\n", OVERLONG_PLANTS[1] + 6)  # the same, inside a block
    def test_no_canary_engines_equal_outside_bytes_kept(self, data: bytes, seed: int) -> None:
        """Planted canaries, short lines and overlong ones, never come out; engines agree at any chunk size and
        line bound; text with no block opener is unchanged."""
        properties.run_path(data, seed)


REGRESSIONS = sorted((Path(__file__).resolve().parent.parent / "fuzz_regressions").glob("*"))


@pytest.mark.parametrize("found", REGRESSIONS, ids=[path.name for path in REGRESSIONS])
def test_inputs_the_fuzzer_found_stay_fixed(found: Path) -> None:
    """Each input atheris once failed on (tests/fuzz_regressions/<target>-*) passes its property."""
    data = found.read_bytes()
    target = found.name.split("-", 1)[0]
    if target == "run":
        properties.run_path(data[1:], data[0] if data else 0)
    else:
        getattr(properties, target)(data)
