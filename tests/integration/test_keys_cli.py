"""`logfilter keys` as a user runs it: table, JSON, folders, archives and stdin; never a value."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from tests.conftest import SAMPLES, canaries, golden_cases, run_logfilter


def test_table_of_the_samples() -> None:
    """The table has a header and one row per key, with the rule that applies and why."""
    result = run_logfilter("keys", "-c", SAMPLES / "filter.ini", SAMPLES)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["ATTRIBUTE", "KEY", "COUNT"]
    row = next(line for line in lines if " CUSTOMER > NAME " in line)
    assert row.split()[0] == "AttributeUserData" and row.endswith("hide (list CUSTOMER)")


def test_json_stdin_and_gzip_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same log through stdin and as a .gz gives the same keys; JSON lists counts and shapes."""
    monkeypatch.setenv("LOGFILTER_HASH_KEY", "keys-test-key-0123456789")
    data = (SAMPLES / "tserver.log").read_bytes()
    packed = tmp_path / "tserver.log.gz"
    packed.write_bytes(gzip.compress(data))
    plain = orjson.loads(run_logfilter("keys", "--key", "PASSWORD=hash", "--format", "json", "-", stdin=data).stdout)
    zipped = orjson.loads(run_logfilter("keys", "--key", "PASSWORD=hash", "--format", "json", packed).stdout)
    assert plain["keys"] == zipped["keys"] and plain["keys"]
    password = next(k for k in plain["keys"] if k["key"] == "PASSWORD" and k["attribute"] == "AttributeUserData")
    assert password["filter_type"] == "hash(16)" and password["why"] == "rule" and password["count"] > 0


def test_keys_with_hash_needs_no_key() -> None:
    """keys never hashes, so a hash rule does not make it ask for the key (run would: exit 2)."""
    data = b"message X\n\tAttributeUserData\t[1] 00..\n\t\t'PIN'\t'1234'\n"
    refused = run_logfilter("run", "--key", "PIN=hash", "-", stdin=data)
    assert (refused.returncode, refused.stdout) == (2, b"")
    assert refused.stderr.startswith("error: a hash filter type needs a key: set LOGFILTER_HASH_KEY")
    result = run_logfilter("keys", "--key", "PIN=hash", "-", stdin=data)
    assert result.returncode == 0 and "hash(16)" in result.stdout.decode() and b"1234" not in result.stdout


def test_bad_inputs() -> None:
    """A missing input or an unknown format is a usage error: exit 2, one line saying which, nothing on stdout."""
    missing = run_logfilter("keys", "missing.log")
    assert (missing.returncode, missing.stdout, missing.stderr) == (2, b"", "error: missing.log: no such input file or folder\n")
    xml = run_logfilter("keys", "--format", "xml", "-")
    assert (xml.returncode, xml.stdout, xml.stderr) == (2, b"", "error: --format 'xml': expected text or json\n")


def test_no_canary_in_the_inventory() -> None:
    """Over every golden input, no planted canary value reaches the table, the JSON or stderr."""
    inputs = [case / "input.log" for case in golden_cases()]
    text = run_logfilter("keys", *inputs)
    data = run_logfilter("keys", "--format", "json", *inputs)
    assert text.returncode == data.returncode == 0
    for canary in canaries():
        for out in (text.stdout, data.stdout, text.stderr.encode(), data.stderr.encode()):
            assert canary not in out, canary


def test_lists_nested_thousands_deep_make_a_few_rows() -> None:
    """Paths stop at 32 keys (as jsonl nests 32): 20,000 nested lists make 33 list rows, the last counting 19,968."""
    data = b"message X\n\tAttributeUserData\t[1] 00..\n\t\t" + b"'L'(list) " * 20_000 + b"'K'\t'v'\n"
    result = run_logfilter("keys", "--format", "json", "-", stdin=data)
    assert result.returncode == 0, result.stderr
    rows = orjson.loads(result.stdout)["keys"]
    assert len(rows) == 34 and max(row["count"] for row in rows) == 20_000 - 32
    assert all(len(row["path"]) <= 32 for row in rows)


def test_rules_that_match_nothing_are_shown() -> None:
    """Issue 20, item 1: keys says which rules matched no key, and the keys they probably meant (JSON: unmatched_rules)."""
    result = run_logfilter("keys", "--key", "Password=hide", "--key", "CardNumber=hide", SAMPLES / "tserver.log")
    assert result.returncode == 0
    assert result.stderr == (
        "logfilter: warning: --key: the rule Password=hide matched no key in the logs read; "
        "did you mean PASSWORD? (keys match case and spelling exactly)\n"
    )
    data = orjson.loads(run_logfilter("keys", "--key", "Password=hide", "--format", "json", SAMPLES / "tserver.log").stdout)
    assert data["unmatched_rules"] == [{"key": "Password", "filter_type": "hide", "origin": "--key", "likely": ["PASSWORD"]}]
