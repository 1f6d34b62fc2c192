"""Conventions every command shares: -h, --version, one error style, choices shown in help."""

from __future__ import annotations

import re

import pytest

from logfilter import __version__
from tests.conftest import run_logfilter


def test_version() -> None:
    """--version prints the version alone, exit 0."""
    result = run_logfilter("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"logfilter {__version__}\n".encode(), "")


@pytest.mark.parametrize("command", [[], ["run"], ["batch"], ["follow"], ["scan"], ["keys"], ["untag"]])
def test_h_is_help(command: list[str]) -> None:
    """-h shows what --help shows, exit 0."""
    short, long = run_logfilter(*command, "-h"), run_logfilter(*command, "--help")
    assert (short.returncode, short.stdout) == (0, long.stdout) and b"Usage:" in short.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--bogus-flag"], "error: No such option: --bogus-flag"),
        (["follow", "raw/*.log", "-o", "out"], "error: Missing option '--state'."),
        (["batch", "-o", "out"], "error: Missing argument 'INPUT'."),
        (["rn"], "error: No such command 'rn'. Did you mean 'run'?"),
        (["run", "--default", "hide", "--preview-count", "x"], "error: --preview-count 'x': expected 1 to 100"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    """Typer's own usage errors are told as ours are: one `error:` line on stderr, exit 2."""
    result = run_logfilter(*args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message + "\n", b"")


def test_help_shows_choices_and_names_not_python_types() -> None:
    """Help lists the choices of a flag and names its value, never a Python type."""
    text = run_logfilter("run", "--help").stdout.decode()
    assert "--on-error [redact|fail]" in text and "--format [tlib|jsonl]" in text and "INPUT..." in text
    assert "<str>" not in text and "<list[str]>" not in text and "[[INPUT]...]" not in text


@pytest.mark.parametrize("command", ["run", "batch", "follow", "scan", "keys", "untag"])
def test_no_python_type_in_any_help(command: str) -> None:
    """Issue 20, item 8: no command's help shows a Python or Click type name, or a doubled bracket; each has --verbose."""
    text = run_logfilter(command, "--help").stdout.decode()
    assert not re.search(r"<(str|int|float|bool|path|list|tuple|dict)\b|\[\[|\b(TEXT|INTEGER|BOOLEAN|PATH|FLOAT)\b", text), text
    assert "--verbose" in text  # every command that reads a rules file names its ignored sections on demand


def test_no_command_shows_help_on_stderr() -> None:
    """`logfilter` alone prints the help on stderr, exit 2."""
    result = run_logfilter()
    assert result.returncode == 2 and result.stderr.startswith("Usage:") and result.stdout == b""
