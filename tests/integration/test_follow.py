"""`logfilter follow` as a real process on real files: growth, rotation, restarts, signals, HTTP."""

from __future__ import annotations

import gzip
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import GOLDEN, SAMPLES, canaries, run_logfilter

FILTER = SAMPLES / "filter.ini"

# One C message whose PASSWORD (hidden by samples/filter.ini) is a canary; {n} makes each unique.
MESSAGE = (
    "@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n"
    "\tAttributeThisDN\t'{n}'\n"
    "\tAttributeUserData\t[561] 00 14 00 00..\n"
    "\t\t'PASSWORD'\t'CanaryPw{n}x'\n"
    "\t\t'RTenant'\t'Resources'\n"
    "\tAttributeConnID\t006c029a6685d004\n"
    "12:00:00.{n:03d} Std 00000 event {n} done\n"
)


def messages(start: int, count: int) -> bytes:
    return "".join(MESSAGE.format(n=n) for n in range(start, start + count)).encode()


def masked(data: bytes, *args: str) -> bytes:
    """What `logfilter run` makes of `data`: the output follow must equal."""
    result = run_logfilter("run", "-c", FILTER, *args, stdin=data)
    assert result.returncode == 0, result.stderr
    return result.stdout


def eventually(check: Callable[[], bool], timeout: float = 10, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as stream:
        stream.write(data)


class Follow:
    """One `logfilter follow` process over tmp/raw into tmp/clean (or stdout), state in tmp/state."""

    def __init__(
        self, tmp: Path, *args: str, patterns: tuple[str, ...] = ("raw/*.log",), stdout: bool = False,
        wrap: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """Start it; `wrap` goes before the command (e.g. strace, or prlimit)."""
        self.tmp = tmp
        self.err_path = tmp / f"stderr-{time.monotonic_ns()}.txt"
        self.out_path = tmp / f"stdout-{time.monotonic_ns()}.txt"
        target = ["--stdout"] if stdout else ["-o", "clean"]
        command = [*wrap, sys.executable, "-m", "logfilter", "follow", "-c", str(FILTER), *patterns, *target,
                   "--state", "state/follow.json", *args]  # fmt: skip
        with open(self.err_path, "wb") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(command, cwd=tmp, stdout=out, stderr=err, env=_FAULTHANDLER)
        _running.append(self.proc)
        eventually(lambda: (tmp / "state/follow.json").exists() or self.proc.poll() is not None, what="start")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    @property
    def stdout(self) -> bytes:
        return self.out_path.read_bytes()

    def port(self) -> int:
        eventually(lambda: "listening on" in self.stderr, what="the listen line")
        match = re.search(r"listening on [\d.]+:(\d+)", self.stderr)
        assert match
        return int(match.group(1))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port()}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack on stderr
            self.proc.wait(timeout=20)
            pytest.fail(f"follow did not stop on signal {signum}; its stderr:\n{self.stderr}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=20)


_running: list[subprocess.Popen[bytes]] = []
_FAULTHANDLER = {**os.environ, "PYTHONFAULTHANDLER": "1"}  # a hung follower can be asked where it is


@pytest.fixture
def tmp(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "raw").mkdir()
    yield tmp_path
    while _running:  # a failed test leaves no follower behind
        proc = _running.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class TestGrowth:
    def test_appended_messages_come_out_masked_and_whole(self, tmp: Path) -> None:
        """Messages appended while following reach the output, masked, equal to `run` over the file."""
        log = tmp / "raw/tserver.log"
        log.write_bytes(messages(0, 3))
        follow = Follow(tmp)
        for start in (3, 10, 20):
            append(log, messages(start, 5))
            eventually(lambda: read(tmp / "clean/tserver.log") == masked(log.read_bytes()), what="the output")
        assert b"CanaryPw" not in read(tmp / "clean/tserver.log")
        assert follow.stop() == 0

    def test_a_message_split_across_writes_waits_for_its_end(self, tmp: Path) -> None:
        """A line written in two parts, with a pause between, is emitted only whole and masked right."""
        log = tmp / "raw/a.log"
        log.write_bytes(b"")
        follow = Follow(tmp)
        whole = messages(0, 2)
        cut = whole.index(b"'CanaryPw1") + 5  # inside the second message's secret value
        append(log, whole[:cut])
        time.sleep(1.5)  # longer than the hold: the complete lines before the cut go out
        partial = read(tmp / "clean/a.log")
        assert partial == masked(whole[: whole.rfind(b"\n", 0, cut) + 1])
        append(log, whole[cut:])
        eventually(lambda: read(tmp / "clean/a.log") == masked(whole), what="the rest")
        assert b"CanaryPw" not in read(tmp / "clean/a.log")
        assert follow.stop() == 0

    def test_a_message_is_out_within_about_a_second(self, tmp: Path) -> None:
        """The last message of a quiet file is emitted within about a second, with no later line."""
        log = tmp / "raw/a.log"
        log.write_bytes(b"")
        follow = Follow(tmp)
        expected = masked(messages(0, 1))
        time.sleep(0.3)
        append(log, messages(0, 1))
        started = time.monotonic()
        eventually(lambda: read(tmp / "clean/a.log") == expected, timeout=5, what="the message")
        assert time.monotonic() - started < 1.5
        assert follow.stop() == 0


class TestRotation:
    def test_new_segments_are_followed_from_their_start(self, tmp: Path) -> None:
        """Genesys-style segments: each new file gets its own output of the same name."""
        follow = Follow(tmp)
        names = [f"SIPServer.20261122_1015{second:02d}_123.log" for second in range(3)]
        for number, name in enumerate(names):
            (tmp / "raw" / name).write_bytes(messages(number * 10, 4))
        for name in names:
            eventually(lambda name=name: read(tmp / "clean" / name) == masked(read(tmp / "raw" / name)), what=name)
        assert follow.stop() == 0

    def test_a_deleted_segment_is_finished_while_open(self, tmp: Path) -> None:
        """Text written to a segment just before it is deleted still reaches its output."""
        old = tmp / "raw/SIPServer.1.log"
        old.write_bytes(messages(0, 2))
        follow = Follow(tmp)
        eventually(lambda: read(tmp / "clean/SIPServer.1.log") == masked(messages(0, 2)), what="the first part")
        with open(old, "ab") as writer:  # the server still has it open
            old.unlink()
            writer.write(messages(2, 3))
        eventually(lambda: "finished" in follow.stderr, what="the deleted file to be finished")
        assert read(tmp / "clean/SIPServer.1.log") == masked(messages(0, 5))
        assert "deleted" in follow.stderr
        assert follow.stop() == 0

    @pytest.mark.parametrize("pattern", ["raw/*.log", "raw/*.log*"])
    def test_rename_rotation_keeps_every_line(self, tmp: Path, pattern: str) -> None:
        """logrotate's rename: the old file is finished under its new name, the new one starts over."""
        log = tmp / "raw/tserver.log"
        writer = open(log, "ab", buffering=0)  # noqa: SIM115 - the server's handle, kept across the rename
        writer.write(messages(0, 3))
        follow = Follow(tmp, patterns=(pattern,))
        eventually(lambda: read(tmp / "clean/tserver.log") == masked(messages(0, 3)), what="the first part")
        log.rename(tmp / "raw/tserver.log.1")
        writer.write(messages(3, 2))  # written after the rename, before the server reopens
        writer.close()
        log.write_bytes(messages(100, 2))
        eventually(lambda: read(tmp / "clean/tserver.log.1") == masked(messages(0, 5)), what="the rotated file")
        eventually(lambda: read(tmp / "clean/tserver.log") == masked(messages(100, 2)), what="the new file")
        assert follow.stop() == 0

    @pytest.mark.parametrize(("pattern", "pause"), [("raw/*.log", 0), ("raw/*.log*", 1.2)])
    def test_copytruncate_finishes_the_old_text_from_its_copy(self, tmp: Path, pattern: str, pause: float) -> None:
        """copytruncate: text not yet read before the truncation is taken from the copy; nothing twice.

        With a pause, the follower sees the copy (under a followed name) before the truncation.
        """
        log = tmp / "raw/tserver.log"
        log.write_bytes(messages(0, 20))  # more than the 1 KiB fingerprint
        follow = Follow(tmp, patterns=(pattern,))
        eventually(lambda: read(tmp / "clean/tserver.log") == masked(messages(0, 20)), what="the first part")
        follow.proc.send_signal(signal.SIGSTOP)  # the next text, the copy and the truncation between two looks
        try:
            append(log, messages(20, 2))
            shutil.copyfile(log, tmp / "raw/tserver.log.1")
            follow.proc.send_signal(signal.SIGCONT)
            time.sleep(pause)
            follow.proc.send_signal(signal.SIGSTOP)
            with open(log, "r+b") as stream:
                stream.truncate(0)
            append(log, messages(200, 1))
        finally:
            follow.proc.send_signal(signal.SIGCONT)
        eventually(lambda: read(tmp / "clean/tserver.log.1") == masked(messages(0, 22)), what="the copy's output")
        eventually(lambda: read(tmp / "clean/tserver.log") == masked(messages(200, 1)), what="the new text")
        assert "truncated" in follow.stderr
        assert follow.stop() == 0


class TestNotText:
    def test_utf16_and_compressed_files_are_not_followed(self, tmp: Path) -> None:
        """A UTF-16 or gzip file under a followed name is named on stderr and never copied out."""
        (tmp / "raw/win.log").write_bytes(messages(0, 2).decode().encode("utf-16"))
        (tmp / "raw/old.log").write_bytes(gzip.compress(messages(0, 2)))
        (tmp / "raw/a.log").write_bytes(messages(0, 1))
        follow = Follow(tmp)
        eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 1)), what="the text log")
        assert follow.stop() == 0
        assert not (tmp / "clean/win.log").exists() and not (tmp / "clean/old.log").exists()
        assert "win.log: binary data, not a text log; not followed" in follow.stderr
        assert "old.log: gzip data, not a text log; not followed" in follow.stderr


