"""`logfilter run --format jsonl`: schema-valid objects whose values are exactly what `run` prints."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from tests.conftest import GOLDEN, SAMPLES, canaries, case_args, golden_cases, run_logfilter
from tests.jsonl_oracle import check_values, objects


@pytest.mark.parametrize("case", golden_cases(), ids=lambda path: path.name)
def test_golden_values_are_what_run_prints(case: Path) -> None:
    """Every object validates against the schema, and every value equals the one in expected.log."""
    result = run_logfilter("run", "-c", "filter.ini", *case_args(case), "--format", "jsonl", "--all-lines",
                           "input.log", cwd=case)  # fmt: skip
    assert result.returncode == 0, result.stderr
    items = objects(result.stdout)
    check_values(items, (case / "expected.log").read_bytes())
    lines = len((case / "input.log").read_bytes().splitlines())
    assert all(1 <= item["line"] <= lines for item in items)


@pytest.mark.parametrize("all_lines", [[], ["--all-lines"]])
@pytest.mark.parametrize("case", golden_cases(), ids=lambda path: path.name)
def test_canaries_never_leak(case: Path, all_lines: list[str]) -> None:
    """No planted canary reaches the jsonl output or stderr, with or without --all-lines."""
    planted = [c for c in canaries() if c in (case / "input.log").read_bytes()]
    result = run_logfilter("run", "-c", "filter.ini", *case_args(case), "--format", "jsonl", *all_lines,
                           "--stats", "input.log", cwd=case)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for canary in planted:
        assert canary not in result.stdout, canary
        assert canary.decode() not in result.stderr, canary


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.log")), ids=lambda path: path.name)
def test_samples(sample: Path) -> None:
    """The samples: valid objects, values as run prints them, one named object per message run counts."""
    run_result = run_logfilter("run", "-c", SAMPLES / "filter.ini", "--stats", sample)
    result = run_logfilter("run", "-c", SAMPLES / "filter.ini", "--format", "jsonl", sample)
    assert result.returncode == 0, result.stderr
    items = objects(result.stdout)
    assert check_values(items, run_result.stdout) > 10
    messages = int(run_result.stderr.split(" messages")[0].rsplit(" ", 1)[1])
    assert sum(1 for item in items if item["message"] is not None) == messages
    assert all(item["file"] == str(sample) for item in items)


def test_all_lines_accounts_for_free_lines() -> None:
    """With --all-lines, lines outside messages come out as text objects, in order, without line endings."""
    sample = SAMPLES / "sipserver-crlf.log"
    result = run_logfilter("run", "-c", SAMPLES / "filter.ini", "--format", "jsonl", "--all-lines", sample)
    items = objects(result.stdout)
    starts = [item["line"] for item in items]
    assert starts == sorted(starts)
    first = items[0]
    assert first == {"file": str(sample), "line": 1, "text": "Genesys SIP Server 8.1.103.80 (synthetic sample, Windows)"}
    assert not any("\r" in str(item) for item in items)
    without = objects(run_logfilter("run", "-c", SAMPLES / "filter.ini", "--format", "jsonl", sample).stdout)
    assert without == [item for item in items if "header" in item]


def test_message_fields() -> None:
    """A C message under its event line starts at the event line; time, name, attributes and headers are filled."""
    case = GOLDEN / "spec-01-default-copy"
    log = (
        b"10:26:01.600 Trc 04541 RequestAttachUserData received from [12] (URS)\n"
        b"message RequestAttachUserData\n"
        b"\tAttributeReferenceID\t4\n"
        b"\tAttributeThisDN\t'9001'\n"
        b"\tAttributeUserData\t[561] 00 14 00 00..\n"
        b"\t\t'A'\t'1'\n"
        b"\t\t'A'\t2\n"
        b"\t\t'L'(list) 'B'\t'x'\n"
        b"\t\t\t'C'\t''\n"
        b"\tAttributeThisDN\t'9002'\n"
        b"@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n"
    )
    result = run_logfilter("run", "-c", case / "filter.ini", "--format", "jsonl", "-", stdin=log)
    first, second = objects(result.stdout)
    assert first == {
        "file": "<stdin>", "line": 1, "time": "10:26:01.600",
        "header": ["10:26:01.600 Trc 04541 RequestAttachUserData received from [12] (URS)", "message RequestAttachUserData"],
        "message": "RequestAttachUserData",
        "attributes": {"AttributeReferenceID": "4", "AttributeThisDN": ["9001", "9002"]},
        "kv": {"AttributeUserData": {"A": ["1", "2"], "L": {"B": "x", "C": ""}}},
        "kv_headers": {"AttributeUserData": "[561] 00 14 00 00.."},
        "failed_closed": 0,
    }  # fmt: skip
    assert (second["line"], second["time"], second["message"], second["kv"]) == (11, "10:26:01.5600", "EventRinging", {})


def test_non_utf8_bytes_are_escaped() -> None:
    """Bytes that are not UTF-8 come out as \\xNN text, in values and keys alike."""
    log = b"message RequestX\n\tAttributeUserData\t[1] 00\n\t\t'K\xff'\t'v\xe9\xff'\n"
    result = run_logfilter("run", "--default", "copy", "--format", "jsonl", "-", stdin=log)
    (item,) = objects(result.stdout)
    assert item["kv"] == {"AttributeUserData": {"K\\xff": "v\\xe9\\xff"}}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--all-lines"], "--all-lines needs --format jsonl"),
        (["--format", "json"], "--format 'json': expected tlib or jsonl"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    """Bad --format values and --all-lines without jsonl are usage errors (exit 2), one line, no traceback."""
    result = run_logfilter("run", "--default", "copy", *args, "-", stdin=b"x\n")
    assert result.returncode == 2
    assert result.stderr == f"error: {message}" + result.stderr.split(message, 1)[1]
    assert result.stderr.count("\n") == 1 and result.stdout == b""


def test_failed_closed_lines_are_left_out_and_counted() -> None:
    """An unreadable KV line is not in the JSON; the message counts it and stderr names the line, not its text."""
    case = GOLDEN / "fail-closed"
    result = run_logfilter("run", "-c", "filter.ini", "--format", "jsonl", "input.log", cwd=case)
    (item,) = objects(result.stdout)
    assert item["failed_closed"] == 5
    assert "input.log:5: unparsable line in an AttributeUserData block; left it out (failed closed)" in result.stderr
    fail = run_logfilter("run", "-c", "filter.ini", "--format", "jsonl", "--on-error", "fail", "input.log", cwd=case)
    assert fail.returncode == 3 and fail.stdout == b""


class TestBatch:
    def _tree(self, tmp_path: Path) -> Path:
        tree = tmp_path / "in"
        (tree / "sub").mkdir(parents=True)
        for sample in SAMPLES.glob("*.log"):
            (tree / sample.name).write_bytes(sample.read_bytes())
        (tree / "sub" / "psdk.log").write_bytes((GOLDEN / "psdk-layout" / "input.log").read_bytes())
        return tree

    def _batch(self, tmp_path: Path, *args: str) -> tuple:
        report = tmp_path / "report.json"
        result = run_logfilter("batch", "-c", SAMPLES / "filter.ini", "--format", "jsonl", *args, "in", "-o", "out",
                               "--report", report, "--jobs", "1", cwd=tmp_path)  # fmt: skip
        return result, orjson.loads(report.read_bytes()) if report.exists() else None

    def test_outputs_are_jsonl_files(self, tmp_path: Path) -> None:
        """Each text log becomes <name>.jsonl of valid objects, values as run prints them; the report says jsonl."""
        tree = self._tree(tmp_path)
        result, report = self._batch(tmp_path)
        assert result.returncode == 0, result.stderr
        assert report["config"]["format"] == "jsonl"
        outputs = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.jsonl"))
        assert outputs == ["in/sipserver-crlf.log.jsonl", "in/sub/psdk.log.jsonl",
                           "in/tserver.log.jsonl", "in/workspace-psdk.log.jsonl"]  # fmt: skip
        for source in [*tree.glob("*.log"), tree / "sub" / "psdk.log"]:
            items = objects((tmp_path / "out" / source.relative_to(tmp_path).with_name(source.name + ".jsonl")).read_bytes())
            assert {item["file"] for item in items} == {str(source.relative_to(tmp_path))}
            check_values(items, run_logfilter("run", "-c", SAMPLES / "filter.ini", source).stdout)

    def test_rerun_skips_and_other_settings_redo(self, tmp_path: Path) -> None:
        """A re-run in jsonl skips what is done; --all-lines (same names) and tlib (other names) redo."""
        self._tree(tmp_path)
        self._batch(tmp_path)
        again, report = self._batch(tmp_path)
        assert report["totals"].get("up-to-date") == 4 and again.returncode == 0
        _result, report = self._batch(tmp_path, "--all-lines")
        assert report["totals"].get("done") == 4
        assert any(b'"text":' in p.read_bytes() for p in (tmp_path / "out" / "in").glob("*.jsonl"))
        tlib = run_logfilter("batch", "-c", SAMPLES / "filter.ini", "in", "-o", "out", "--report", "-", cwd=tmp_path)
        assert orjson.loads(tlib.stdout)["totals"].get("done") == 4
        assert (tmp_path / "out" / "in" / "tserver.log").read_bytes() == run_logfilter(
            "run", "-c", SAMPLES / "filter.ini", SAMPLES / "tserver.log").stdout

    def test_archives_fail_with_a_clear_reason(self, tmp_path: Path) -> None:
        """A compressed log fails its file in jsonl (exit 1), naming why; the text logs are still written."""
        tree = self._tree(tmp_path)
        (tree / "t.log.gz").write_bytes(gzip.compress((SAMPLES / "tserver.log").read_bytes()))
        result, report = self._batch(tmp_path)
        assert result.returncode == 1
        assert "in/t.log.gz: gzip data; --format jsonl reads only text logs" in result.stderr
        assert report["totals"]["done"] == 4 and report["totals"]["failed"] == 1
        assert not (tmp_path / "out" / "in" / "t.log.gz.jsonl").exists()

    def test_keep_binary_is_refused(self, tmp_path: Path) -> None:
        """--keep-binary with --format jsonl is a usage error."""
        self._tree(tmp_path)
        result, _report = self._batch(tmp_path, "--keep-binary")
        assert result.returncode == 2 and "--keep-binary cannot go with --format jsonl" in result.stderr
