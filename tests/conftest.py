"""Shared fixtures: the golden cases, a runner for the real `logfilter` process."""

from __future__ import annotations

import os
import pickle
import pty
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from logfilter.rules.config import Policy, load_policy

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
GOLDEN = TESTS / "golden"
SAMPLES = ROOT / "samples"


@pytest.fixture(autouse=True, scope="session")
def _golden_hash_keys() -> None:
    """Golden cases that hash read the key file beside them: git keeps no mode, logfilter wants 0600.

    A key in the environment would clash with those files (two key sources), so tests start without one.
    """
    os.environ.pop("LOGFILTER_HASH_KEY", None)
    for key_file in GOLDEN.glob("*/hash.key"):
        key_file.chmod(0o600)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite expected.log files from the current output"
    )


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: bytes
    stderr: str


def run_logfilter(
    *args: str | Path,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> Result:
    """Run `python -m logfilter ...` as a real process and capture everything it writes."""
    proc = subprocess.run(
        [sys.executable, "-m", "logfilter", *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
        env=env,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


def on_a_terminal(*args: str | Path, cwd: Path | None = None, stdout: bool = True, columns: int = 200) -> tuple[int, str]:
    """Run logfilter with stderr (and stdout, unless `stdout` is false) on a pty; return its exit
    code and what the terminal showed, CRLF as LF."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "logfilter", *map(str, args)],
        stdin=subprocess.DEVNULL, stdout=follower if stdout else subprocess.DEVNULL, stderr=follower, cwd=cwd,
        env={**os.environ, "COLUMNS": str(columns), "TERM": "xterm"},
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return proc.wait(timeout=60), seen.decode("utf-8", "replace").replace("\r\n", "\n")


def in_a_fresh_process(payload: object, code: str) -> object:
    """Unpickle `payload` in a new Python process, as a batch worker does, run `code` there with it as
    `it`, and return the `result` it sets (pickled back). No hash key is in that process's environment.

    In this process an unpickled filter type is the cached object it was made from (rules/filters.py
    caches parse_filter_type), so only another process shows what pickling carries.
    """
    script = f"import pickle, sys\nit = pickle.loads(sys.stdin.buffer.read())\n{code}\nsys.stdout.buffer.write(pickle.dumps(result))\n"
    env = {name: value for name, value in os.environ.items() if name != "LOGFILTER_HASH_KEY"}
    proc = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(payload), capture_output=True, env=env,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    return pickle.loads(proc.stdout)


TEST_HASH_KEY = "differential-test-key-6f1d0c2b"


def load_keyed_policy(*args: object, **kwargs: object) -> Policy:
    """load_policy with a test key in LOGFILTER_HASH_KEY, for generated policies that may hash."""
    os.environ["LOGFILTER_HASH_KEY"] = TEST_HASH_KEY
    try:
        return load_policy(*args, **kwargs)  # type: ignore[arg-type]
    finally:
        del os.environ["LOGFILTER_HASH_KEY"]


def golden_cases() -> list[Path]:
    return sorted(path for path in GOLDEN.iterdir() if path.is_dir())


def canaries() -> list[bytes]:
    return [line.encode() for line in (GOLDEN / "CANARIES").read_text().splitlines() if line]


def case_args(case: Path) -> list[str]:
    extra = case / "args"
    return extra.read_text().split() if extra.exists() else []