class TestRestart:
    def test_sigterm_drains_and_a_restart_adds_nothing_twice(self, tmp: Path) -> None:
        """SIGTERM: complete lines go out, exit 0; a restart resumes without repeating a record."""
        log = tmp / "raw/a.log"
        log.write_bytes(b"")
        follow = Follow(tmp)
        append(log, messages(0, 3))
        assert follow.stop() == 0
        assert read(tmp / "clean/a.log") == masked(messages(0, 3))
        again = Follow(tmp)
        append(log, messages(3, 2))
        eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 5)), what="the resumed output")
        assert again.stop() == 0
        assert "resuming" in again.stderr

    def test_kill_9_at_random_points_loses_and_repeats_nothing(self, tmp: Path) -> None:
        """Twelve kill -9 restarts while a writer appends and rotates segments: outputs equal `run`."""
        rng = random.Random(5)
        corpus = b"".join(
            (case / "input.log").read_bytes() for case in sorted(GOLDEN.iterdir())
            if (case / "input.log").exists() and (case / "input.log").read_bytes().endswith(b"\n")
        ) + messages(0, 200)  # fmt: skip
        segments = [tmp / f"raw/seg.{number}.log" for number in range(4)]
        pieces: list[tuple[Path, bytes]] = []
        for segment in segments:
            data, at = corpus, 0
            while at < len(data):
                size = rng.randint(1, 4000)
                pieces.append((segment, data[at : at + size]))
                at += size
        per_round = len(pieces) // 12 + 1
        for _ in range(12):
            follow = Follow(tmp, "--default", "hide")
            for segment, data in pieces[:per_round]:
                append(segment, data)
                if rng.random() < 0.2:
                    time.sleep(rng.random() * 0.05)
            del pieces[:per_round]
            time.sleep(rng.random() * 0.6)
            follow.kill()
        assert not pieces
        follow = Follow(tmp, "--default", "hide")
        for segment in segments:
            expected = masked(segment.read_bytes(), "--default", "hide")
            eventually(lambda: read(tmp / "clean" / segment.name) == expected, timeout=20, what=segment.name)
        assert follow.stop() == 0
        leaked = [canary for canary in canaries() for segment in segments if canary in read(tmp / "clean" / segment.name)]
        assert not leaked

    def test_stdout_resends_after_kill_and_says_how_many(self, tmp: Path) -> None:
        """With --stdout a restart after kill -9 loses nothing and logs the number of messages sent again."""
        log = tmp / "raw/a.log"
        log.write_bytes(messages(0, 50))
        first = Follow(tmp, stdout=True)
        eventually(lambda: first.stdout.count(b"distribute_event") == 50, what="the first messages")
        first.kill()
        append(log, messages(50, 5))
        second = Follow(tmp, stdout=True)
        eventually(lambda: second.stdout.count(b"distribute_event") >= 5, what="the resumed messages")
        assert second.stop() == 0
        seen = first.stdout + second.stdout
        for n in range(55):
            assert f"'{n}'".encode() in seen
        match = re.search(r"sending (\d+) messages again", second.stderr)
        resent = int(match.group(1)) if match else 0
        assert second.stdout.count(b"distribute_event") == 5 + resent
        assert b"CanaryPw" not in seen


