"""`logfilter follow` meets values printed over several lines (issue 8): no boundary inside one.

A KV value left open by a failed line masks the lines after it, column-0 lines too, up to its
closing quote or a new log event. Reloads, --from-end and the JSON objects of follow must not
take a point inside such a value for the start of a record.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.conftest import run_logfilter
from tests.integration import test_follow
from tests.integration.test_follow import Follow, append, eventually, read

RULES = "[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPASSWORD=hide\nNotes=hide\n"
# A KV line whose value a line feed cut: the lines after it continue the value, at column 0.
OPEN = b"message RequestAttachUserData\n\tAttributeUserData\t[5] 00..\n\t\t'Notes'\t'first CANARY1\n"
REST = b"CANARY2\nCANARY4 end'\n\t\t'PASSWORD'\t'CANARY5'\n"
AFTER = b"12:00:00.001 Std 00000 event done\n"

tmp = test_follow.tmp  # the fixture: tmp/raw to follow


def rules(tmp: Path) -> Path:
    (tmp / "r.ini").write_text(RULES)
    return tmp / "r.ini"


def run_of(tmp: Path, data: bytes, *args: str) -> bytes:
    """What `logfilter run` makes of `data` under r.ini: what follow must write."""
    result = run_logfilter("run", "-c", rules(tmp), *args, stdin=data)
    assert result.returncode == 0, result.stderr
    return result.stdout


def no_canary(data: bytes) -> None:
    assert b"CANARY" not in data, data


def test_a_reload_inside_an_open_value_waits_for_its_end(tmp: Path) -> None:
    """SIGHUP while a value is open: the new rules start after it; its lines stay masked."""
    follow = Follow(tmp, "-c", str(rules(tmp)))
    log = tmp / "raw/a.log"
    log.write_bytes(OPEN)
    eventually(lambda: b"'****'" in read(tmp / "clean/a.log"), what="the open value")
    follow.proc.send_signal(signal.SIGHUP)
    eventually(lambda: "reloaded" in follow.stderr, what="the reload")
    append(log, REST + AFTER)
    expected = run_of(tmp, OPEN + REST + AFTER)
    eventually(lambda: read(tmp / "clean/a.log") == expected, what="the rest")
    assert follow.stop() == 0
    no_canary(read(tmp / "clean/a.log"))


def test_a_reload_between_reads_of_an_open_value_waits_for_its_end(tmp: Path) -> None:
    """A rules-file edit with the value's lines coming one by one: no line after the edit is in clear."""
    follow = Follow(tmp, "-c", str(rules(tmp)))
    log = tmp / "raw/a.log"
    log.write_bytes(OPEN)
    eventually(lambda: b"'****'" in read(tmp / "clean/a.log"), what="the open value")
    (tmp / "r.ini").write_text(RULES + "RTenant=hide\n")
    eventually(lambda: "reloaded" in follow.stderr, what="the reload")
    for line in (REST + AFTER).splitlines(keepends=True):
        append(log, line)
        time.sleep(0.1)
    expected = run_of(tmp, OPEN + REST + AFTER)
    eventually(lambda: read(tmp / "clean/a.log") == expected, what="the rest")
    assert follow.stop() == 0
    no_canary(read(tmp / "clean/a.log"))


def test_from_end_never_starts_inside_a_value(tmp: Path) -> None:
    """--from-end on a file whose last lines continue an open value: it starts at the message, not in it."""
    log = tmp / "raw/a.log"
    head = b"12:00:00.000 Std 00000 earlier event\n"
    event = b"12:00:00.500 Trc 04541 RequestAttachUserData received from [7] (app)\n"
    log.write_bytes(head + event + OPEN + REST)
    follow = Follow(tmp, "-c", str(rules(tmp)), "--from-end")
    append(log, AFTER)
    expected = run_of(tmp, event + OPEN + REST + AFTER)
    eventually(lambda: read(tmp / "clean/a.log") == expected, what="the last message and the new line")
    assert follow.stop() == 0
    no_canary(read(tmp / "clean/a.log"))
    assert "from line 2" in follow.stderr


def test_jsonl_pairs_after_a_value_read_in_pieces_are_kept(tmp: Path) -> None:
    """--format jsonl, a multi-line value arriving line by line (faster than the hold): one object, as run."""
    follow = Follow(tmp, "-c", str(rules(tmp)), "--format", "jsonl")
    log = tmp / "raw/a.log"
    log.write_bytes(b"")
    whole = OPEN + REST + b"\t\t'RTenant'\t'Resources'\n" + AFTER
    for line in whole.splitlines(keepends=True):
        append(log, line)
        time.sleep(0.1)
    result = run_logfilter("run", "-c", rules(tmp), "--format", "jsonl", "raw/a.log", cwd=tmp)
    expected = result.stdout  # named as follow names it
    eventually(lambda: read(tmp / "clean/a.log.jsonl") == expected, what="run's objects")
    assert follow.stop() == 0
    assert b'"RTenant":"Resources"' in read(tmp / "clean/a.log.jsonl")
    no_canary(read(tmp / "clean/a.log.jsonl"))


