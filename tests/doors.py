"""Every front door of logfilter on one input, as real processes: what each writes, for tests that
hold them to one rule (tests/integration/test_hostile.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Result, run_logfilter

# The doors that write the masked log: each must write the same bytes for the same input.
WRITERS = ["run", "run-reference", "batch", "follow"]


def masked(door: str, rules: Path, data: bytes, tmp: Path, name: str = "app.log") -> Result:
    """The masked log `door` writes for `data` (its exit code, output and stderr)."""
    if door in ("run", "run-reference"):
        return run_logfilter("run", "-c", rules, "--engine", "reference" if door == "run-reference" else "fast", stdin=data)
    source = tmp / "in" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    out = tmp / "out" / name
    if door == "batch":
        result = run_logfilter("batch", "-c", rules, source.parent, "-o", tmp / "out")
        out = tmp / "out" / "in" / name  # the folder is mirrored
        return Result(result.returncode, out.read_bytes() if out.exists() else b"", result.stderr)
    return follow(rules, source, tmp)


def follow(rules: Path, source: Path, tmp: Path, quiet: float = 1.5) -> Result:
    """`logfilter follow` on `source` until its output has not grown for `quiet` seconds, then SIGTERM."""
    out = tmp / "out" / source.name
    err = tmp / "follow.err"
    with open(err, "wb") as stream:
        proc = subprocess.Popen(
            [sys.executable, "-m", "logfilter", "follow", "-c", str(rules), str(source.parent / "*"),
             "-o", str(tmp / "out"), "--state", str(tmp / "state.json")],
            stdout=subprocess.DEVNULL, stderr=stream,
        )  # fmt: skip
    try:
        size, since, deadline = -1, time.monotonic(), time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            now = out.stat().st_size if out.exists() else -1
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Result(code, out.read_bytes() if out.exists() else b"", err.read_text())


def jsonl(rules: Path, data: bytes) -> tuple[list[dict], str]:
    """The JSON objects `run --format jsonl` writes for `data`, and its stderr."""
    result = run_logfilter("run", "-c", rules, "--format", "jsonl", stdin=data)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def scan(rules: Path, data: bytes, tmp: Path, name: str = "app.log") -> tuple[int, list[dict]]:
    """`logfilter scan --report -` of `data` as a file: its exit code and findings."""
    source = tmp / "scan" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    result = run_logfilter("scan", "-c", rules, "--report", "-", source)
    return result.returncode, json.loads(result.stdout)["findings"]


def values(objects: list[dict]) -> dict[str, object]:
    """Every KV value of JSON lines objects by key (the last wins), lists flattened."""
    found: dict[str, object] = {}

    def walk(node: dict) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value)
            else:
                found[key] = value

    for item in objects:
        for block in item.get("kv", {}).values():
            walk(block)
    return found