class TestStdout:
    def test_messages_of_several_files_are_never_cut(self, tmp: Path) -> None:
        """Messages from two files written at once come out whole, each one in one piece."""
        follow = Follow(tmp, stdout=True)
        for start in range(0, 40, 4):
            append(tmp / "raw/a.log", messages(start, 2))
            append(tmp / "raw/b.log", messages(1000 + start, 2))
        eventually(lambda: follow.stdout.count(b"distribute_event") == 40, what="every message")
        assert follow.stop() == 0
        # A message is its header and the indented lines under it (formats.md).
        records = re.findall(rb"@10:26:01[^\n]*\n(?:[ \t][^\n]*\n)*", follow.stdout)
        assert len(records) == 40
        for record in records:
            n = int(re.search(rb"AttributeThisDN\t'(\d+)'", record).group(1))  # type: ignore[union-attr]
            message = masked(MESSAGE.format(n=n).encode())
            assert record == message[: message.index(b"\n12:00") + 1]


class TestSignals:
    def test_sighup_reloads_the_rules(self, tmp: Path) -> None:
        """SIGHUP takes a valid new config; an invalid one is reported and the old rules stay."""
        config = tmp / "filter.ini"
        config.write_text("[log-filter-data]\nPASSWORD=hide\n")
        log = tmp / "raw/a.log"
        log.write_bytes(messages(0, 1))
        follow = Follow(tmp, "-c", str(config))
        eventually(lambda: b"'****'" in read(tmp / "clean/a.log"), what="the first message")
        config.write_text("[log-filter-data]\nPASSWORD=unhide-last,2\n")
        follow.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "reloaded" in follow.stderr, what="the reload")
        append(log, messages(1, 1))
        eventually(lambda: b"'********1x'" in read(tmp / "clean/a.log"), what="the new rule")
        config.write_text("[log-filter-data]\nPASSWORD=hdie\n")
        follow.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "keeping the rules in use" in follow.stderr, what="the refusal")
        assert "filter.ini:2: [log-filter-data] PASSWORD: unknown filter type" in follow.stderr
        append(log, messages(2, 1))
        eventually(lambda: b"'********2x'" in read(tmp / "clean/a.log"), what="the kept rule")
        assert follow.proc.poll() is None
        assert follow.stop() == 0
        assert b"CanaryPw" not in read(tmp / "clean/a.log")


    def test_sighups_around_the_stop_never_kill_it(self, tmp: Path) -> None:
        """SIGHUPs while it runs, while it stops and after: it stops on SIGTERM with status 0 and says
        so (the handlers take no lock; once the stop begins a SIGHUP is ignored, not left to the
        default action while Python exits)."""
        (tmp / "raw/a.log").write_bytes(messages(0, 2))
        follow = Follow(tmp)
        eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 2)), what="the output")
        stop = threading.Event()

        def hups() -> None:
            while not stop.is_set() and follow.proc.poll() is None:
                try:
                    follow.proc.send_signal(signal.SIGHUP)
                except ProcessLookupError:
                    return
                time.sleep(0.0005)

        sender = threading.Thread(target=hups)
        sender.start()
        try:
            time.sleep(0.5)
            code = follow.stop()
        finally:
            stop.set()
            sender.join()
        assert code == 0, follow.stderr
        assert "stopped:" in follow.stderr

