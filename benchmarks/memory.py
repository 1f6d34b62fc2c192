"""Peak memory (max RSS) of the real CLI for run, run --format jsonl, scan, keys and untag.

    python benchmarks/memory.py                      # 50 MB log, 200 MB line, limit 100 MB
    python benchmarks/memory.py --log-mb 5 --line-mb 20 --scratch /tmp/m

Two inputs: a generated log (../shared/bench/gen_corpus.py when it is there, else
benchmarks/corpus.py), and one line with no line feed inside a UserData block. Each command
runs as a child process; its max RSS is that child's own (os.wait4). Every command must stay
under --limit-mb, and nothing of the long line's data may appear in any output or message.
Prints a table; exits 1 when a figure is over the limit or the line leaked. Not part of the
test run (tests/unit/test_line_bound.py is its small, in-process sibling).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GEN_CORPUS = ROOT.parent / "shared" / "bench" / "gen_corpus.py"
MB = 1 << 20
RULES = """[log-filter]
default-filter-type=copy
[log-filter-data]
PASSWORD=hide
PIN=hide
CVV=hide
DOB=hide
NAME=hide
ACCOUNT=unhide-last,4
CardNumber=unhide-last,4
SSN=unhide-last,4
EMAIL=unhide-first,2
Notes=tag()
"""
LINE_DATA = b"Zq8LongLine"  # the long line's text, repeated; none of it may come out
LINE_HEAD = b"message EventRinging\n\tAttributeUserData\t[1] 00 01 00 00..\n\t\t'Notes'\t'"
COMMANDS: dict[str, list[str]] = {
    "run": ["run", "{input}", "-c", "{rules}"],
    "run --format jsonl": ["run", "{input}", "-c", "{rules}", "--format", "jsonl"],
    "scan": ["scan", "{input}", "-c", "{rules}", "--report", "-"],
    "keys": ["keys", "{input}", "-c", "{rules}", "--format", "json"],
    "untag": ["untag", "{input}"],
}
EXPECTED_EXIT = {"scan": (0, 1)}  # scan exits 1 when it finds something


def make_log(path: Path, size_mb: int) -> None:
    """A generated T-Library log of about `size_mb` MB."""
    if GEN_CORPUS.is_file():
        subprocess.run([sys.executable, str(GEN_CORPUS), str(path), str(size_mb), "11"], check=True, capture_output=True)
        return
    sys.path.insert(0, str(HERE))
    from corpus import generate  # noqa: PLC0415 - benchmarks/corpus.py, only when the shared one is missing

    path.write_bytes(generate(size_mb * MB, seed=11))


def make_line(path: Path, size_mb: int) -> None:
    """A UserData block whose value line runs `size_mb` MB to the end of the file, with no line feed."""
    piece = LINE_DATA * (MB // len(LINE_DATA))
    with open(path, "wb") as out:
        out.write(LINE_HEAD)
        for _ in range(size_mb):
            out.write(piece)


def measure(argv: list[str], stdout: Path, stderr: Path) -> tuple[float, float, int]:
    """(max RSS in MB, seconds, exit status) of one child process."""
    started = time.perf_counter()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return usage.ru_maxrss * scale / MB, seconds, os.waitstatus_to_exitcode(status)


def leaked(*paths: Path) -> bool:
    """Whether any file holds a piece of the long line's text (read in chunks, overlapping)."""
    needle = LINE_DATA[:8]
    for path in paths:
        with open(path, "rb") as stream:
            carry = b""
            while chunk := stream.read(MB):
                if needle in carry + chunk:
                    return True
                carry = chunk[-len(needle) :]
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-mb", type=int, default=50)
    parser.add_argument("--line-mb", type=int, default=200)
    parser.add_argument("--limit-mb", type=float, default=100)
    parser.add_argument("--scratch", type=Path, help="where the inputs and outputs go (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        scratch = args.scratch or Path(temporary)
        scratch.mkdir(parents=True, exist_ok=True)
        rules = scratch / "rules.ini"
        rules.write_text(RULES)
        inputs = {f"log {args.log_mb} MB": scratch / "log.log", f"line {args.line_mb} MB": scratch / "line.log"}
        make_log(inputs[f"log {args.log_mb} MB"], args.log_mb)
        make_line(inputs[f"line {args.line_mb} MB"], args.line_mb)
        failures = 0
        print(f"{'input':<14} {'command':<20} {'max RSS MB':>10} {'seconds':>8}  leak")
        for label, path in inputs.items():
            for name, template in COMMANDS.items():
                argv = [sys.executable, "-m", "logfilter", *(part.format(input=path, rules=rules) for part in template)]
                stdout, stderr = scratch / "out", scratch / "err"
                rss, seconds, status = measure(argv, stdout, stderr)
                leak = label.startswith("line") and leaked(stdout, stderr)
                bad = rss > args.limit_mb or leak or status not in EXPECTED_EXIT.get(name, (0,))
                failures += bad
                mark = "yes" if leak else "-" if label.startswith("line") else ""
                note = f"  FAILED (exit {status})" if bad else ""
                print(f"{label:<14} {name:<20} {rss:>10.1f} {seconds:>8.1f}  {mark}{note}", flush=True)
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
