"""`logfilter run` as a user runs it: real processes, real pipes, exit codes and stderr text."""

from __future__ import annotations

import gzip
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_logfilter

OPEN = b"\tAttributeUserData\t[561] 00 14 00 00..\n"
MESSAGE = b"message RequestAttachUserData\n" + OPEN + b"\t\t'PASSWORD'\t'hunter2-canary'\n\tAttributeConnID\t006c\n"
MASKED = MESSAGE.replace(b"'hunter2-canary'", b"'****'")


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    path = tmp_path / "filter.ini"
    path.write_text("[log-filter-data]\nPASSWORD=hide\n")
    return path


class TestInputsAndOutputs:
    def test_stdin_when_no_input(self, ini: Path) -> None:
        """With no INPUT, stdin is read and stdout written."""
        result = run_logfilter("run", "-c", ini, stdin=MESSAGE)
        assert (result.returncode, result.stdout, result.stderr) == (0, MASKED, "")

    def test_dash_is_stdin_in_order(self, ini: Path, tmp_path: Path) -> None:
        """Inputs are read in order, `-` standing for stdin among files."""
        first = tmp_path / "a.log"
        first.write_bytes(b"first\n")
        result = run_logfilter("run", "-c", ini, first, "-", first, stdin=MESSAGE)
        assert result.stdout == b"first\n" + MASKED + b"first\n"

    def test_block_state_does_not_cross_files(self, ini: Path, tmp_path: Path) -> None:
        """A block open at the end of one file does not swallow the next file's first lines."""
        a, b = tmp_path / "a.log", tmp_path / "b.log"
        a.write_bytes(OPEN)
        b.write_bytes(b"\t'PASSWORD'\t'x'\n")
        assert run_logfilter("run", "-c", ini, a, b).stdout == OPEN + b"\t'PASSWORD'\t'x'\n"

    def test_output_file(self, ini: Path, tmp_path: Path) -> None:
        """-o writes the file and nothing to stdout; -o - is stdout."""
        out = tmp_path / "clean.log"
        result = run_logfilter("run", "-c", ini, "-o", out, stdin=MESSAGE)
        assert (result.stdout, out.read_bytes()) == (b"", MASKED)
        assert run_logfilter("run", "-c", ini, "-o", "-", stdin=MESSAGE).stdout == MASKED

    def test_compressed_input_refused(self, ini: Path, tmp_path: Path) -> None:
        """A gzip file or stream is refused (exit 2), never copied through unmasked."""
        packed = tmp_path / "app.log.gz"
        packed.write_bytes(gzip.compress(MESSAGE))
        for result in (run_logfilter("run", "-c", ini, packed), run_logfilter("run", "-c", ini, stdin=packed.read_bytes())):
            assert result.returncode == 2 and "gzip data, not a text log; use `logfilter batch`" in result.stderr
            assert result.stdout == b""

    def test_output_same_as_input_refused(self, ini: Path, tmp_path: Path) -> None:
        """Writing over an input is refused with exit 2 and the input is untouched."""
        log = tmp_path / "app.log"
        log.write_bytes(MESSAGE)
        result = run_logfilter("run", "-c", ini, "-o", log, log)
        assert result.returncode == 2 and "also an input" in result.stderr
        assert log.read_bytes() == MESSAGE

    def test_stats_line(self, ini: Path) -> None:
        """--stats prints one summary line of counts on stderr."""
        result = run_logfilter("run", "-c", ini, "--stats", stdin=MESSAGE)
        assert result.stderr == (
            "logfilter: 4 lines, 1 messages, 1 KV pairs: 0 copied, 1 masked, 0 tagged, "
            "0 skipped, 0 lines failed closed\n"
        )

    def test_key_and_default_flags(self) -> None:
        """--default and --key configure a run without a file."""
        result = run_logfilter("run", "--default", "copy", "--key", "PASSWORD=unhide-last,3", stdin=MESSAGE)
        assert b"'***********ary'" in result.stdout


CONFIG_ERRORS = [
    (["run"], "no filter configured"),
    (["run", "-c", "missing.ini"], "missing.ini: cannot read the configuration file"),
    (["run", "--default", "hdie"], "--default: default-filter-type: unknown filter type"),
    (["run", "--key", "PASSWORD"], "expected KEY=FILTER-TYPE"),
    (["run", "--key", "PASSWORD=tag(12345678901234567,x)"], "prefix longer than 16"),
    (["run", "--default", "hide", "--on-error", "ignore"], "--on-error 'ignore': expected redact or fail"),
    (["run", "--default", "hide", "--engine", "turbo"], "--engine 'turbo': expected fast or reference"),
    (["run", "--default", "hide", "no-such.log"], "no-such.log: no such input file"),
    (["run", "--default", "hide", "."], "is a folder"),
]