class TestHTTP:
    def test_metrics_count_what_was_fed(self, tmp: Path) -> None:
        """/metrics reports bytes, lines, messages, masked values, files and lag for what was written."""
        data = messages(0, 7)
        (tmp / "raw/a.log").write_bytes(data)
        follow = Follow(tmp, "--listen", "127.0.0.1:0")
        eventually(lambda: read(tmp / "clean/a.log") == masked(data), what="the output")
        status, text = follow.get("/metrics")
        assert status == 200
        metrics = dict(re.findall(r"^(logfilter_\S+) (\S+)$", text, re.M))
        assert float(metrics["logfilter_input_bytes_total"]) == len(data)
        assert float(metrics["logfilter_output_bytes_total"]) == len(masked(data))
        assert float(metrics["logfilter_input_lines_total"]) == data.count(b"\n")
        assert float(metrics["logfilter_messages_total"]) == 7
        assert float(metrics['logfilter_values_masked_total{filter_type="hide"}']) == 7
        assert float(metrics["logfilter_files_followed"]) == 1
        assert float(metrics['logfilter_lag_bytes{file="raw/a.log"}']) == 0
        assert "CanaryPw" not in text
        assert follow.get("/healthz") == (200, "following\n")
        assert follow.stop() == 0

    def test_a_rule_that_matches_no_key_is_said_once_and_shown(self, tmp: Path) -> None:
        """Issue 20.1: `Password=hide` where the log says PASSWORD is named once on stderr with the
        key it meant and shown in /metrics; PASSWORD's own rule is not, and health stays 200."""
        (tmp / "raw/a.log").write_bytes(messages(0, 3))
        follow = Follow(tmp, "--listen", "127.0.0.1:0", "--key", "Password=hide")
        eventually(lambda: "matched no key" in follow.stderr, what="the warning")
        status, text = follow.get("/metrics")
        assert status == 200 and 'logfilter_rules_unmatched{rule="Password"} 1.0' in text
        assert "logfilter_rules_unmatched{rule=\"PASSWORD\"}" not in text
        assert follow.get("/healthz") == (200, "following\n")
        append(tmp / "raw/a.log", messages(3, 2))
        assert follow.stop() == 0
        said = [line for line in follow.stderr.splitlines() if "rule Password" in line]
        assert said == [
            "logfilter: warning: --key: the rule Password=hide matched no key in the logs read; did you mean "
            "PASSWORD? (keys match case and spelling exactly)"
        ]

    def test_healthz_is_503_while_an_output_cannot_be_written(self, tmp: Path) -> None:
        """/healthz turns 503 with the reason when an output cannot be written, and 200 once it can."""
        (tmp / "clean/b.log").mkdir(parents=True)  # in the way of b.log's output
        follow = Follow(tmp, "--listen", "127.0.0.1:0")
        (tmp / "raw/b.log").write_bytes(messages(0, 1))
        # 503 also says "starting" until the first look is done: wait for the reason itself
        eventually(lambda: "cannot write" in follow.get("/healthz")[1], what="the reason")
        status, reason = follow.get("/healthz")
        assert status == 503 and "clean/b.log" in reason and "cannot write" in reason
        (tmp / "clean/b.log").rmdir()
        eventually(lambda: follow.get("/healthz")[0] == 200, what="200 again")
        eventually(lambda: read(tmp / "clean/b.log") == masked(messages(0, 1)), what="the output")
        assert follow.stop() == 0

    def test_a_non_loopback_address_needs_listen_any(self, tmp: Path) -> None:
        """--listen on an address other machines reach is refused unless --listen-any is given."""
        result = run_logfilter("follow", "-c", FILTER, str(tmp / "raw/*.log"), "-o", tmp / "clean",
                               "--state", tmp / "state.json", "--listen", "0.0.0.0:0")  # fmt: skip
        assert result.returncode == 2 and "--listen-any" in result.stderr