def test_jsonl_warnings_say_the_line_is_left_out(tmp: Path) -> None:
    """follow --format jsonl says what run --format jsonl says of a failed line: left out, not masked."""
    log = tmp / "raw/a.log"
    log.write_bytes(OPEN + REST + AFTER)
    follow = Follow(tmp, "-c", str(rules(tmp)), "--format", "jsonl")
    eventually(lambda: read(tmp / "clean/a.log.jsonl").count(b"\n") == 1, what="the object")
    assert follow.stop() == 0
    assert "a.log:3: unparsable line in an AttributeUserData block; left it out (failed closed)" in follow.stderr
    assert "masked it whole" not in follow.stderr


def test_jsonl_around_an_overlong_kv_line_is_one_object_as_run_writes(tmp: Path) -> None:
    """A KV line over 4 MiB under follow --format jsonl: the message is one object, equal to run's."""
    log = tmp / "raw/a.log"
    long = b"\t\t'Notes'\t'" + b"CANARY3 " * (5 << 17) + b"'\n"  # 5 MiB
    log.write_bytes(OPEN[:-len(b"\t\t'Notes'\t'first CANARY1\n")] + long + b"\t\t'RTenant'\t'Resources'\n" + AFTER)
    follow = Follow(tmp, "-c", str(rules(tmp)), "--format", "jsonl")
    result = run_logfilter("run", "-c", rules(tmp), "--format", "jsonl", "raw/a.log", cwd=tmp)
    eventually(lambda: read(tmp / "clean/a.log.jsonl") == result.stdout, timeout=30, what="run's objects")
    assert follow.stop() == 0
    assert read(tmp / "clean/a.log.jsonl").count(b"\n") == 1
    no_canary(read(tmp / "clean/a.log.jsonl"))


def test_jsonl_a_message_ending_in_an_overlong_line_goes_out_when_quiet(tmp: Path) -> None:
    """The last line of a quiet file is a KV line over 4 MiB: its message is written all the same."""
    log = tmp / "raw/a.log"
    follow = Follow(tmp, "-c", str(rules(tmp)), "--format", "jsonl")
    log.write_bytes(OPEN[: -len(b"\t\t'Notes'\t'first CANARY1\n")] + b"\t\t'Notes'\t'" + b"CANARY3 " * (5 << 17) + b"'\n")
    result = run_logfilter("run", "-c", rules(tmp), "--format", "jsonl", "raw/a.log", cwd=tmp)
    eventually(lambda: read(tmp / "clean/a.log.jsonl") == result.stdout, timeout=30, what="run's object")
    assert follow.stop() == 0


def test_on_error_fail_at_an_overlong_kv_line_stops_the_file_once(tmp: Path) -> None:
    """--on-error fail, a KV line over 4 MiB: follow stops as run does, with one error and no stray bytes."""
    log = tmp / "raw/a.log"
    log.write_bytes(OPEN[: -len(b"\t\t'Notes'\t'first CANARY1\n")] + b"\t\t'Notes'\t'" + b"CANARY3 " * (5 << 17) + b"'\n" + AFTER)
    follow = Follow(tmp, "-c", str(rules(tmp)), "--on-error", "fail")
    eventually(lambda: "stopped (--on-error fail)" in follow.stderr, timeout=20, what="the stop")
    assert follow.stop() != 0  # the sidecar stays up for the other files (issue 20.7)
    result = run_logfilter("run", "-c", rules(tmp), "--on-error", "fail", "raw/a.log", cwd=tmp)
    assert result.returncode != 0
    assert read(tmp / "clean/a.log") == result.stdout
    assert follow.stderr.count("stopped (--on-error fail)") == 1, follow.stderr


def test_utf16_text_after_a_first_short_write_is_refused_then(tmp: Path) -> None:
    """A file that starts `x\\n` and then gets UTF-16 KV text: the UTF-16 chunk is never written."""
    log = tmp / "raw/a.log"
    log.write_bytes(b"x\n")
    follow = Follow(tmp, "-c", str(rules(tmp)))
    eventually(lambda: read(tmp / "clean/a.log") == b"x\n", what="the first line")
    append(log, (OPEN + REST).decode().encode("utf-16-le"))
    eventually(lambda: "a.log: binary data, not a text log; not followed" in follow.stderr, what="the refusal")
    append(log, b"more text\n")
    time.sleep(0.7)
    assert follow.stop() == 0
    assert read(tmp / "clean/a.log") == b"x\n"


def test_nul_bytes_first_are_looked_at_again_as_the_file_grows(tmp: Path) -> None:
    """A first write of a few NUL bytes is not refused for good: zero padding then text is followed."""
    log = tmp / "raw/a.log"
    log.write_bytes(b"\0\0\0")
    follow = Follow(tmp, "-c", str(rules(tmp)))
    time.sleep(0.5)
    append(log, b"\0" * 13 + b"\n" + OPEN + REST + AFTER)
    expected = run_of(tmp, log.read_bytes())
    eventually(lambda: read(tmp / "clean/a.log") == expected, what="the text after the padding")
    assert follow.stop() == 0
    assert "not followed" not in follow.stderr
    no_canary(read(tmp / "clean/a.log"))
