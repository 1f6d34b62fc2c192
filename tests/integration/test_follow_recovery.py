"""`logfilter follow` when things go wrong, as a real process on real files: outputs on disk before
the state that points past them, failed writes kept and retried, and restarts after what happened
while it was stopped."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import shutil
import signal
from functools import cache
from pathlib import Path

import pytest

from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import StreamSink
from tests.conftest import run_logfilter
from tests.integration.test_follow import FILTER, Follow, append, eventually, messages, read
from tests.integration.test_follow import tmp as tmp  # noqa: PLC0414 - the fixture, shared

STATE = "state/follow.json"
# The system calls that show what reaches the disk when: file opens (fd -> path), writes of the
# outputs, syncs, and the renames that put a state file in place.
TRACED = "/^(openat|close|pwrite64|fsync|fdatasync|rename|renameat|renameat2)$"


class _Data:
    def __init__(self, data: bytes) -> None:
        self.name, self._data = "<expected>", data

    def chunks(self) -> list[bytes]:
        return [self._data]


@cache
def masked(data: bytes) -> bytes:
    """What `run -c samples/filter.ini` makes of `data` (in this process: the tests poll it often)."""
    buffer = io.BytesIO()
    run([_Data(data)], compile_policy(load_policy(FILTER)), StreamSink(buffer, "<expected>"))  # type: ignore[list-item]
    return buffer.getvalue()


def state_entries(tmp: Path) -> dict[str, dict[str, object]]:
    """The state file's entries, by input path relative to `tmp`."""
    content = json.loads((tmp / STATE).read_bytes())
    return {os.path.relpath(entry["path"], tmp): entry for entry in content["files"]}


def fsize_limit(limit: int) -> tuple[str, ...]:
    """A command prefix: files of the command cannot grow past `limit` bytes (writes there fail with
    EFBIG; prlimit sets the limit on itself and executes the command in its place)."""
    return ("prlimit", f"--fsize={limit}:unlimited", "--")


def unlimit(pid: int) -> None:
    """Lift the file size limit of a running process (its soft limit back up to its hard one)."""
    hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))


# ---------------------------------------------------------------- durability, under strace


def strace() -> str:
    """The strace binary; the test is skipped without it, unless LOGFILTER_REQUIRE_STRACE is set (CI)."""
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("LOGFILTER_REQUIRE_STRACE"):
            pytest.fail("strace is required here (LOGFILTER_REQUIRE_STRACE) and is not installed")
        pytest.skip("strace is not installed")
    return found


def traced_child(tracer: int) -> int:
    """The process strace started (the follower): it gets the signals, strace would only detach."""
    children = Path(f"/proc/{tracer}/task/{tracer}/children")
    eventually(lambda: children.read_text().strip() != "", what="the traced process")
    return int(children.read_text().split()[0])


_CALL = re.compile(r"^(\d+) +(?:(\w+)\((.*?)(?: <unfinished \.\.\.>$|\) += (-?\d+))|<\.\.\. (\w+) resumed>(.*)\) += (-?\d+))")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def calls(trace: str) -> list[tuple[str, str, int]]:
    """(name, arguments, result) of each system call in an `strace -f` log, in the order they ended;
    a call another thread interrupted is joined to its end."""
    started: dict[str, tuple[str, str]] = {}
    done: list[tuple[str, str, int]] = []
    for line in trace.splitlines():
        found = _CALL.match(line)
        if found is None:
            continue  # signals, exits
        pid, name, args, result, resumed, rest, resumed_result = found.groups()
        if resumed is not None:
            name, args = started.pop(pid, (resumed, ""))
            done.append((name, args + rest, int(resumed_result)))
        elif result is None:
            started[pid] = (name, args)
        else:
            done.append((name, args, int(result)))
    return done


def durable_commits(trace: str, tmp: Path) -> list[tuple[int, set[str]]]:
    """For each state file synced and renamed into place: the output bytes written before it, and
    the outputs written since their last sync at that moment."""
    paths: dict[int, Path] = {}  # open file descriptors
    unsynced: set[str] = set()
    synced_parts: set[Path] = set()
    written = 0
    commits: list[tuple[int, set[str]]] = []
    state = (tmp / STATE).resolve()
    for name, args, result in calls(trace):
        strings = [Path(tmp, text) for text in _STRING.findall(args)]
        fd = int(args.split(",")[0]) if args[:1].isdigit() else -1
        if name == "openat" and result >= 0:
            paths[result] = strings[0].resolve()
        elif name == "close":
            paths.pop(fd, None)
        elif name == "pwrite64" and fd in paths and paths[fd].is_relative_to(tmp / "clean") and result > 0:
            unsynced.add(str(paths[fd]))
            written += result
        elif name in ("fsync", "fdatasync") and fd in paths and result == 0:
            unsynced.discard(str(paths[fd]))
            synced_parts.add(paths[fd])
        elif name.startswith("rename") and result == 0 and strings[-1].resolve() == state:
            if strings[0].resolve() in synced_parts:  # written with durable=True: a checkpoint a crash keeps
                commits.append((written, set(unsynced)))
            synced_parts.discard(strings[0].resolve())
    return commits


