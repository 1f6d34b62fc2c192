"""follow/tail.py: split points, and checkpoints from which a fresh walk writes exactly what follows."""

from __future__ import annotations

import os
import resource
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from logfilter.engines.scanner import Scanner
from logfilter.errors import LogFilterError
from logfilter.follow.outputs import FINGERPRINT, Checkpoint, FileOutput, Fingerprint
from logfilter.follow.tail import HOLD, Tail
from logfilter.parsing.events import last_event, last_split
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.sources.sniff import SNIFF_SIZE, sniff
from logfilter.stats import Stats
from tests.conftest import load_keyed_policy
from tests.strategies import log_text, policy_args
from tests.unit.test_differential import mask


class TestLastEvent:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"", -1),
            (b"free text\n", -1),  # no log event: none
            (b"12:00:00.000 Std 00000 a\n\tkv\n", 0),
            (b"12:00:00.000 Std 00000 a\n\n", 0),  # an empty line may be inside a value
            (b"12:00:00.000 Std 00000 a\nmessage EventX\n\t\t'k'\t'open\nmore text\nend'\n", 0),
            (b"12:00:00 a\n", -1),  # not a Genesys event line (no milliseconds, level, id)
            (b"a\n@10:26:01.5600 b\n\t'k'\t'open\nCANARY\n", 2),
            (b"a\r\n12:00:00.000 Trc 04541 b\r\n", 3),
        ],
    )
    def test_finds_the_last_event_start(self, data: bytes, expected: int) -> None:
        """--from-end starts at a log event, never at a column-0 line inside a value printed over lines."""
        assert last_event(data) == expected


class TestLastSplit:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"", -1),
            (b"\tindented\n", -1),
            (b"free\n", 0),
            (b"free\n\tkv\n\tkv\n", 0),
            (b"a\nb\n\tc\n", 2),
            (b"a\n\n\tc\n", 2),  # an empty line ends a message
            (b"a\n\r\n\tc\n", 2),
            (b"a\n\r\r\n", 0),  # a line of a lone CR starts with a blank: not empty
            (b"'Req' ('30')\nmessage attributes:\nAttributeConnID [long] = 1\n", 0),
            (b"x Trc 04541 RequestX received\nmessage RequestX\n\tAttributeUserData\t[1] 00..\n", 0),
        ],
    )
    def test_finds_the_last_record_start(self, data: bytes, expected: int) -> None:
        """The last split point is the last empty line or column-0 line that does not continue a message."""
        assert last_split(data) == expected


def _tail(path: Path, out: Path, chain, at: Checkpoint) -> Tail:  # noqa: ANN001
    fd = os.open(path, os.O_RDONLY)
    stats = Stats()
    info = os.fstat(fd)
    output = FileOutput(out, keep=at.out)
    return Tail(path, fd, (info.st_dev, info.st_ino), output, Scanner(chain, stats, lambda *_: None), stats, at)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log_text(), policy_args(), st.lists(st.tuples(st.integers(1, 60), st.booleans()), min_size=1, max_size=30))
