"""`hash` as a user runs it: refusals, the key never in any output, and output that scans clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_logfilter

KEY = "CANARY-hash-key-4c0ffee-never-printed"
RULES = "[log-filter]\ndefault-filter-type=copy\ndetect=all\n[log-filter-data]\nPASSWORD=hash\nCardNumber=hash(8)\nPIN=hash\nCUSTOMER=hash(12)\nRTR=hash\n"


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    path = tmp_path / "hash.ini"
    path.write_text(RULES)
    return path


def everything_written(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


def test_no_key_exits_2_with_one_line(ini: Path) -> None:
    """Without a key, hash is a configuration error: exit 2, one line, no output."""
    result = run_logfilter("run", "-c", ini, SAMPLES / "tserver.log")
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.startswith("error: a hash filter type needs a key") and result.stderr.count("\n") == 1


def test_world_readable_key_file_exits_2(tmp_path: Path) -> None:
    """A key file others can read stops the run before anything is written."""
    key = tmp_path / "hash.key"
    key.write_text(KEY)
    key.chmod(0o644)
    ini = tmp_path / "f.ini"
    ini.write_text(f"[log-filter]\ndefault-filter-type=hash\nhash-key-file={key}\n")
    result = run_logfilter("run", "-c", ini, SAMPLES / "tserver.log")
    assert result.returncode == 2 and "mode 0644" in result.stderr and KEY not in result.stderr


def test_run_is_deterministic_and_keyed(ini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs with one key agree byte for byte; another key changes the tokens and nothing else."""
    monkeypatch.setenv("LOGFILTER_HASH_KEY", KEY)
    first = run_logfilter("run", "-c", ini, SAMPLES / "tserver.log")
    second = run_logfilter("run", "-c", ini, SAMPLES / "tserver.log")
    monkeypatch.setenv("LOGFILTER_HASH_KEY", KEY + "-other")
    other = run_logfilter("run", "-c", ini, SAMPLES / "tserver.log")
    assert first.returncode == 0 and first.stdout == second.stdout != other.stdout
    assert first.stdout.count(b"'h:") == other.stdout.count(b"'h:") > 0
    assert len(first.stdout.splitlines()) == len((SAMPLES / "tserver.log").read_bytes().splitlines())


def test_output_of_run_with_hash_scans_clean(ini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """scan under the same config knows a hash token for masked; the raw sample is not clean."""
    monkeypatch.setenv("LOGFILTER_HASH_KEY", KEY)
    for sample in sorted(SAMPLES.glob("*.log")):
        masked = run_logfilter("run", "-c", ini, sample)
        assert masked.returncode == 0 and b"h:" in masked.stdout
        raw = run_logfilter("scan", "-c", ini, "--detect", "none", sample)
        assert raw.returncode == 1 and b": rule hash(16): key " in raw.stdout, (sample.name, raw.stdout)
        result = run_logfilter("scan", "-c", ini, "--detect", "none", "-", stdin=masked.stdout)
        assert (result.returncode, result.stdout) == (0, b""), (sample.name, result.stdout)


def test_key_never_in_batch_outputs_reports_or_state(ini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """batch with a hash rule: outputs, report and state name the key by id, never hold it."""
    monkeypatch.setenv("LOGFILTER_HASH_KEY", KEY)
    logs = tmp_path / "logs"
    logs.mkdir()
    for sample in SAMPLES.glob("*.log"):
        (logs / sample.name).write_bytes(sample.read_bytes())
    result = run_logfilter("batch", "-c", ini, logs, "-o", tmp_path / "out", "--report", tmp_path / "report.json", "-j", "2")
    assert result.returncode == 0, result.stderr
    written = everything_written(tmp_path / "out") + (tmp_path / "report.json").read_bytes()
    assert b"hash-key-id" in written and b"h:" in written
    for form in (KEY.encode(), KEY.encode().hex().encode()):
        assert form not in written and form.decode() not in result.stderr


def test_key_never_in_a_traceback_of_the_policy() -> None:
    """Even an internal error with the policy in hand prints no key: locals are never shown."""
    code = (
        "import os, sys; os.environ['LOGFILTER_HASH_KEY'] = sys.argv[1];"
        "from logfilter.rules.config import load_policy; p = load_policy(None, 'hash'); print(p); raise RuntimeError(repr(p))"
    )
    proc = subprocess.run([sys.executable, "-c", code, KEY], capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "Secret(<redacted>)" in proc.stdout + proc.stderr
    assert KEY not in proc.stdout and KEY not in proc.stderr


def test_untag_filter_type_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """untag --filter-type hash gives a tagged value the token run would give it; without a key it refuses."""
    line = b"x 'PIN'\t<#'1234'#> and <#1234#>\n"
    refused = run_logfilter("untag", "--filter-type", "hash", stdin=line)
    assert (refused.returncode, refused.stdout) == (2, b"")
    assert refused.stderr.startswith("error: a hash filter type needs a key: set LOGFILTER_HASH_KEY")
    monkeypatch.setenv("LOGFILTER_HASH_KEY", KEY)
    result = run_logfilter("untag", "--filter-type", "hash", stdin=line)
    ran = run_logfilter("run", "--key", "PIN=hash", stdin=b"message X\n\tAttributeUserData\t[1] 00..\n\t\t'PIN'\t'1234'\n")
    token = ran.stdout.split(b"\t")[-1].strip()
    assert result.stdout == b"x 'PIN'\t" + token + b" and " + token + b"\n"


def test_scan_and_keys_need_no_key(ini: Path) -> None:
    """scan and keys name filter types but never hash: they run where the key is not (no LOGFILTER_HASH_KEY here)."""
    found = run_logfilter("scan", "-c", ini, "--detect", "none", SAMPLES / "tserver.log")
    assert found.returncode == 1 and "rule hash" in found.stdout.decode(), found.stderr
    keys = run_logfilter("keys", "-c", ini, SAMPLES / "tserver.log")
    assert keys.returncode == 0 and "hash(16)" in keys.stdout.decode(), keys.stderr


def test_untag_hash_takes_the_config_key_file(tmp_path: Path) -> None:
    """untag -c F --filter-type hash uses F's hash-key-file, as run -c F does."""
    key = tmp_path / "hash.key"
    key.write_text(KEY)
    key.chmod(0o600)
    ini = tmp_path / "f.ini"
    ini.write_text(f"[log-filter]\ndefault-filter-type=hash\nhash-key-file={key}\n")
    result = run_logfilter("untag", "-c", ini, "--filter-type", "hash", stdin=b"x <#'1234'#>\n")
    ran = run_logfilter("run", "-c", ini, stdin=b"message X\n\tAttributeUserData\t[1] 00..\n\t\t'PIN'\t'1234'\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"x " + ran.stdout.split(b"\t")[-1].strip() + b"\n"
