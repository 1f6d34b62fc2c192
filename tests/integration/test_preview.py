"""`run --preview` on a real terminal (a pty), and its refusals everywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLES, on_a_terminal, run_logfilter

CONFIG = SAMPLES / "filter.ini"


def test_preview_on_a_terminal_shows_before_and_after() -> None:
    """On a terminal: N messages, each KV line before (-) and after (+), or once (=) when unchanged."""
    code, text = on_a_terminal("run", "-c", CONFIG, "--preview", "--preview-count", "2", SAMPLES / "tserver.log")
    assert code == 0, text
    assert "- \t\t'PASSWORD'\t'Pw-TSRV-a1!Kq9#77'\n+ \t\t'PASSWORD'\t'****'\n" in text
    assert "= \t\t'DNIS'\t'8410'" in text
    headers = [line for line in text.splitlines() if line.startswith(str(SAMPLES / "tserver.log"))]
    assert len(headers) == 2


def test_preview_is_what_run_writes() -> None:
    """Each + line is the line run writes for that input line."""
    code, text = on_a_terminal("run", "-c", CONFIG, "--preview", "--preview-count", "5", SAMPLES / "workspace-psdk.log")
    written = run_logfilter("run", "-c", CONFIG, SAMPLES / "workspace-psdk.log").stdout.decode()
    after = [line[2:] for line in text.splitlines() if line.startswith(("+ ", "= ")) and line != "+ (line removed)"]
    assert code == 0 and after
    assert all(line in written.splitlines() for line in after)


def test_refuses_a_pipe_and_a_file(tmp_path: Path) -> None:
    """Not a terminal, or -o: exit 2 with one line, nothing written, unless --i-know-this-prints-data."""
    piped = run_logfilter("run", "-c", CONFIG, "--preview", SAMPLES / "tserver.log")
    assert (piped.returncode, piped.stdout) == (2, b"") and "--i-know-this-prints-data" in piped.stderr
    out = tmp_path / "preview.txt"
    to_file = run_logfilter("run", "-c", CONFIG, "--preview", "-o", out, SAMPLES / "tserver.log")
    assert to_file.returncode == 2 and not out.exists() and "(-o)" in to_file.stderr
    allowed = run_logfilter("run", "-c", CONFIG, "--preview", "--i-know-this-prints-data", "-o", out, SAMPLES / "tserver.log")
    assert allowed.returncode == 0 and b"Pw-TSRV-a1!Kq9#77" in out.read_bytes()


def test_escapes_terminal_controls() -> None:
    """An escape sequence inside a value is shown escaped, never sent to the terminal."""
    data = b"message X\n\tAttributeUserData\t[1] 00..\n\t\t'Note'\t'a\x1b[2Jb'\n"
    result = run_logfilter("run", "--key", "Note=hide", "--preview", "--i-know-this-prints-data", "-", stdin=data)
    assert b"\x1b" not in result.stdout and b"a\\x1b[2Jb" in result.stdout


@pytest.mark.parametrize("count", ["0", "101"])
def test_bad_count(count: str) -> None:
    """--preview-count outside 1..100 is a usage error: exit 2, one line, nothing on stdout."""
    result = run_logfilter("run", "-c", CONFIG, "--preview", "--preview-count", count, "-")
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr == f"error: --preview-count {count}: expected 1 to 100\n"


@pytest.mark.parametrize(
    "args",
    [["--preview-count", "5"], ["--i-know-this-prints-data"], ["--preview", "--i-know-this-prints-data", "--format", "jsonl"]],
)
def test_flags_that_would_do_nothing_are_refused(args: list[str]) -> None:
    """--preview's flags without it, and --preview with jsonl, are usage errors rather than silently ignored."""
    result = run_logfilter("run", "-c", CONFIG, *args, SAMPLES / "tserver.log")
    assert (result.returncode, result.stdout) == (2, b"") and result.stderr.count("\n") == 1
