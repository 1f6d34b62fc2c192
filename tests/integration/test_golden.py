"""Every golden case: `logfilter run -c filter.ini [args] input.log` gives expected.log, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.conftest import canaries, case_args, golden_cases, run_logfilter


@pytest.mark.parametrize("engine", ["fast", "reference"])
@pytest.mark.parametrize("case", golden_cases(), ids=lambda path: path.name)
def test_golden(case: Path, engine: str, request: pytest.FixtureRequest) -> None:
    """Under either engine the output is exactly expected.log, and stderr exactly expected.stderr (or quiet)."""
    result = run_logfilter("run", "-c", "filter.ini", *case_args(case), "--engine", engine, "input.log", cwd=case)
    assert result.returncode == 0, result.stderr
    expected_path = case / "expected.log"
    if request.config.getoption("--update-golden"):
        expected_path.write_bytes(result.stdout)
    expected = expected_path.read_bytes()
    if result.stdout != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "backslashreplace").splitlines(keepends=True),
            result.stdout.decode("utf-8", "backslashreplace").splitlines(keepends=True),
            "expected.log",
            "output",
        )
        pytest.fail("output differs from expected.log:\n" + "".join(diff))
    stderr_path = case / "expected.stderr"
    assert result.stderr == (stderr_path.read_text() if stderr_path.exists() else "")


@pytest.mark.parametrize("case", golden_cases(), ids=lambda path: path.name)
def test_canaries_never_leak(case: Path) -> None:
    """No planted canary from tests/golden/CANARIES reaches stdout or stderr, with or without --stats."""
    planted = [c for c in canaries() if c in (case / "input.log").read_bytes()]
    result = run_logfilter("run", "-c", "filter.ini", *case_args(case), "--stats", "input.log", cwd=case)
    for canary in planted:
        assert canary not in result.stdout, canary
        assert canary.decode() not in result.stderr, canary


def test_canaries_are_planted() -> None:
    """Every canary appears in at least one golden input, so the leak test above is not empty."""
    inputs = b"".join((case / "input.log").read_bytes() for case in golden_cases())
    missing = [c for c in canaries() if c not in inputs]
    assert not missing