@example(b"@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n\r'", ("copy", (), False), [(1, True)])
def test_every_checkpoint_resumes_to_the_same_bytes(data: bytes, policy: tuple, writes: list) -> None:
    """Written in pieces with pauses, a file comes out as `run` makes it; so does a restart at any checkpoint."""
    assume(sniff(data[:SNIFF_SIZE]) != "binary")  # follow never takes such a file; run refuses it
    default, keys, fold = policy
    chain = compile_policy(load_keyed_policy(None, default, keys, fold))
    expected = mask(data, chain, "reference", 1 << 20)[0]
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder, "in.log"), Path(folder, "out.log")
        path.write_bytes(b"")
        tail = _tail(path, out, chain, Checkpoint(0, 0, 0))
        checkpoints, at, now = [], 0, 0.0
        with open(path, "ab", buffering=0) as writer:
            for size, pause in writer_plan(writes, len(data)):
                writer.write(data[at : at + size])
                at += size
                now += 0.01
                tail.step(now)
                if pause:  # quiet for longer than HOLD: the record in progress goes out
                    now += HOLD * 2
                    tail.step(now)
                checkpoints.append(tail.checkpoint)
        tail.finish()
        os.close(tail.fd)
        assert out.read_bytes() == expected
        for point in checkpoints:
            assert point.line == data[: point.offset].count(b"\n")
            rest = data[point.offset :]
            if sniff(rest[:SNIFF_SIZE]) == "binary":
                continue  # `run` of the rest alone refuses it (e.g. `\r'`: CR-only); follow judges the file's head
            assert mask(rest, chain, "fast", 1 << 20)[0] == expected[point.out :]
        point = checkpoints[len(checkpoints) // 2]  # a restart there: cut back, then go on
        again = _tail(path, out, chain, point)
        again.finish()
        assert out.read_bytes() == expected


def writer_plan(writes: list[tuple[int, bool]], total: int) -> list[tuple[int, bool]]:
    """Write sizes (cycled) that add up to `total`, each with whether a pause follows."""
    plan, left, turn = [], total, 0
    while left > 0:
        size, pause = writes[turn % len(writes)]
        plan.append((min(size, left), pause))
        left -= size
        turn += 1
    return plan or [(0, True)]


class TestFingerprint:
    def test_tells_files_apart_by_their_first_bytes(self, tmp_path: Path) -> None:
        """A fingerprint matches the file it was taken of, and not one with other first bytes."""
        one, two = tmp_path / "one", tmp_path / "two"
        one.write_bytes(b"A" * 2000)
        two.write_bytes(b"A" * 1000 + b"B" * 1000)
        fd_one, fd_two = os.open(one, os.O_RDONLY), os.open(two, os.O_RDONLY)
        try:
            taken = Fingerprint.of(fd_one)
            assert taken.size == FINGERPRINT and taken.matches(fd_one) and not taken.matches(fd_two)
            assert Fingerprint.of(fd_one, 1000).matches(fd_two)  # they start alike
        finally:
            os.close(fd_one)
            os.close(fd_two)


class TestFileOutput:
    def test_cuts_back_to_the_checkpoint(self, tmp_path: Path) -> None:
        """Opened with `keep`, an output keeps that many bytes and writes after them."""
        path = tmp_path / "out.log"
        path.write_bytes(b"kept|dropped")
        output = FileOutput(path, keep=5)
        output.write(b"new")
        output.close()
        assert path.read_bytes() == b"kept|new"
        assert FileOutput.size_of(tmp_path / "missing") == -1


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Files of this process cannot grow past `limit` bytes meanwhile: a write there fails with EFBIG
    (Python ignores SIGXFSZ)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


MESSAGE = b"message EventRinging\n\tAttributeUserData\t[5] 00..\n\t\t'PASSWORD'\t'CanaryTail%d'\n\n"


class TestFailedWrites:
    def test_a_failed_write_keeps_the_checkpoint_and_the_records_for_the_next_step(self, tmp_path: Path) -> None:
        """An output write that fails leaves the output and the checkpoint where they were; the next step
        writes the records it kept, once, and only then moves the checkpoint."""
        chain = compile_policy(load_policy(None, "copy", ("PASSWORD=hide",)))
        first, more = b"".join(MESSAGE % n for n in range(3)), b"".join(MESSAGE % n for n in range(3, 9))
        path, out = tmp_path / "in.log", tmp_path / "out.log"
        path.write_bytes(first)
        tail = _tail(path, out, chain, Checkpoint(0, 0, 0))
        tail.step(0.0)
        tail.step(HOLD * 2)  # quiet: the last record goes out too
        written, at = out.read_bytes(), tail.checkpoint
        assert written == mask(first, chain, "reference", 1 << 20)[0] and at.offset == len(first)
        with open(path, "ab") as stream:
            stream.write(more)
        with file_size_limit(len(written) + 10), pytest.raises(LogFilterError, match="File too large"):
            tail.step(HOLD * 3)
        assert out.read_bytes() == written  # what went out of the failed write was cut back
        assert tail.checkpoint == at
        tail.finish()
        os.close(tail.fd)
        assert out.read_bytes() == mask(first + more, chain, "reference", 1 << 20)[0]
        assert tail.checkpoint == Checkpoint(len(first + more), (first + more).count(b"\n"), out.stat().st_size)