class TestUsage:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["-o", "clean", "--stdout"], "exactly one of -o OUTDIR and --stdout"),
            ([], "exactly one of -o OUTDIR and --stdout"),
            (["-o", "clean", "--listen", "nonsense"], "expected HOST:PORT"),
            (["-o", "raw"], "OUTDIR holds the files raw/*.log follows"),
            (["-o", "."], "OUTDIR holds the files raw/*.log follows"),
        ],
    )
    def test_bad_flags_exit_2(self, tmp: Path, args: list[str], message: str) -> None:
        """Bad flag combinations are refused with a clear message and exit 2."""
        result = run_logfilter("follow", "-c", FILTER, "raw/*.log", "--state", "s.json", *args, cwd=tmp)
        assert result.returncode == 2 and message in result.stderr

    def test_a_damaged_state_entry_is_refused(self, tmp: Path) -> None:
        """A state file whose entry lacks fields is refused with exit 2, not an internal error."""
        state = tmp / "s.json"
        state.write_text(f'{{"version":1,"output":"{(tmp / "clean").resolve()}","files":[{{"dev":1}}]}}')
        result = run_logfilter("follow", "-c", FILTER, "raw/*.log", "-o", "clean", "--state", state, cwd=tmp)
        assert result.returncode == 2 and "a file entry of the state file is damaged" in result.stderr

    def test_a_second_follower_on_the_same_state_is_refused(self, tmp: Path) -> None:
        """Two followers never share a state file: the second exits 2."""
        follow = Follow(tmp)
        second = run_logfilter("follow", "-c", FILTER, "raw/*.log", "-o", "other", "--state", "state/follow.json", cwd=tmp)
        assert second.returncode == 2 and "another logfilter" in second.stderr
        assert follow.stop() == 0


