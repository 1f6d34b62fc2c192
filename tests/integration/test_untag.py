"""`logfilter untag` as a user runs it: real processes, exit codes, stderr text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GOLDEN, SAMPLES, run_logfilter

TAGGED = GOLDEN / "spec-03-default-tags" / "expected.log"
PLAIN = GOLDEN / "spec-03-default-tags" / "input.log"
CANARY = b"untag-canary-4711"
MESSAGE = (
    b"message RequestAttachUserData\n\tAttributeUserData\t[1] 00\n\t\t'PASSWORD'\t<#'" + CANARY + b"'#>\n"
    b"'RequestAttachUserData' ('30')\nAttributeUserData [bstr] = KVList: \n\t\t'PIN' [str] = <!--\"" + CANARY + b"\"-->\n"
)


class TestUntag:
    def test_default_hides_like_run(self) -> None:
        """On the vendor's default-tags example, untag gives what run with hide gives on the untagged input."""
        result = run_logfilter("untag", TAGGED)
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout == run_logfilter("run", "--default", "hide", PLAIN).stdout
        assert b"'****'" in result.stdout and b"<#" not in result.stdout

    def test_strip_gives_the_untagged_log(self) -> None:
        """--strip removes only the tags: the vendor's tagged example becomes its untagged input."""
        result = run_logfilter("untag", "--strip", "-", stdin=TAGGED.read_bytes())
        assert (result.returncode, result.stdout) == (0, PLAIN.read_bytes())

    def test_custom_tags_filter_type_output_and_stats(self, tmp_path: Path) -> None:
        """--tags adds a pair; --filter-type applies another type; -o writes the file; --stats sums up."""
        out = tmp_path / "out.log"
        result = run_logfilter("untag", "--tags", "<!--,-->", "--filter-type", "unhide-last,4", "-o", out, "--stats",
                               stdin=MESSAGE)
        assert result.returncode == 0 and result.stdout == b""
        assert out.read_bytes() == MESSAGE.replace(b"<#'" + CANARY + b"'#>", b"'*************4711'").replace(
            b'<!--"' + CANARY + b'"-->', b'"*************4711"'
        )
        assert result.stderr == "logfilter: 6 lines, 2 tagged values (unhide-last,4), 0 tags failed closed\n"

    def test_config_adds_its_tag_pairs(self, tmp_path: Path) -> None:
        """-c adds the tag pairs of the file's tag rules; the PSDK pair comes out as run's hide prints it."""
        (tmp_path / "f.ini").write_text("[log-filter-data]\nPIN=tag(<!--,-->)\n")
        result = run_logfilter("untag", "-c", tmp_path / "f.ini", stdin=MESSAGE)
        assert result.returncode == 0
        assert result.stdout.splitlines()[-1] == b"\t\t'PIN' [output suppressed]"

    def test_no_canary_leaks(self) -> None:
        """Neither stdout nor stderr of untag (hide) holds a tagged value, closed or not, with --stats."""
        data = MESSAGE + (b"\t\t'OPEN'\t<#'" + CANARY + b"\n") * 30
        result = run_logfilter("untag", "--tags", "<!--,-->", "--stats", stdin=data)
        assert result.returncode == 0
        assert CANARY not in result.stdout and CANARY.decode() not in result.stderr
        lines = result.stderr.splitlines()
        assert lines[0] == (
            "logfilter: warning: <stdin>:7: a tag opened with no closing tag on the line; "
            "hid the rest of the line (failed closed)"
        )
        assert lines[20] == "logfilter: warning: more tags failed closed; they are counted, not listed"
        assert lines[21:] == [
            "logfilter: 30 tags with no closing tag on their line: the rest of each such line was hidden",
            "logfilter: 36 lines, 2 tagged values (hide), 30 tags failed closed",
        ]

    @pytest.mark.parametrize("ending", [b"", b"\r"])
    def test_a_last_line_without_a_line_ending_is_untagged(self, tmp_path: Path, ending: bytes) -> None:
        """A tagged value on a last line with no LF (or a lone CR) is hidden like any other, from a file and stdin."""
        data = b"message EventRinging\n\tAttributeUserData\t[1] 00\n\t\t'PASSWORD'\t<#'CanaryUntag'#>" + ending
        path = tmp_path / "last.log"
        path.write_bytes(data)
        expected = data.replace(b"<#'CanaryUntag'#>", b"'****'")
        for result in (run_logfilter("untag", path), run_logfilter("untag", stdin=data)):
            assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")

    def test_closed_reader_exits_quietly(self, tmp_path: Path) -> None:
        """`logfilter untag big.log | head -1` ends without a traceback or an error message."""
        big = tmp_path / "big.log"
        big.write_bytes(MESSAGE * 50000)
        pipeline = subprocess.run(
            f"{sys.executable} -m logfilter untag --tags '<!--,-->' {big} | head -1; echo \"rc=${{PIPESTATUS[0]}}\"",
            shell=True, executable="/bin/bash", capture_output=True, timeout=120, check=False)
        assert pipeline.stdout.splitlines() == [b"message RequestAttachUserData", b"rc=0"]
        assert pipeline.stderr == b""


