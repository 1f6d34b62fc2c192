"""The compiled scanner (engine `fast`) against the reference engine: same bytes, same counts, same warnings.

Both output formats: the masked log, and the JSON lines (with and without --all-lines), which
the compiled scanner writes through its compiled handler (json_messages.pyx).

Inputs are every golden case and sample under several configurations, and generated logs;
each is fed in chunks of several sizes, so blocks and lines straddle chunk boundaries.
tests/unit/test_scanner.py proves the scanner under test is the compiled one.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from logfilter.errors import ConfigError, InputError
from logfilter.pipeline import run
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import StreamSink
from logfilter.sources.sniff import SNIFF_SIZE, sniff
from tests.conftest import GOLDEN, ROOT, SAMPLES, case_args, golden_cases, load_keyed_policy
from tests.properties import Chunks
from tests.strategies import block, log_text, policy_args

CHUNKS = (1 << 20, 61, 7)
EXTRA_POLICIES = [
    ("hide", ()),
    ("copy", ("PASSWORD=hide", "CardNumber=unhide-last,4", "CUSTOMER=skip", "NAME=tag(<!--,-->)")),
    ("tag", ("CUSTOMER=copy", "RTR=hide-first,2", "ActivityID=skip")),
    ("unhide-first,2", ("PASSWORD=copy", "ACCOUNT=hide")),
    ("hash", ("PASSWORD=copy", "CUSTOMER=hash(10)", "RTR=skip")),
    ("copy", ("PASSWORD=hash(8)", "CUSTOMER=hash", "CardNumber=hide")),
    # Rules that match nothing (another case, a typo) and copy rules: rules_met must agree too.
    ("copy", ("Password=hide", "CardNumbr=hide", "RECORD_ID=", "CUSTOMER=")),
]
# The output formats: (format, all_lines).
FORMATS = [("tlib", False), ("jsonl", False), ("jsonl", True)]
DETECT_POLICIES = [("copy", (), "all"), ("tag", ("PASSWORD=hide", "NAME=copy"), "pan,email"), ("hide", (), "all"), ("copy", ("PASSWORD=hash",), "all")]


def mask(
    data: bytes, chain: Rules, engine: str, chunk: int, on_error: str = "redact", output: tuple = FORMATS[0]
) -> tuple:
    """Output bytes, counts and warnings of one engine in one format; an InputError ends the output early."""
    buffer, warnings = io.BytesIO(), []
    try:
        stats = run(
            [Chunks(data, chunk)], chain, StreamSink(buffer, "<memory>"),
            on_error=on_error, warn=warnings.append, engine=engine,  # type: ignore[arg-type]
            output_format=output[0], all_lines=output[1],
        )
    except InputError as exc:
        return buffer.getvalue(), str(exc), warnings
    except ConfigError as exc:  # binary data (NUL bytes) in the first 8 KiB: refused where it shows,
        return b"", str(exc), []  # so what came before depends on the reads
    return buffer.getvalue(), stats.as_dict(), warnings


def assert_equal_engines(data: bytes, chain: Rules, on_error: str = "redact", output: tuple = FORMATS[0]) -> None:
    expected = mask(data, chain, "reference", 1 << 20, on_error, output)
    for chunk in CHUNKS:
        assert mask(data, chain, "fast", chunk, on_error, output) == expected, f"chunk size {chunk}"


def _inputs() -> list[Path]:
    return [case / "input.log" for case in golden_cases()] + sorted(SAMPLES.glob("*.log"))


@pytest.mark.parametrize("output", FORMATS, ids=str)
@pytest.mark.parametrize("case", golden_cases(), ids=lambda case: case.name)
def test_golden_cases_under_their_own_config(case: Path, output: tuple) -> None:
    ignore_case = "--ignore-key-case" in case_args(case)
    chain = compile_policy(load_policy(case / "filter.ini", ignore_key_case=ignore_case))
    assert_equal_engines((case / "input.log").read_bytes(), chain, output=output)


@pytest.mark.parametrize("output", FORMATS, ids=str)
@pytest.mark.parametrize(("default", "keys"), EXTRA_POLICIES, ids=lambda value: str(value))
@pytest.mark.parametrize("path", _inputs(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_input_under_other_configs(path: Path, default: str, keys: tuple[str, ...], output: tuple) -> None:
    assert_equal_engines(path.read_bytes(), compile_policy(load_keyed_policy(None, default, keys)), output=output)


@pytest.mark.parametrize("output", FORMATS[:2], ids=str)
@pytest.mark.parametrize(("default", "keys", "detect"), DETECT_POLICIES, ids=lambda value: str(value))
@pytest.mark.parametrize("path", _inputs(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_input_with_detectors(path: Path, default: str, keys: tuple[str, ...], detect: str, output: tuple) -> None:
    chain = compile_policy(load_keyed_policy(None, default, keys, detect=detect))
    assert_equal_engines(path.read_bytes(), chain, output=output)


@pytest.mark.parametrize("output", FORMATS[:2], ids=str)
@pytest.mark.parametrize("path", _inputs(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_stop_at_the_same_line(path: Path, output: tuple) -> None:
    """Under --on-error fail both stop at the same line, having written the same bytes."""
    assert_equal_engines(path.read_bytes(), compile_policy(load_policy(None, "hide")), "fail", output)


def _benchmark_corpus(size: int) -> bytes:
    """The seeded corpus of benchmarks/corpus.py: the realistic mix the throughput is measured on."""
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "benchmarks" / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("corpus", module)
    spec.loader.exec_module(module)
    return module.generate(size, seed=7)


@pytest.mark.parametrize("output", FORMATS, ids=str)
@pytest.mark.parametrize("rules", ["perkey", "hide", "rare"])
def test_benchmark_corpus(rules: str, output: tuple) -> None:
    chain = compile_policy(load_policy(ROOT / "benchmarks" / "configs" / f"{rules}.ini"))
    data = _benchmark_corpus(400_000)
    expected = mask(data, chain, "reference", 1 << 20, output=output)
    assert expected[1]["masked"] > 0  # type: ignore[index]
    for chunk in (1 << 20, 4093):
        assert mask(data, chain, "fast", chunk, output=output) == expected


@pytest.mark.parametrize("output", FORMATS, ids=str)
def test_samples_concatenated_under_the_sample_config(output: tuple) -> None:
    data = b"".join(path.read_bytes() for path in sorted(SAMPLES.glob("*.log")))
    assert_equal_engines(data * 3, compile_policy(load_policy(SAMPLES / "filter.ini")), output=output)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log_text(), policy_args(), st.integers(1, 80), st.sampled_from(["redact", "fail"]), st.sampled_from(FORMATS))
def test_generated_logs(data: bytes, policy: tuple, chunk: int, on_error: str, output: tuple) -> None:
    # Binary data is refused where it shows, so with small reads an earlier error may win;
    # tests/properties.py covers refusals.
    assume(sniff(data[:SNIFF_SIZE]) != "binary")
    default, keys, ignore_case = policy
    try:
        chain = compile_policy(load_keyed_policy(None, default, keys, ignore_case))
    except ConfigError:
        assume(False)  # e.g. two keys that clash once case is ignored
    expected = mask(data, chain, "reference", 1 << 20, on_error, output)
    counts = expected[1]
    event("stopped" if isinstance(counts, str) else "changed values" if counts["pairs"] > counts["copied"] else "no change")
    assert mask(data, chain, "fast", chunk, on_error, output) == expected
    assert mask(data, chain, "fast", 1 << 20, on_error, output) == expected


def blocks_text() -> st.SearchStrategy[bytes]:
    """Only blocks, one after another: most lines are KV lines with values to look at."""
    lines = st.lists(block(), min_size=1, max_size=4).map(lambda pieces: [line for piece in pieces for line in piece])
    return lines.map(lambda lines: "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(log_text(), blocks_text()), policy_args(), st.sampled_from(["all", "pan", "email,phone", "ssn,iban"]),
       st.sampled_from(["hide", "skip", "tag", "unhide-last,4", "copy", "hash"]), st.integers(1, 80), st.booleans(),
       st.sampled_from(FORMATS))
def test_generated_logs_with_detectors(
    data: bytes, policy: tuple, detect: str, detect_type: str, chunk: int, in_clear: bool, output: tuple
) -> None:
    """The safety net catches the same values in both engines, whatever rules it sits under."""
    default, keys, ignore_case = policy
    default = "copy" if in_clear else default  # the net only acts where a rule leaves values in clear
    try:
        chain = compile_policy(load_keyed_policy(None, default, keys, ignore_case, detect=detect))
    except ConfigError:
        assume(False)
    chain.detect_rule = load_keyed_policy(None, detect_type).default
    expected = mask(data, chain, "reference", 1 << 20, output=output)
    event("caught" if isinstance(expected[1], dict) and expected[1]["detected"] else "nothing caught")  # type: ignore[index]
    assert mask(data, chain, "fast", chunk, output=output) == expected


def test_golden_folder_is_found() -> None:
    assert len(golden_cases()) >= 30 and GOLDEN.is_dir()