# A message whose KV block holds a line the grammar refuses (an unquoted value that is no integer).
BAD = messages(900, 1).replace(b"\t\t'RTenant'", b"\t\t'Broken'\tzz-not-a-value\n\t\t'RTenant'")


class TestOnErrorFail:
    @pytest.mark.slow
    def test_a_failed_file_stays_failed_and_the_sidecar_stays_up(self, tmp: Path) -> None:
        """--on-error fail (issue 20.7): the file with the bad line stops there, is marked failed in the
        state and on /healthz (503, with the reason); the other files go on; a restart does not fail
        the same line again; a new file under its name is followed."""
        bad, good = tmp / "raw/a.log", tmp / "raw/b.log"
        bad.write_bytes(messages(0, 2) + BAD + messages(3, 2))
        good.write_bytes(messages(10, 2))
        run = run_logfilter("run", "-c", FILTER, "--on-error", "fail", "raw/a.log", cwd=tmp)
        assert run.returncode == 3
        follow = Follow(tmp, "--on-error", "fail", "--listen", "127.0.0.1:0")
        eventually(lambda: "stopped (--on-error fail)" in follow.stderr, what="the failure")
        append(good, messages(12, 2))
        eventually(lambda: read(tmp / "clean/b.log") == masked(messages(10, 4)), what="the other file, followed on")
        assert follow.proc.poll() is None
        status, reason = follow.get("/healthz")
        assert status == 503
        assert "raw/a.log:19: unparsable line in an AttributeUserData block; stopped (--on-error fail)" in reason
        assert "raw/a.log:19: unparsable line" in run.stderr  # where run stops too
        assert "logfilter_files_failed 1.0" in follow.get("/metrics")[1]
        assert read(tmp / "clean/a.log") == run.stdout
        assert follow.stop() == 3
        assert "error: not followed to their end (--on-error fail): raw/a.log" in follow.stderr

        again = Follow(tmp, "--on-error", "fail", "--listen", "127.0.0.1:0")
        append(good, messages(14, 1))
        eventually(lambda: read(tmp / "clean/b.log") == masked(messages(10, 5)), what="the other file, resumed")
        assert again.get("/healthz")[0] == 503
        assert again.stderr.count("stopped (--on-error fail)") == 1, again.stderr  # the reason, said once
        assert again.proc.poll() is None
        assert read(tmp / "clean/a.log") == run.stdout  # neither read again nor cut back

        bad.rename(tmp / "raw/a.log.old")  # rotated away: no longer followed, and no longer a problem
        bad.write_bytes(messages(20, 2))
        eventually(lambda: again.get("/healthz")[0] == 200, what="200 once the failed file is gone")
        eventually(lambda: read(tmp / "clean/a.log") == masked(messages(20, 2)), what="the new file")
        assert again.stop() == 0
        for name in ("a.log", "b.log"):
            assert b"CanaryPw" not in read(tmp / "clean" / name)


