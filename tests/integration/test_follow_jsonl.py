"""`logfilter follow --format jsonl` as a real process: outputs equal `run --format jsonl`, exactly once after kills."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

from tests.conftest import GOLDEN, canaries, run_logfilter
from tests.integration import test_follow
from tests.integration.test_follow import FILTER, Follow, append, eventually, messages, read
from tests.jsonl_oracle import objects


def as_jsonl(tmp: Path, name: str, *args: str) -> bytes:
    """What `run --format jsonl` makes of raw/<name> (named as follow names it): what follow must write."""
    result = run_logfilter("run", "-c", FILTER, "--format", "jsonl", *args, f"raw/{name}", cwd=tmp)
    assert result.returncode == 0, result.stderr
    return result.stdout


tmp = test_follow.tmp  # the fixture: tmp/raw to follow


def test_appended_messages_come_out_as_run_writes_them(tmp: Path) -> None:
    """Messages appended while following reach <name>.jsonl, valid and equal to run's objects."""
    log = tmp / "raw/a.log"
    log.write_bytes(messages(0, 3))
    follow = Follow(tmp, "--format", "jsonl", "--all-lines")
    for start in (3, 10):
        append(log, messages(start, 4))
        expected = as_jsonl(tmp, "a.log", "--all-lines")
        eventually(lambda: read(tmp / "clean/a.log.jsonl") == expected, what="the output")
    assert follow.stop() == 0
    items = objects(read(tmp / "clean/a.log.jsonl"))
    assert sum(1 for item in items if item.get("message") == "EventRinging") == 11
    assert b"CanaryPw" not in read(tmp / "clean/a.log.jsonl")
    assert not (tmp / "clean/a.log").exists()


def test_a_pause_inside_a_message_continues_it_in_a_second_object(tmp: Path) -> None:
    """A writer that stops mid-message for more than the hold: the first part goes out, the rest is `continued`."""
    log = tmp / "raw/a.log"
    log.write_bytes(b"")
    follow = Follow(tmp, "--format", "jsonl")
    whole = messages(0, 1)
    cut = whole.index(b"\t\t'RTenant'")
    append(log, whole[:cut])
    eventually(lambda: read(tmp / "clean/a.log.jsonl") != b"", what="the first part")
    append(log, whole[cut:])
    eventually(lambda: read(tmp / "clean/a.log.jsonl").count(b"\n") == 2, what="the rest")
    assert follow.stop() == 0
    first, second = objects(read(tmp / "clean/a.log.jsonl"))
    assert first["kv"] == {"AttributeUserData": {"PASSWORD": "****"}} and "continued" not in first
    assert second["continued"] is True and second["line"] == 5 and second["message"] == "EventRinging"
    assert second["kv"] == {"AttributeUserData": {"RTenant": "Resources"}}
    assert second["attributes"] == {"AttributeConnID": "006c029a6685d004"}


def test_kill_9_loses_and_repeats_nothing(tmp: Path) -> None:
    """kill -9 restarts while a writer appends: each output equals run's jsonl, every object once."""
    rng = random.Random(7)
    corpus = b"".join(
        (case / "input.log").read_bytes() for case in sorted(GOLDEN.iterdir())
        if (case / "input.log").exists() and (case / "input.log").read_bytes().endswith(b"\n")
    ) + messages(0, 100)  # fmt: skip
    segments = [tmp / f"raw/seg.{number}.log" for number in range(2)]
    pieces = [(segment, corpus[at : at + 3000]) for segment in segments for at in range(0, len(corpus), 3000)]
    per_round = len(pieces) // 6 + 1
    for _ in range(6):
        follow = Follow(tmp, "--default", "hide", "--format", "jsonl")
        for segment, data in pieces[:per_round]:
            append(segment, data)
        del pieces[:per_round]
        time.sleep(rng.random() * 0.6)
        follow.kill()
    assert not pieces
    follow = Follow(tmp, "--default", "hide", "--format", "jsonl")
    for segment in segments:
        expected = as_jsonl(tmp, segment.name, "--default", "hide")
        eventually(lambda: read(tmp / "clean" / f"{segment.name}.jsonl") == expected, timeout=20, what=segment.name)
    assert follow.stop() == 0
    for segment in segments:
        output = read(tmp / "clean" / f"{segment.name}.jsonl")
        objects(output)
        assert not [canary for canary in canaries() if canary in output]


def test_stdout_objects_are_whole_and_resent_after_kill(tmp: Path) -> None:
    """--stdout: one object per line, never cut; after kill -9 the restart sends again what it says it does."""
    log = tmp / "raw/a.log"
    log.write_bytes(messages(0, 30))
    first = Follow(tmp, "--format", "jsonl", stdout=True)
    eventually(lambda: first.stdout.count(b"\"message\":\"EventRinging\"") == 30, what="the first messages")
    first.kill()
    append(log, messages(30, 5))
    second = Follow(tmp, "--format", "jsonl", stdout=True)
    eventually(lambda: second.stdout.count(b"\"message\":\"EventRinging\"") >= 5, what="the resumed messages")
    assert second.stop() == 0
    seen = objects(first.stdout) + objects(second.stdout)
    assert {item["attributes"]["AttributeThisDN"] for item in seen} == {str(n) for n in range(35)}
    match = re.search(r"sending (\d+) messages again", second.stderr)
    resent = int(match.group(1)) if match else 0
    assert len(objects(second.stdout)) == 5 + resent


def test_a_state_of_another_format_is_refused(tmp: Path) -> None:
    """A state file written for the tlib format is refused in jsonl (exit 2), so no output is cut at a wrong offset."""
    (tmp / "raw/a.log").write_bytes(messages(0, 2))
    assert Follow(tmp).stop() == 0
    again = Follow(tmp, "--format", "jsonl")
    assert again.proc.wait(timeout=20) == 2
    assert "belongs to --format tlib, not jsonl" in again.stderr