@pytest.mark.slow
def test_outputs_are_on_disk_before_the_state_that_points_past_them(tmp: Path) -> None:
    """Every state file follow syncs and renames into place comes after an fdatasync of each output
    written before it, so a power loss never leaves a checkpoint past output that is not on disk."""
    trace = tmp / "strace.log"
    log = tmp / "raw/a.log"
    log.write_bytes(messages(0, 3))
    follow = Follow(tmp, wrap=(strace(), "-f", "-qq", "-o", str(trace), "-e", f"trace={TRACED}"))
    child = traced_child(follow.proc.pid)
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 3)), what="the output")
    append(log, messages(3, 3))
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 6)), what="the appended output")
    os.kill(child, signal.SIGTERM)
    assert follow.proc.wait(timeout=30) == 0
    commits = durable_commits(trace.read_text(), tmp)
    assert [written for written, _ in commits if written] != [], "no durable checkpoint after an output write"
    assert commits[-1][0] == len(masked(messages(0, 6)))
    for written, unsynced in commits:
        assert not unsynced, f"the state was synced with {written} output bytes written and not synced: {unsynced}"
    assert state_entries(tmp)["raw/a.log"]["offset"] == len(messages(0, 6))


# ---------------------------------------------------------------- output writes that fail


def test_a_failed_output_write_is_kept_and_retried(tmp: Path) -> None:
    """When the output cannot grow (EFBIG), the checkpoint stays before the records not written and
    /healthz says why; once it can, they are written, each once, and the checkpoint moves on."""
    log = tmp / "raw/a.log"
    log.write_bytes(messages(0, 3))
    first = masked(messages(0, 3))
    # The size limit binds the follower's stderr file too: rules for keys these messages do not
    # hold would fill it with their warnings (issue 20.1) before the write error is said.
    rules = tmp / "password.ini"
    rules.write_text("[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPASSWORD=hide\n")
    follow = Follow(tmp, "--listen", "127.0.0.1:0", "-c", str(rules), wrap=fsize_limit(len(first) + 100))
    eventually(lambda: read(tmp / "clean/a.log") == first, what="the output")
    eventually(lambda: state_entries(tmp)["raw/a.log"]["offset"] == len(messages(0, 3)), what="the checkpoint")
    append(log, messages(3, 4))
    eventually(lambda: "cannot write the output (File too large)" in follow.stderr, what="the write error")
    status, reason = follow.get("/healthz")
    assert status == 503 and "clean/a.log: cannot write the output (File too large)" in reason
    assert read(tmp / "clean/a.log") == first  # no torn record left behind
    assert state_entries(tmp)["raw/a.log"]["offset"] == len(messages(0, 3))
    unlimit(follow.proc.pid)
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 7)), what="the records written at last")
    eventually(lambda: follow.get("/healthz")[0] == 200, what="200 again")
    assert follow.stop() == 0
    assert state_entries(tmp)["raw/a.log"]["offset"] == len(messages(0, 7))


def test_a_truncated_file_with_no_copy_starts_over_into_the_same_output(tmp: Path) -> None:
    """A file truncated in place (no copy beside it) is read again from its start; its new text is
    masked after the old in the same output."""
    log = tmp / "raw/a.log"
    log.write_bytes(messages(0, 4))
    follow = Follow(tmp)
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 4)), what="the output")
    log.write_bytes(messages(100, 2))  # shorter than what was read, and other first bytes
    expected = masked(messages(0, 4)) + masked(messages(100, 2))
    eventually(lambda: read(tmp / "clean/a.log") == expected, what="the new text after the old")
    append(log, messages(102, 1))
    eventually(lambda: read(tmp / "clean/a.log") == expected + masked(messages(102, 1)), what="growth after it")
    assert follow.stop() == 0
    assert "raw/a.log: truncated; following it from its start (no copy of the old text beside it)" in follow.stderr
    assert state_entries(tmp)["raw/a.log"]["offset"] == len(messages(100, 3))


# ---------------------------------------------------------------- while follow was stopped


def stopped_after(tmp: Path, data: bytes) -> None:
    """Follow raw/a.log holding `data` until its output is complete, then stop (SIGTERM)."""
    (tmp / "raw/a.log").write_bytes(data)
    follow = Follow(tmp)
    eventually(lambda: read(tmp / "clean/a.log") == masked(data), what="the output")
    assert follow.stop() == 0


def test_an_output_shorter_than_its_checkpoint_is_written_anew(tmp: Path) -> None:
    """An output cut short while follow was stopped is written again from the start of its file,
    not padded out to the checkpoint."""
    stopped_after(tmp, messages(0, 4))
    output = tmp / "clean/a.log"
    output.write_bytes(output.read_bytes()[:100])
    append(tmp / "raw/a.log", messages(4, 2))
    follow = Follow(tmp)
    eventually(lambda: read(output) == masked(messages(0, 6)), what="the output written anew")
    assert follow.stop() == 0
    assert "raw/a.log: its output a.log is missing or shorter than checkpointed; writing it anew" in follow.stderr


