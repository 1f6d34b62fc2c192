"""Every subcommand on a canary corpus: no value from a KV block in anything logfilter writes.

One row per invocation (CASES); `run --preview` is the one command left out, as printing the
originals is its purpose (to a terminal only, tests/integration/test_preview.py). A row names its input (the raw corpus, or the corpus as `run`
tags it) and says whether it is a follower to query over HTTP. Everything is grepped: stdout,
stderr, every file under the output folder (outputs, reports, state, part files) and the
/healthz and /metrics bodies.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_logfilter

# Values under keys the rules mask (or that fail closed inside a block); none may come out.
CANARIES = [b"CanaryPw1", b"CanaryCust2", b"CanaryNest3", b"CanaryCont4", b"CanaryBad5", b"CanaryPsdk6",
            b"CanaryDeep7", b"CanaryLat8", b"CanaryOpen9", b"CanaryHashKey10"]  # fmt: skip
HASH_KEY = "CanaryHashKey10-0f3c9a7d2b5e4f61"  # the hash key is a canary too
RULES = "[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPASSWORD=hide\nCUSTOMER=hide\nNotes=hide\n"
TAGGING = "[log-filter]\ndefault-filter-type=tag\n"
HASHING = "[log-filter]\ndefault-filter-type=copy\nhash-key-file={key}\n[log-filter-data]\nPASSWORD=hash\nCUSTOMER=hash(8)\nNotes=hash\n"
DEEP = "\t\t" + "'L'(list) " * 1000 + "'PASSWORD'\t'CanaryDeep7'"
CORPUS = (
    "@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n"
    "\tAttributeUserData\t[561] 00 14 00 00..\n"
    "\t\t'PASSWORD'\t'CanaryPw1'\n"
    "\t\t'CUSTOMER'(list) 'NAME'\t'CanaryCust2'\n"
    "\t\t\t'ACCOUNT'\t'CanaryNest3'\n"
    "\t\t'Notes'\t'first line\n"
    "CanaryCont4 on a line of its own\n"
    "and the end'\n"
    "\t\t'BROKEN'\tCanaryBad5 not quoted\n"
    f"{DEEP}\n"
    "\t\t'PASSWORD'\t'caf\xe9 CanaryLat8'\n"
    "\tAttributeConnID\t006c029a6685d004\n"
    "12:00:00.001 Std 00000 free text\n"
    "'RequestAttachUserData' ('30')\n"
    "message attributes:\n"
    "AttributeUserData [bstr] = KVList: \n"
    "\t'PASSWORD' [str] = \"CanaryPsdk6\"\n"
    "\t'Notes' [str] = \"never closed CanaryOpen9\n"
    "12:00:00.002 Std 00000 after\n"
).encode("latin-1")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]  # {log}, {tagged}, {rules}, {out} are filled in
    stdin: str | None = None  # "log" or "tagged": fed on stdin
    follow: bool = False  # a follower: queried over HTTP, then stopped


CASES = [
    Case("run", ("run", "-c", "{rules}", "--stats", "{log}")),
    Case("run-reference", ("run", "-c", "{rules}", "--engine", "reference", "--stats", "{log}")),
    Case("run-stdin-to-file", ("run", "-c", "{rules}", "-o", "{out}/run.log"), stdin="log"),
    Case("run-fail", ("run", "-c", "{rules}", "--on-error", "fail", "-o", "{out}/run.log", "{log}")),
    Case("batch", ("batch", "-c", "{rules}", "{log}", "-o", "{out}/batch", "--report", "{out}/report.json")),
    Case("batch-report-stdout", ("batch", "-c", "{rules}", "{log}", "-o", "{out}/batch", "--report", "-")),
    Case("run-jsonl", ("run", "-c", "{rules}", "--format", "jsonl", "--all-lines", "--stats", "{log}")),
    Case("run-jsonl-reference", ("run", "-c", "{rules}", "--format", "jsonl", "--engine", "reference", "{log}")),
    Case("run-hash", ("run", "-c", "{hashing}", "--stats", "{log}")),
    Case("batch-jsonl", ("batch", "-c", "{rules}", "{log}", "-o", "{out}/batch", "--format", "jsonl",
                         "--report", "{out}/report.json")),  # fmt: skip
    Case("batch-hash", ("batch", "-c", "{hashing}", "{log}", "-o", "{out}/batch", "--report", "{out}/report.json")),
    Case("batch-cluster-hash", ("batch", "-c", "{hashing}", "{log}", "-o", "{out}/batch", "--scheduler", "local:1",
                                "--split-size", "256K", "--report", "{out}/report.json")),  # fmt: skip
    Case("keys", ("keys", "-c", "{rules}", "{log}")),
    Case("keys-json", ("keys", "-c", "{hashing}", "--format", "json", "{log}")),
    Case("scan", ("scan", "-c", "{rules}", "{log}", "--report", "{out}/scan.json")),
    Case("scan-everywhere", ("scan", "-c", "{rules}", "--everywhere", "--report", "-", "{log}")),
    Case("untag", ("untag", "--stats", "{tagged}")),
    Case("untag-stdin", ("untag", "-o", "{out}/untagged.log"), stdin="tagged"),
    Case("follow", ("follow", "-c", "{rules}", "{out}/../raw/*.log", "-o", "{out}/clean",
                    "--state", "{out}/state.json", "--listen", "127.0.0.1:0"), follow=True),  # fmt: skip
    Case("follow-jsonl-hash", ("follow", "-c", "{hashing}", "{out}/../raw/*.log", "-o", "{out}/clean", "--format", "jsonl", "--all-lines",
                               "--state", "{out}/state.json", "--listen", "127.0.0.1:0"), follow=True),  # fmt: skip
    Case("follow-stdout", ("follow", "-c", "{rules}", "{out}/../raw/*.log", "--stdout",
                           "--state", "{out}/state.json", "--listen", "127.0.0.1:0"), follow=True),  # fmt: skip
]


def _files(folder: Path) -> list[Path]:
    return [Path(root, name) for root, _, names in os.walk(folder) for name in names]


def _leaks(text: bytes) -> list[bytes]:
    return [canary for canary in CANARIES if canary in text]


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "raw").mkdir()
    (tmp_path / "out").mkdir()
    log = tmp_path / "raw" / "corpus.log"
    log.write_bytes(CORPUS)
    rules = tmp_path / "rules.ini"
    rules.write_text(RULES)
    tagging = tmp_path / "tagging.ini"
    tagging.write_text(TAGGING)
    key = tmp_path / "hash.key"
    key.write_text(HASH_KEY)
    key.chmod(0o600)
    hashing = tmp_path / "hashing.ini"
    hashing.write_text(HASHING.format(key=key))
    tagged = tmp_path / "tagged.log"
    made = run_logfilter("run", "-c", tagging, "-o", tagged, log)
    assert made.returncode == 0, made.stderr
    assert b"<#'CanaryPw1'#>" in tagged.read_bytes()  # untag has something to hide
    return {"log": log, "tagged": tagged, "rules": rules, "hashing": hashing, "out": tmp_path / "out"}


def _read_if_there(path: Path) -> bytes:
    """A file listed a moment ago; the follower's temporary files are renamed away at any time."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _follow(args: list[str], out: Path) -> list[bytes]:
    """Run a follower until it has written the corpus; return stdout, stderr and the HTTP bodies."""
    err, std = out / "follow.stderr", out / "follow.stdout"
    with open(err, "wb") as err_stream, open(std, "wb") as out_stream:
        proc = subprocess.Popen([sys.executable, "-m", "logfilter", *args], stdout=out_stream, stderr=err_stream)
    try:
        deadline = time.monotonic() + 20
        while b"after" not in b"".join(_read_if_there(path) for path in _files(out) if path != err):
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        port = re.search(r"listening on [\d.]+:(\d+)", err.read_text())
        assert port, err.read_text()
        bodies = []
        for endpoint in ("/healthz", "/metrics"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}{endpoint}", timeout=5) as response:
                bodies.append(response.read())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return bodies


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_no_canary_in_anything_a_subcommand_writes(case: Case, corpus: dict[str, Path]) -> None:
    """No value under a masking rule, or on a line that failed closed, reaches any output, message or report."""
    args = [arg.format(**{name: str(path) for name, path in corpus.items()}) for arg in case.args]
    seen: list[bytes] = []
    if case.follow:
        seen += _follow(args, corpus["out"])
    else:
        stdin = corpus[case.stdin].read_bytes() if case.stdin else None
        result = run_logfilter(*args, stdin=stdin)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        seen += [result.stdout, result.stderr.encode()]
    files = _files(corpus["out"])
    assert files or not case.follow
    seen += [path.read_bytes() for path in files]
    assert not _leaks(b"\n".join(seen)), case.name