class TestErrors:
    @pytest.mark.parametrize(("args", "message"), CONFIG_ERRORS)
    def test_usage_and_config_errors_exit_2(self, tmp_path: Path, args: list[str], message: str) -> None:
        """Each usage or configuration error prints `error: ...` and exits 2, writing nothing to stdout."""
        result = run_logfilter(*args, cwd=tmp_path, stdin=MESSAGE)
        assert result.returncode == 2
        assert result.stderr.startswith("error: ") and message in result.stderr
        assert result.stdout == b""
        assert "Traceback" not in result.stderr

    def test_bad_config_file_names_file_and_line(self, tmp_path: Path) -> None:
        """A bad rule in the file is reported with file, line, option, its text, the nearest valid spelling and the allowed types."""
        (tmp_path / "f.ini").write_text("[log-filter-data]\n\nPASSWORD=hdie\n")
        result = run_logfilter("run", "-c", "f.ini", cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith('error: f.ini:3: [log-filter-data] PASSWORD: unknown filter type "hdie" '
                                        "(did you mean hide?); expected one of: copy, hide, hide-first,N")

    def test_on_error_fail_exit_3(self, ini: Path) -> None:
        """--on-error fail stops at the first unparsable KV line with exit 3; earlier lines are written."""
        data = MESSAGE.replace(b"\tAttributeConnID", b"\t\t'BROKEN'\t'open-canary\n\tAttributeConnID")
        result = run_logfilter("run", "-c", ini, "--on-error", "fail", stdin=data)
        assert result.returncode == 3
        assert result.stderr == "error: <stdin>:4: unparsable line in an AttributeUserData block; stopped (--on-error fail)\n"
        assert result.stdout == MASKED.split(b"\tAttributeConnID")[0]
        assert b"open-canary" not in result.stdout

    def test_redact_warns_once_per_line_then_counts(self, ini: Path) -> None:
        """In redact mode each failed line is named (up to a limit), then only counted; never quoted."""
        data = b"message RequestX\n" + OPEN + b"\t\t'B'\t'open-canary\n" * 30
        result = run_logfilter("run", "-c", ini, stdin=data)
        assert result.returncode == 0
        lines = result.stderr.splitlines()
        assert lines[0] == "logfilter: warning: <stdin>:3: unparsable line in an AttributeUserData block; masked it whole (failed closed)"
        assert len(lines) == 22 and lines[-1].endswith("30 lines inside KV blocks could not be parsed and were masked whole")
        assert "open-canary" not in result.stderr and b"open-canary" not in result.stdout


class TestFaults:
    def test_full_device_is_an_error(self, ini: Path) -> None:
        """Output to a full device is a one-line error with exit 1, never a silent short output."""
        result = run_logfilter("run", "-c", ini, "-o", "/dev/full", stdin=MESSAGE)
        assert result.returncode == 1
        assert result.stderr == "error: /dev/full: cannot write the output (No space left on device)\n"


class TestLive:
    def test_message_flushed_without_more_input(self, ini: Path) -> None:
        """On a live pipe a message is written within a second of its last line, while stdin stays open."""
        proc = subprocess.Popen([sys.executable, "-m", "logfilter", "run", "-c", str(ini)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin and proc.stdout
        try:
            time.sleep(0.5)  # let the interpreter start, so only our own latency is measured
            proc.stdin.write(MESSAGE)
            proc.stdin.flush()
            sent = time.monotonic()
            got = b""
            while len(got) < len(MASKED) and time.monotonic() - sent < 5:
                ready, _, _ = select.select([proc.stdout], [], [], 0.1)
                if ready:
                    got += os.read(proc.stdout.fileno(), 65536)
            elapsed = time.monotonic() - sent
            assert got == MASKED
            assert elapsed < 1.0
        finally:
            proc.stdin.close()
            proc.wait(timeout=10)
        assert proc.returncode == 0

    def test_closed_reader_exits_quietly(self, ini: Path, tmp_path: Path) -> None:
        """`logfilter run big.log | head -1` ends without a traceback or an error message."""
        big = tmp_path / "big.log"
        big.write_bytes(MESSAGE * 50000)
        pipeline = subprocess.run(
            f"{sys.executable} -m logfilter run -c {ini} {big} | head -1; echo \"rc=${{PIPESTATUS[0]}}\"",
            shell=True, executable="/bin/bash", capture_output=True, timeout=120, check=False)
        assert pipeline.stdout.splitlines() == [b"message RequestAttachUserData", b"rc=0"]
        assert pipeline.stderr == b""


class TestRulesThatMatchNothing:
    """Issue 20, item 1: `Password=hide` where the log says PASSWORD masked nothing, silently."""

    def test_run_names_the_rule_and_the_key_it_meant(self, tmp_path: Path) -> None:
        """At the end of run, stderr names each rule that matched no key, where it is written and the key it meant."""
        ini = tmp_path / "filter.ini"
        ini.write_text("[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPassword=hide\nCardNumber=unhide-last,4\n")
        result = run_logfilter("run", "-c", "filter.ini", "--key", "Emial=hide", SAMPLES / "tserver.log", cwd=tmp_path)
        assert result.returncode == 0
        assert result.stderr == (
            "logfilter: warning: filter.ini:4: the rule Password=hide matched no key in the logs read; "
            "did you mean PASSWORD? (keys match case and spelling exactly)\n"
            "logfilter: warning: --key: the rule Emial=hide matched no key in the logs read; "
            "did you mean EMAIL or Email? (keys match case and spelling exactly)\n"
        )

    def test_rules_that_match_say_nothing(self, ini: Path) -> None:
        """A run whose every rule met its key prints nothing more."""
        assert run_logfilter("run", "-c", ini, stdin=MESSAGE).stderr == ""