class TestNeverSilent:
    """Issue 20, item 2: `run -c samples/filter.ini ... | untag` left six <!--'name'--> values in clear, exit 0."""

    def readme_pipe(self, *args: str | Path) -> tuple[bytes, object]:
        tagged = run_logfilter("run", "-c", SAMPLES / "filter.ini", SAMPLES / "tserver.log").stdout
        assert tagged.count(b"<!--'") == 6
        return tagged, run_logfilter("untag", *args, stdin=tagged)

    def test_values_left_tagged_with_a_known_pair_fail(self, tmp_path: Path) -> None:
        """Without -c or --tags, values still wrapped in <!--,--> stop untag (exit 1) saying how to give the tags;
        -o is set aside as FILE.incomplete."""
        _, result = self.readme_pipe()
        assert result.returncode == 1  # type: ignore[attr-defined]
        assert result.stderr == (  # type: ignore[attr-defined]
            "error: 6 values tagged with <!--,--> are still in clear in the output (the first on line 45 of it): "
            "untag hides only the tags it is given (<#,#> unless told); run it again with --tags '<!--,-->', "
            "or with -c and the rules file that tagged the log\n"
        )
        _, kept = self.readme_pipe("-o", tmp_path / "out.log")
        assert kept.returncode == 1 and not (tmp_path / "out.log").exists()  # type: ignore[attr-defined]
        assert (tmp_path / "out.log.incomplete").exists()

    @pytest.mark.parametrize("args", [["-c", str(SAMPLES / "filter.ini")], ["--tags", "<!--,-->"]])
    def test_with_the_files_tags_or_the_pair_they_are_hidden(self, args: list[str]) -> None:
        """With -c (the file's tag rules) or --tags, every value is hidden, exit 0, nothing said."""
        _, result = self.readme_pipe(*args)
        assert (result.returncode, result.stderr) == (0, "")  # type: ignore[attr-defined]
        assert b"<!--" not in result.stdout  # type: ignore[attr-defined]

    def test_no_tag_at_all_is_said(self) -> None:
        """A log with no tagged value under the defaults: untag says what it looked for and how to give other tags."""
        result = run_logfilter("untag", PLAIN)
        assert (result.returncode, result.stdout) == (0, PLAIN.read_bytes())
        assert result.stderr == (
            "logfilter: no tagged value found: untag looked for <#,#>, the Genesys default; for a log tagged with "
            "other tags, give them: --tags PREFIX,POSTFIX, or -c with the rules file that tagged it\n"
        )

    def test_what_is_not_a_tagged_value(self) -> None:
        """An HTML comment in a SIP body is no tagged value, and values re-tagged on purpose are not either."""
        sip = b"<?xml version='1.0'?><!-- a note --><body/>\n  <!-- indented note -->\n"
        assert run_logfilter("untag", "--tags", "<**,**>", stdin=sip).returncode == 0
        retagged = run_logfilter("untag", "--filter-type", "tag(<!--,-->)", stdin=MESSAGE.replace(b"<!--", b"<#").replace(b"-->", b"#>"))
        assert retagged.returncode == 0 and retagged.stdout.count(b"<!--") == 2


USAGE_ERRORS = [
    (["--strip", "--filter-type", "hide"], "give at most one of --strip and --filter-type"),
    (["--tags", "abc"], "--tags 'abc': expected PREFIX,POSTFIX"),
    (["--tags", "<#,"], "expected PREFIX,POSTFIX"),
    (["--filter-type", "hdie"], '--filter-type: unknown filter type "hdie" (did you mean hide?); expected one of: copy, hide'),
    (["--filter-type", "unhide-last 4"], '--filter-type: unknown filter type "unhide-last 4" (did you mean unhide-last,4?)'),
    (["-c", "missing.ini"], "missing.ini: cannot read the configuration file"),
    (["nothere.log"], "nothere.log: no such input file"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    """Each usage or configuration error prints `error: ...`, exits 2 and writes nothing to stdout."""
    result = run_logfilter("untag", *args, cwd=tmp_path, stdin=MESSAGE)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stdout == b"" and "Traceback" not in result.stderr