def test_a_file_truncated_while_stopped_is_followed_from_its_start(tmp: Path) -> None:
    """A file truncated while follow was stopped, with no copy beside it: follow says what it could
    not read and masks the new text from its first byte."""
    stopped_after(tmp, messages(0, 4))
    (tmp / "raw/a.log").write_bytes(messages(50, 2))
    follow = Follow(tmp)
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(50, 2)), what="the new text")
    assert follow.stop() == 0
    assert ("raw/a.log: truncated while logfilter was stopped; what was written after line 29 and before the "
            "truncation was not read") in follow.stderr  # fmt: skip
    assert b"CanaryPw" not in read(tmp / "clean/a.log")


@pytest.mark.slow
def test_a_file_copied_and_truncated_while_stopped_is_finished_from_its_copy(tmp: Path) -> None:
    """copytruncate while follow was stopped: the old text, with what was added before the copy, is
    finished from the copy into the output renamed after it; the file itself starts a new output."""
    stopped_after(tmp, messages(0, 4))
    log = tmp / "raw/a.log"
    append(log, messages(4, 2))
    shutil.copy(log, tmp / "raw/a.log.1")
    log.write_bytes(messages(60, 1))
    follow = Follow(tmp)
    eventually(lambda: read(tmp / "clean/a.log.1") == masked(messages(0, 6)), what="the old text from the copy")
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(60, 1)), what="the new text")
    eventually(lambda: "raw/a.log.1: finished" in follow.stderr, timeout=15, what="the copy finished")
    assert follow.stop() == 0
    assert "resuming raw/a.log.1 at line 29" in follow.stderr


@pytest.mark.parametrize("name", ["a.log.1", "b.log"])
def test_a_file_moved_while_stopped_is_resumed_under_its_new_name(tmp: Path, name: str) -> None:
    """A file renamed while follow was stopped, to a name the pattern does not match (then finished) or does,
    is found by its identity and resumed where it was: the output takes its new name, nothing twice."""
    stopped_after(tmp, messages(0, 4))
    moved = tmp / "raw" / name
    (tmp / "raw/a.log").rename(moved)
    append(moved, messages(4, 2))
    follow = Follow(tmp)
    eventually(lambda: read(tmp / "clean" / name) == masked(messages(0, 6)), what="the resumed output")
    assert not (tmp / "clean/a.log").exists()
    assert follow.stop() == 0
    assert re.search(rf"resuming \S*raw/{re.escape(name)} at line 29\n", follow.stderr), follow.stderr


# ---------------------------------------------------------------- the state file


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "cannot read the state file (not valid JSON)"),
        (b'{"version": 99, "files": []}', "not a logfilter follow state file (or from another version); give a new --state"),
        (b'{"version": 1, "output": "/elsewhere", "files": []}', "this state belongs to output /elsewhere, not {clean}"),
    ],
)
def test_a_damaged_state_file_is_refused(tmp: Path, content: bytes, message: str) -> None:
    """A state file that is not JSON, not follow's or another output's stops follow with exit 2 and
    one line; no output is written and the state file is left as it is."""
    (tmp / "state").mkdir()
    (tmp / STATE).write_bytes(content)
    (tmp / "raw/a.log").write_bytes(messages(0, 1))
    result = run_logfilter("follow", "-c", FILTER, "raw/*.log", "-o", "clean", "--state", STATE, cwd=tmp)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {STATE}: {message.format(clean=(tmp / 'clean').resolve())}")
    assert result.stderr.count("\n") == 1
    assert not (tmp / "clean/a.log").exists() and (tmp / STATE).read_bytes() == content


def test_a_state_file_that_cannot_be_written_is_reported_and_written_later(tmp: Path) -> None:
    """While the state file cannot be replaced, follow says so on stderr and /healthz, and goes on;
    once it can, the checkpoints written include everything since."""
    log = tmp / "raw/a.log"
    log.write_bytes(messages(0, 2))
    follow = Follow(tmp, "--listen", "127.0.0.1:0")
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 2)), what="the output")
    blocker = tmp / "state/.follow.json.logfilter-part"  # where the state is written before its rename
    blocker.mkdir()
    append(log, messages(2, 2))
    eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 4)), what="the output")
    eventually(lambda: "cannot write" in follow.get("/healthz")[1], what="503 with the reason")
    status, reason = follow.get("/healthz")
    assert status == 503 and f"{STATE}: cannot write the output (Is a directory)" in reason
    assert f"error: {STATE}: cannot write the output (Is a directory)" in follow.stderr
    assert state_entries(tmp)["raw/a.log"]["offset"] == len(messages(0, 2))
    blocker.rmdir()
    eventually(lambda: follow.get("/healthz")[0] == 200, what="200 again")
    assert state_entries(tmp)["raw/a.log"]["offset"] == len(messages(0, 4))
    assert follow.stop() == 0
