"""Issue 22, item 10: a file name holding control characters never reaches the terminal raw, at any front door.

The name below would clear the screen, return to the line start, forge a `clean:` line of its
own and ring the bell if printed as it is; every command must show it escaped, as
logfilter.names.printable shows it.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logfilter.names import printable
from tests.conftest import run_logfilter

EVIL = "x\x1b[2J\rclean: 0 findings\n\x07\u202e.log"
SHOWN = printable(EVIL)  # x\x1b[2J\rclean: 0 findings\n\x07\u202e.log
RAW = ("\x1b", "\x07", "\r", "\u202e")
OPEN = b"\tAttributeUserData\t[561] 00 14 00 00..\n"
# A KV line that cannot be read (its quote is left open): warned about by file and line.
BROKEN = b"message RequestAttachUserData\n" + OPEN + b"\t\t'PASSWORD'\t'open\n\tAttributeConnID\t006c\n"
BINARY = b"\x00\x01\x02core dump" * 100


def assert_escaped(*texts: str | bytes) -> None:
    """No control character of the name is in the output, no line starts with the forged text, and the name shows escaped."""
    joined = "".join(text.decode("utf-8", "replace") if isinstance(text, bytes) else text for text in texts)
    assert not [char for char in RAW if char in joined], joined
    assert not re.search(r"(?m)^clean: 0 findings", joined), joined
    assert SHOWN in joined, joined


@pytest.fixture
def evil(tmp_path: Path) -> Path:
    """A folder holding a log named EVIL with a line that fails closed."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / EVIL).write_bytes(BROKEN)
    (tmp_path / "f.ini").write_text("[log-filter-data]\nPASSWORD=hide\n")
    return tmp_path


def binary(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir(exist_ok=True)
    path = tmp_path / "bin" / EVIL
    path.write_bytes(BINARY)
    return path


class TestFrontDoors:
    def test_run_warnings(self, evil: Path) -> None:
        """run names a line that failed closed by file and line: the file name escaped."""
        result = run_logfilter("run", "-c", "f.ini", Path("in") / EVIL, cwd=evil)
        assert result.returncode == 0
        assert_escaped(result.stderr)

    def test_run_refusal_and_missing_input(self, evil: Path) -> None:
        """run's refusal of a binary input and of a missing one name it escaped."""
        refused = run_logfilter("run", "-c", "f.ini", binary(evil), cwd=evil)
        missing = run_logfilter("run", "-c", "f.ini", "no" + EVIL, cwd=evil)
        assert (refused.returncode, missing.returncode) == (2, 2)
        assert_escaped(refused.stderr)
        assert_escaped(missing.stderr)

    def test_a_config_file_and_a_key_file_in_errors(self, evil: Path) -> None:
        """An error about the rules file, or about the hash key file, names it escaped."""
        (evil / EVIL).write_text("[log-filter-data]\nPASSWORD=hdie\n")
        bad_rules = run_logfilter("run", "-c", EVIL, cwd=evil)
        key = "k\x1b[2J\x07.key"  # an INI line ends at a CR or LF: a key file's name holds neither
        (evil / key).write_text("k3y-" * 10)
        (evil / key).chmod(0o644)
        (evil / "k.ini").write_text(f"[log-filter]\ndefault-filter-type=hash\nhash-key-file={key}\n")
        bad_key = run_logfilter("run", "-c", "k.ini", cwd=evil)
        assert (bad_rules.returncode, bad_key.returncode) == (2, 2)
        assert_escaped(bad_rules.stderr)
        assert "can be read by group or others" in bad_key.stderr and printable(key) in bad_key.stderr
        assert not [char for char in RAW if char in bad_key.stderr]

    def test_untag(self, evil: Path) -> None:
        """untag names a tag left open by file and line, escaped."""
        (evil / "in" / EVIL).write_bytes(b"\t\t'PASSWORD'\t<#'open\n")
        result = run_logfilter("untag", Path("in") / EVIL, cwd=evil)
        assert result.returncode == 0
        assert_escaped(result.stderr)

    def test_preview_header(self, evil: Path) -> None:
        """run --preview heads each example with its file name, escaped."""
        (evil / "in" / EVIL).write_bytes(BROKEN.replace(b"'open\n", b"'secret'\n"))
        result = run_logfilter("run", "-c", "f.ini", "--preview", "--i-know-this-prints-data", Path("in") / EVIL, cwd=evil)
        assert result.returncode == 0
        assert_escaped(result.stdout)

    def test_scan(self, evil: Path) -> None:
        """scan's findings (a line it cannot read, a file it cannot scan) name the file escaped."""
        binary(evil)
        result = run_logfilter("scan", "-c", "f.ini", "in", "bin", cwd=evil)
        assert result.returncode == 1
        assert_escaped(result.stdout)
        assert not [char for char in RAW if char in result.stderr]

    def test_keys(self, evil: Path) -> None:
        """keys names an input it could not read, escaped."""
        binary(evil)
        result = run_logfilter("keys", "bin", cwd=evil)
        assert result.returncode == 1
        assert_escaped(result.stderr)

    def test_batch(self, evil: Path) -> None:
        """batch (off a terminal) names files left out and lines failed closed, escaped."""
        binary(evil)
        result = run_logfilter("batch", "-c", "f.ini", "in", "bin", "-o", "out", cwd=evil)
        assert result.returncode == 0
        assert_escaped(result.stderr)

    def test_jsonl(self, evil: Path) -> None:
        """run --format jsonl names the file in each object, escaped (no raw control character in JSON text)."""
        result = run_logfilter("run", "-c", "f.ini", "--format", "jsonl", Path("in") / EVIL, cwd=evil)
        assert result.returncode == 0
        assert not [char for char in ("\x1b", "\x07", "\u202e") if char in result.stdout.decode()]
        assert_escaped(result.stderr)

    @pytest.mark.slow
    def test_follow(self, evil: Path) -> None:
        """follow names a file it does not follow, escaped, on stderr."""
        binary(evil)
        (evil / "clean").mkdir()
        err = evil / "stderr.txt"
        with open(err, "wb") as stream:
            proc = subprocess.Popen(
                [sys.executable, "-m", "logfilter", "follow", "-c", "f.ini", "bin/*.log", "in/*.log", "-o", "clean",
                 "--state", "state.json"],
                cwd=evil, stdout=subprocess.DEVNULL, stderr=stream,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and "not followed" not in err.read_text(errors="replace"):
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        assert_escaped(err.read_bytes())


def test_escape_controls_passes_printable_text_as_it_is_and_escapes_every_control() -> None:
    """Its quick path (printable text goes as it is) holds: every character its patterns escape is
    one str.isprintable refuses, so no control character can take that path."""
    from logfilter.names import _CONTROLS, _CONTROLS_BUT_TAB, escape_controls

    for pattern in (_CONTROLS, _CONTROLS_BUT_TAB):
        assert not [hex(code) for code in range(0x110000) if pattern.match(chr(code)) and chr(code).isprintable()]
    assert escape_controls("key 'PASSWORD' in AttributeUserData: ****") == "key 'PASSWORD' in AttributeUserData: ****"
    assert escape_controls("a\x1b[2Jb\u202ec\td") == "a\\x1b[2Jb\\u202ec\\td"
    assert escape_controls("a\tb\x07", keep_tabs=True) == "a\tb\\x07"
