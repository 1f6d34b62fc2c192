"""The README's first-screen commands stay true."""

from __future__ import annotations

from tests.conftest import ROOT, SAMPLES, run_logfilter


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with the exact test command the README shows."""
    command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"    {command}\n" in (ROOT / "README.md").read_text()


def test_readme_sample_command_runs_clean() -> None:
    """The README's sample run works, masks something, and no line fails closed."""
    result = run_logfilter("run", "-c", SAMPLES / "filter.ini", "--stats", SAMPLES / "tserver.log")
    assert result.returncode == 0, result.stderr
    assert " 0 lines failed closed" in result.stderr
    assert " 0 masked" not in result.stderr