class TestUnmatched:
    @pytest.mark.slow
    def test_a_pattern_that_matches_nothing_is_said_shown_and_counted(self, tmp: Path) -> None:
        """Issue 20.3: a pattern matching no file is named on stderr at the start (not every second),
        noted on /healthz and counted in /metrics; once no pattern has matched for the grace period
        /healthz is 503; one matching pattern among several is enough for 200."""
        patterns = ("raw/*.log", "other/*.err")
        follow = Follow(tmp, "--listen", "127.0.0.1:0", "--unmatched-grace", "0", patterns=patterns)
        # ("starting" is a 503 too, until the first look is done: wait for the reason itself)
        eventually(lambda: "no file has matched" in follow.get("/healthz")[1], what="503 once the grace period is over")
        status, reason = follow.get("/healthz")
        assert status == 503 and "no file has matched 'raw/*.log', 'other/*.err' for 0 s" in reason
        assert follow.stop() == 0

        follow = Follow(tmp, "--listen", "127.0.0.1:0", patterns=patterns)  # the default grace, 300 s
        eventually(lambda: "pattern 'other/*.err' matches no file" in follow.stderr, what="the warning")
        assert "warning: pattern 'raw/*.log' matches no file; waiting for one" in follow.stderr
        eventually(lambda: follow.get("/healthz")[0] == 200, what="following")
        assert follow.get("/healthz") == (200, "following; no file matches 'raw/*.log', 'other/*.err'\n")
        assert "logfilter_patterns_unmatched 2.0" in follow.get("/metrics")[1]
        time.sleep(2.5)  # a few more looks
        assert follow.stderr.count("pattern 'raw/*.log' matches no file") == 1  # not every second
        (tmp / "raw/a.log").write_bytes(messages(0, 1))
        eventually(lambda: read(tmp / "clean/a.log") == masked(messages(0, 1)), what="the output")
        assert "pattern 'raw/*.log' matches a file now" in follow.stderr
        assert follow.get("/healthz") == (200, "following; no file matches 'other/*.err'\n")
        assert "logfilter_patterns_unmatched 1.0" in follow.get("/metrics")[1]
        assert follow.stop() == 0
