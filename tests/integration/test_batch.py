"""`logfilter batch` as a user runs it: real trees, real archives, real processes and signals."""

from __future__ import annotations

import fcntl
import gzip
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import orjson
import pytest

from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import StreamSink
from logfilter.sources.files import StreamSource
from tests.conftest import SAMPLES, canaries, case_args, golden_cases, on_a_terminal, run_logfilter

CONFIG = SAMPLES / "filter.ini"
BINARY = bytes(range(256)) * 8  # a NUL in the first bytes: not a text log
SEGMENT = "SIPServer.20261122_101500_123.log"
# A command prefix that runs a command without the capabilities that let root read any file (as root;
# other users lack them anyway), so that a file's mode decides.
_DAC = "-dac_override,-dac_read_search"
WITHOUT_DAC = ["setpriv", f"--inh-caps={_DAC}", f"--bounding-set={_DAC}", "--"] if os.geteuid() == 0 else []


def masked(data: bytes, config: Path = CONFIG) -> bytes:
    """What `logfilter run -c config` writes for `data` (same engine, in process)."""
    out = io.BytesIO()
    run([StreamSource("<test>", io.BytesIO(data))], compile_policy(load_policy(config)), StreamSink(out, "<test>"))
    return out.getvalue()


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def make_tree(root: Path) -> Path:
    """A folder as support receives it: nested segments, a gzipped one, a binary file."""
    logs = root / "logs"
    (logs / "sip" / "old").mkdir(parents=True)
    (logs / "tserver.log").write_bytes(sample("tserver.log"))
    (logs / "sip" / SEGMENT).write_bytes(sample("sipserver-crlf.log"))
    (logs / "sip" / "old" / "SIPServer.20261121_090000_001.log.gz").write_bytes(
        gzip.compress(sample("sipserver-crlf.log"))
    )
    (logs / "workspace.log").write_bytes(sample("workspace-psdk.log"))
    (logs / "core.dmp").write_bytes(BINARY)
    return logs


def make_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("logs/", (2026, 11, 22, 10, 15, 0)), b"")
        archive.writestr(zipfile.ZipInfo("logs/tserver.log", (2026, 11, 22, 10, 15, 0)), sample("tserver.log"))
        archive.writestr("logs/ws.log.gz", gzip.compress(sample("workspace-psdk.log")))
        archive.writestr("logs/screenshot.png", b"\x89PNG\r\n\x1a\n\x00\x00" + BINARY)


def make_tgz(path: Path) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in ((f"sip/{SEGMENT}", sample("sipserver-crlf.log")), ("sip/core", BINARY)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o640, 1_795_000_000
            archive.addfile(info, io.BytesIO(data))


def _tgz(members: dict[str, bytes], compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def batch(*args: str | Path, cwd: Path) -> tuple[int, str, dict]:
    """Run `logfilter batch ... --report report.json`; return exit code, stderr and the report."""
    report = cwd / "report.json"
    report.unlink(missing_ok=True)
    result = run_logfilter("batch", *args, "--report", report, cwd=cwd, timeout=120)
    assert result.stdout == b""
    return result.returncode, result.stderr, orjson.loads(report.read_bytes()) if report.exists() else {}


def files(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden ones too) by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def visible(root: Path) -> dict[str, bytes]:
    return {name: data for name, data in files(root).items() if not Path(name).name.startswith(".")}


def entry(report: dict, name: str) -> dict:
    return next(item for item in report["files"] if item["input"] == name)


def unpacked(data: bytes) -> list[bytes]:
    """The contents of every member of a zip, tar or gzip (recursively), or the data itself."""
    if data[:2] == b"\x1f\x8b":
        return unpacked(gzip.decompress(data))
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [part for name in archive.namelist() for part in unpacked(archive.read(name))]
    if data[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            members = [archive.extractfile(m) for m in archive.getmembers() if m.isreg()]
            return [part for member in members if member for part in unpacked(member.read())]
    return [data]


class TestTree:
    def test_mirrors_folders_and_archives(self, tmp_path: Path) -> None:
        """Folders come out under their name, archives as the same kind, every text log masked as run masks it."""
        make_tree(tmp_path)
        make_zip(tmp_path / "bundle.zip")
        make_tgz(tmp_path / "sip.tgz")
        before = files(tmp_path)
        code, stderr, report = batch("-c", CONFIG, "logs", "bundle.zip", "sip.tgz", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        out = tmp_path / "out"
        assert sorted(visible(out)) == [
            "bundle.zip", "logs/sip/SIPServer.20261122_101500_123.log",
            "logs/sip/old/SIPServer.20261121_090000_001.log.gz", "logs/tserver.log", "logs/workspace.log", "sip.tgz",
        ]  # fmt: skip
        assert (out / "logs/tserver.log").read_bytes() == masked(sample("tserver.log"))
        assert (out / "logs/sip" / SEGMENT).read_bytes() == masked(sample("sipserver-crlf.log"))
        assert (out / "logs/workspace.log").read_bytes() == masked(sample("workspace-psdk.log"))
        old = out / "logs/sip/old/SIPServer.20261121_090000_001.log.gz"
        assert gzip.decompress(old.read_bytes()) == masked(sample("sipserver-crlf.log"))
        before.pop("report.json", None)
        assert {name: data for name, data in files(tmp_path).items() if name in before} == before, "inputs changed"
        assert "left out: logs/core.dmp (binary data, not a text log)" in stderr

    def test_zip_members_keep_names_and_times(self, tmp_path: Path) -> None:
        """A zip comes out with the same members (binary ones left out), times and masked contents."""
        make_zip(tmp_path / "bundle.zip")
        code, stderr, report = batch("-c", CONFIG, "bundle.zip", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        with zipfile.ZipFile(tmp_path / "out/bundle.zip") as archive:
            assert archive.testzip() is None
            assert archive.namelist() == ["logs/", "logs/tserver.log", "logs/ws.log.gz"]
            assert archive.getinfo("logs/tserver.log").date_time == (2026, 11, 22, 10, 15, 0)
            assert archive.read("logs/tserver.log") == masked(sample("tserver.log"))
            assert gzip.decompress(archive.read("logs/ws.log.gz")) == masked(sample("workspace-psdk.log"))
        members = {m["input"]: m for m in entry(report, "bundle.zip")["members"]}
        assert members["bundle.zip!logs/screenshot.png"]["status"] == "omitted"
        assert members["bundle.zip!logs/ws.log.gz"]["kind"] == "gzip"
        assert "left out: bundle.zip!logs/screenshot.png" in stderr

    def test_tar_gz_members_keep_metadata(self, tmp_path: Path) -> None:
        """A .tgz comes out as a gzipped tar whose members keep mode and time, masked."""
        make_tgz(tmp_path / "sip.tgz")
        code, stderr, report = batch("-c", CONFIG, "sip.tgz", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        with tarfile.open(tmp_path / "out/sip.tgz", "r:gz") as archive:
            (member,) = archive.getmembers()
            assert (member.name, member.mode, member.mtime) == (f"sip/{SEGMENT}", 0o640, 1_795_000_000)
            assert archive.extractfile(member).read() == masked(sample("sipserver-crlf.log"))  # type: ignore[union-attr]
        assert entry(report, "sip.tgz")["kind"] == "tar+gzip"

    def test_keep_binary_copies_unchanged(self, tmp_path: Path) -> None:
        """--keep-binary copies binary files and members byte for byte instead of leaving them out."""
        make_tree(tmp_path)
        make_tgz(tmp_path / "sip.tgz")
        code, stderr, _ = batch("-c", CONFIG, "logs", "sip.tgz", "-o", "out", "--keep-binary", cwd=tmp_path)
        # Files finish in any order on several cores, and so are told.
        assert (code, sorted(stderr.splitlines())) == (0, [
            "logfilter: 5 done, 1 kept",  # the closing count (issue 20.8)
            "logfilter: kept unchanged, not masked (binary data, --keep-binary): logs/core.dmp",
            "logfilter: kept unchanged, not masked (binary data, --keep-binary): sip.tgz!sip/core",
        ])  # fmt: skip
        assert (tmp_path / "out/logs/core.dmp").read_bytes() == BINARY
        assert BINARY in unpacked((tmp_path / "out/sip.tgz").read_bytes())

    def test_zero_padded_log_is_masked(self, tmp_path: Path) -> None:
        """A log with a run of NULs (a crashed writer) is a text log: masked, with or without --keep-binary."""
        data = sample("tserver.log")[:3000] + b"\x00" * 4096 + sample("tserver.log")
        (tmp_path / "crash.log").write_bytes(data)
        for flags in ([], ["--keep-binary"]):
            code, stderr, _ = batch("-c", CONFIG, "crash.log", "-o", "out", "--force", *flags, cwd=tmp_path)
            assert code == 0 and "left out" not in stderr and "kept" not in stderr
            assert (tmp_path / "out/crash.log").read_bytes() == masked(data)

    def test_nested_archives(self, tmp_path: Path) -> None:
        """A zip inside a zip, a tar and a gzip comes out as a zip with its members masked."""
        make_zip(tmp_path / "inner.zip")
        inner = (tmp_path / "inner.zip").read_bytes()
        with zipfile.ZipFile(tmp_path / "outer.zip", "w") as archive:
            archive.writestr("inner.zip", inner)
        (tmp_path / "outer.tar").write_bytes(_tgz({"inner.zip": inner}, compress=False))
        (tmp_path / "inner.zip.gz").write_bytes(gzip.compress(inner))
        code, stderr, _ = batch("-c", CONFIG, "outer.zip", "outer.tar", "inner.zip.gz", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        expected = [masked(sample("tserver.log")), masked(sample("workspace-psdk.log"))]
        for name in ("outer.zip", "outer.tar", "inner.zip.gz"):
            assert unpacked((tmp_path / "out" / name).read_bytes())[1:] == expected, name

    def test_names_that_are_not_utf8(self, tmp_path: Path) -> None:
        """A file name with a Latin-1 byte is processed and named with a \\x escape in messages and report."""
        folder = tmp_path / "in"
        folder.mkdir()
        name = os.fsdecode(b"caf\xe9.log")
        (folder / name).write_bytes(sample("tserver.log"))
        (folder / os.fsdecode(b"core\xff")).write_bytes(BINARY)
        code, stderr, report = batch("-c", CONFIG, "in", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        assert (tmp_path / "out/in" / name).read_bytes() == masked(sample("tserver.log"))
        assert entry(report, "in/caf\\xe9.log")["status"] == "done"
        assert "left out: in/core\\xff" in stderr
        assert batch("-c", CONFIG, "in", "-o", "out", cwd=tmp_path)[2]["totals"]["up-to-date"] == 1

    def test_utf16_is_never_kept_unmasked(self, tmp_path: Path) -> None:
        """A UTF-16 log may hold data logfilter cannot read: left out even with --keep-binary, at any depth."""
        wide = sample("tserver.log").decode("latin-1").encode("utf-16")
        (tmp_path / "in").mkdir()
        (tmp_path / "in/wide.log").write_bytes(wide)
        with zipfile.ZipFile(tmp_path / "in/deep.zip", "w") as archive:
            archive.writestr("inner.tar.gz", _tgz({"w.log": wide[2:], "core": BINARY}))
        code, stderr, _ = batch("-c", CONFIG, "in", "-o", "out", "--keep-binary", cwd=tmp_path)
        assert code == 0
        assert "left out: in/wide.log (UTF-16 or UTF-32 text, which logfilter does not read)" in stderr
        assert "left out: in/deep.zip!inner.tar.gz!w.log (UTF-16 text, which logfilter does not read)" in stderr
        assert "kept unchanged, not masked (binary data, --keep-binary): in/deep.zip!inner.tar.gz!core" in stderr
        assert not (tmp_path / "out/in/wide.log").exists()

    def test_tar_damage_fails_instead_of_dropping_members(self, tmp_path: Path) -> None:
        """A damaged header in the middle of a tar fails the file; the members after it are not silently lost."""
        data = bytearray(_tgz({"a.log": b"one\n", "b.log": b"two\n", "c.log": b"three\n"}, compress=False))
        data[1024 + 148 : 1024 + 156] = b"garbage!"  # the second header's checksum
        (tmp_path / "x.tar").write_bytes(bytes(data))
        code, stderr, _ = batch("-c", CONFIG, "x.tar", "-o", "out", cwd=tmp_path)
        assert code == 1 and "x.tar: a damaged member header" in stderr
        assert not (tmp_path / "out/x.tar").exists()

    def test_hard_link_to_a_member_left_out(self, tmp_path: Path) -> None:
        """A hard link to a binary member that is left out goes too, so the output extracts cleanly."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo("core")
            info.size = len(BINARY)
            archive.addfile(info, io.BytesIO(BINARY))
            link = tarfile.TarInfo("core-link")
            link.type, link.linkname = tarfile.LNKTYPE, "core"
            archive.addfile(link)
        (tmp_path / "x.tar").write_bytes(buffer.getvalue())
        code, stderr, _ = batch("-c", CONFIG, "x.tar", "-o", "out", cwd=tmp_path)
        assert code == 0 and "left out: x.tar!core-link (a hard link to a member left out)" in stderr
        with tarfile.open(tmp_path / "out/x.tar") as archive:
            assert archive.getnames() == []

    def test_golden_cases_through_every_archive_kind(self, tmp_path: Path) -> None:
        """Golden inputs packed as .gz, .zip and .tar.gz come out holding exactly expected.log."""
        for case in [case for case in golden_cases() if not case_args(case)][:3]:
            work = tmp_path / case.name
            work.mkdir()
            data = (case / "input.log").read_bytes()
            (work / "input.log.gz").write_bytes(gzip.compress(data))
            with zipfile.ZipFile(work / "input.zip", "w") as archive:
                archive.writestr("input.log", data)
            (work / "input.tar.gz").write_bytes(_tgz({"input.log": data}))
            code, stderr, _ = batch(
                "-c", case / "filter.ini", "input.log.gz", "input.zip", "input.tar.gz", "-o", "out", cwd=work
            )
            assert code == 0, stderr
            expected = (case / "expected.log").read_bytes()
            for name in ("input.log.gz", "input.zip", "input.tar.gz"):
                assert unpacked((work / "out" / name).read_bytes()) == [expected], f"{case.name}: {name}"

    def test_parallel_equals_serial(self, tmp_path: Path) -> None:
        """--jobs 2 writes exactly the tree --jobs 1 writes."""
        make_tree(tmp_path)
        make_zip(tmp_path / "bundle.zip")
        one = batch("-c", CONFIG, "logs", "bundle.zip", "-o", "one", "--jobs", "1", cwd=tmp_path)
        two = batch("-c", CONFIG, "logs", "bundle.zip", "-o", "two", "--jobs", "2", cwd=tmp_path)
        assert one[0] == two[0] == 0
        assert visible(tmp_path / "one") == visible(tmp_path / "two")
        assert one[2]["totals"] == two[2]["totals"]

    def test_nothing_leaks_anywhere(self, tmp_path: Path) -> None:
        """Under --default hide no golden canary reaches an output, the report or stderr, in any container."""
        inputs = [(case / "input.log").read_bytes() for case in golden_cases() if not case_args(case)]
        planted = [c for c in canaries() if any(c in data for data in inputs)]
        assert len(planted) >= 5, "the golden cases must plant canaries"
        (tmp_path / "in").mkdir()
        with zipfile.ZipFile(tmp_path / "in/all.zip", "w") as archive:
            for number, data in enumerate(inputs):
                (tmp_path / f"in/{number}.log").write_bytes(data)
                (tmp_path / f"in/{number}.log.gz").write_bytes(gzip.compress(data))
                archive.writestr(f"{number}.log", data)
        code, stderr, _ = batch("--default", "hide", "in", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        texts = [stderr.encode(), (tmp_path / "report.json").read_bytes()]
        outputs = files(tmp_path / "out")
        # The state file's sizes, nanosecond times and hashes are digits and hex that may hold
        # a short canary by chance: what it records beyond them is checked.
        state = [orjson.loads(line) for line in (tmp_path / "out.logfilter/batch.jsonl").read_bytes().splitlines()]
        texts += [orjson.dumps([item["output"], item["entry"]]) for item in state]
        texts += [part for data in outputs.values() for part in unpacked(data)]
        assert len(texts) == 2 + 3 * len(inputs) + 2 * len(inputs) + 1  # state: each file and the zip
        for canary in planted:
            assert not any(canary in text for text in texts), canary


class TestReport:
    def test_counts_match_the_input(self, tmp_path: Path) -> None:
        """Per file and in total: bytes, lines, messages, pairs, and changes per key and filter type."""
        message = (
            b"@10:15:00.123 [0] 8111 message EventAttachedDataChanged\n"
            b"\tAttributeUserData\t[90] 00 03 00 00..\n"
            b"\t\t'PASSWORD'\t'canary-pw'\n\t\t'CardNumber'\t'4111111111111111'\n\t\t'DNIS'\t'8410'\n"
            b"\tAttributeConnID\t006c\n"
        )
        (tmp_path / "in").mkdir()
        (tmp_path / "in/a.log").write_bytes(message * 7)
        (tmp_path / "in/b.log.gz").write_bytes(gzip.compress(message * 3))
        code, stderr, report = batch("-c", CONFIG, "--key", "DNIS=skip", "in", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        a = entry(report, "in/a.log")
        out_a = (tmp_path / "out/in/a.log").read_bytes()
        assert a["status"] == "done" and a["output"] == "out/in/a.log"
        assert (a["bytes_in"], a["bytes_out"]) == (len(message) * 7, len(out_a))
        assert (a["lines_in"], a["lines_out"]) == (6 * 7, 5 * 7)
        assert (a["messages"], a["pairs"], a["masked"], a["skipped"], a["copied"]) == (7, 21, 14, 7, 0)
        assert a["changed_by_filter_type"] == {"hide": 7, "skip": 7, "unhide-last,4": 7}
        assert a["changed_by_key"] == {"CardNumber": {"unhide-last,4": 7}, "DNIS": {"skip": 7}, "PASSWORD": {"hide": 7}}
        b = entry(report, "in/b.log.gz")
        assert (b["kind"], b["pairs"], b["bytes_in"]) == ("gzip", 9, len(message) * 3)
        totals = report["totals"]
        assert (totals["files"], totals["done"], totals["pairs"]) == (2, 2, 30)
        assert totals["changed_by_key"]["PASSWORD"] == {"hide": 10}
        assert report["config"]["log-filter-data"]["DNIS"] == "skip"
        assert report["config"]["default-filter-type"] == "copy"
        assert b"canary-pw" not in (tmp_path / "report.json").read_bytes()

    def test_rerun_report_still_counts_done_files(self, tmp_path: Path) -> None:
        """A re-run's report gives up-to-date files the counts of the run that made them."""
        make_tree(tmp_path)
        first = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[2]
        second = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[2]
        assert second["totals"].pop("up-to-date") == first["totals"].pop("done") == 4
        assert second["totals"] == first["totals"]
        assert entry(second, "logs/tserver.log")["pairs"] == entry(first, "logs/tserver.log")["pairs"] > 0

    def test_report_to_stdout(self, tmp_path: Path) -> None:
        """--report - writes the report to stdout and nothing else there."""
        (tmp_path / "a.log").write_bytes(sample("tserver.log"))
        result = run_logfilter("batch", "-c", CONFIG, "a.log", "-o", "out", "--report", "-", cwd=tmp_path)
        assert result.returncode == 0
        assert orjson.loads(result.stdout)["totals"]["done"] == 1

    def test_failed_closed_lines_are_counted_and_named(self, tmp_path: Path) -> None:
        """A line that cannot be parsed inside a block is masked, counted, and named by file and line."""
        (tmp_path / "a.log").write_bytes(
            b"message X\n\tAttributeUserData\t[9] 00 01 00 00..\n\t\t'PASSWORD' unterminated-canary\n"
        )
        code, stderr, report = batch("-c", CONFIG, "a.log", "-o", "out", cwd=tmp_path)
        assert code == 0
        assert entry(report, "a.log")["failed_closed"] == 1
        assert "a.log:3: unparsable line in an AttributeUserData block" in stderr
        assert "canary" not in stderr and b"canary" not in (tmp_path / "out/a.log").read_bytes()


class TestFailures:
    def test_a_bad_file_fails_alone(self, tmp_path: Path) -> None:
        """A truncated .gz and a dangling link fail (exit 1, named on stderr); the other files are written."""
        logs = make_tree(tmp_path)
        (logs / "broken.log.gz").write_bytes(gzip.compress(sample("tserver.log"))[:200])
        (logs / "gone.log").symlink_to(tmp_path / "nowhere.log")
        code, stderr, report = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)
        assert code == 1
        assert "error: logs/broken.log.gz: cannot read or rewrite it as gzip data (truncated)" in stderr
        assert "error: logs/gone.log: cannot read it (No such file or directory)" in stderr
        assert (tmp_path / "out/logs/tserver.log").read_bytes() == masked(sample("tserver.log"))
        assert not (tmp_path / "out/logs/broken.log.gz").exists()
        assert report["totals"]["failed"] == 2
        assert [p.name for p in (tmp_path / "out").rglob(".*") if p.name != ".logfilter-batch.jsonl"] == []

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A file without read permission fails alone with exit 1, named on stderr; the other files are written."""
        logs = make_tree(tmp_path)
        (logs / "secret.log").write_bytes(b"x\n")
        (logs / "secret.log").chmod(0)
        # Root reads files whatever their mode: run batch as root without the capabilities that allow it.
        command = [*WITHOUT_DAC, sys.executable, "-m", "logfilter", "batch", "-c", str(CONFIG), "logs", "-o", "out",
                   "--report", "report.json"]  # fmt: skip
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 1, result.stderr
        assert sorted(result.stderr.splitlines()) == [
            "logfilter: 4 done, 1 failed, 1 omitted",  # the closing count (issue 20.8)
            "logfilter: error: logs/secret.log: cannot read it (Permission denied)",
            "logfilter: left out: logs/core.dmp (binary data, not a text log)",
        ]
        assert (tmp_path / "out/logs/tserver.log").read_bytes() == masked(sample("tserver.log"))
        assert not (tmp_path / "out/logs/secret.log").exists()
        report = orjson.loads((tmp_path / "report.json").read_bytes())
        assert report["totals"]["failed"] == 1

    def test_fail_mode_fails_the_file(self, tmp_path: Path) -> None:
        """--on-error fail stops the file at its bad line: no output for it, exit 1."""
        (tmp_path / "a.log").write_bytes(b"\tAttributeUserData\t[9] 00 01 00 00..\n\t\t'K' bad\n")
        (tmp_path / "b.log").write_bytes(b"plain\n")
        code, stderr, _ = batch("-c", CONFIG, "--on-error", "fail", "a.log", "b.log", "-o", "out", cwd=tmp_path)
        assert code == 1 and "a.log:2: unparsable line" in stderr
        assert sorted(visible(tmp_path / "out")) == ["b.log"]


class TestRefusals:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["logs", "-o", "logs/clean"], "inside the input logs"),
            (["logs", "-o", "logs"], "inside the input logs"),
            (["out/tserver.log", "-o", "out"], "would overwrite the input"),
            (["logs/tserver.log", "other/tserver.log", "-o", "out"], "would both be written to"),
            (["other", "deep/other", "-o", "out"], "would both be written to"),
            (["logs", "-o", "out", "--report", "logs/report.json"], "inside the input"),
            (["logs", "-o", "logs/tserver.log"], "is an existing file"),
            (["missing", "-o", "out"], "no such input"),
            (["logs", "-o", "out", "--jobs", "0"], "--jobs 0"),
        ],
    )
    def test_refused_with_exit_2(self, tmp_path: Path, args: list[str], message: str) -> None:
        """Outputs that would land on or inside an input, and bad usage, are refused before anything is written."""
        make_tree(tmp_path)
        (tmp_path / "out").mkdir()
        (tmp_path / "out/tserver.log").write_bytes(sample("tserver.log"))
        (tmp_path / "other").mkdir()
        (tmp_path / "other/tserver.log").write_bytes(b"x\n")
        (tmp_path / "deep/other").mkdir(parents=True)
        before = files(tmp_path)
        result = run_logfilter("batch", "-c", CONFIG, *args, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert files(tmp_path) == before

    def test_bad_config(self, tmp_path: Path) -> None:
        """A bad rule is a configuration error (exit 2), named by file and line."""
        make_tree(tmp_path)
        (tmp_path / "bad.ini").write_text("[log-filter-data]\nPASSWORD=hdie\n")
        result = run_logfilter("batch", "-c", "bad.ini", "logs", "-o", "out", cwd=tmp_path)
        assert result.returncode == 2 and "bad.ini:2" in result.stderr
        assert not (tmp_path / "out").exists()

    def test_second_run_into_the_same_folder(self, tmp_path: Path) -> None:
        """While one batch holds OUTDIR, another is refused (exit 2) and writes nothing."""
        make_tree(tmp_path)
        (tmp_path / "out").mkdir()
        fd = os.open(tmp_path / "out", os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            result = run_logfilter("batch", "-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)
        finally:
            os.close(fd)
        assert result.returncode == 2 and "another logfilter (batch or follow)" in result.stderr
        assert files(tmp_path / "out") == {}


class TestResume:
    def test_rerun_skips_what_is_done(self, tmp_path: Path) -> None:
        """A re-run leaves complete outputs alone; a touched input, new rules or --force redo them."""
        logs = make_tree(tmp_path)
        assert batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[0] == 0
        out = tmp_path / "out/logs/tserver.log"
        inode = out.stat().st_ino
        assert out.stat().st_mtime_ns == (logs / "tserver.log").stat().st_mtime_ns

        code, _, report = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)
        assert code == 0 and report["totals"]["up-to-date"] == 4 and "done" not in report["totals"]
        assert out.stat().st_ino == inode

        os.utime(logs / "tserver.log")
        _, _, report = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)
        assert (entry(report, "logs/tserver.log")["status"], report["totals"]["up-to-date"]) == ("done", 3)

        _, _, report = batch("-c", CONFIG, "--key", "DNIS=hide", "logs", "-o", "out", cwd=tmp_path)
        assert report["totals"]["done"] == 4, "other rules: every output is redone"
        _, _, report = batch("-c", CONFIG, "--key", "DNIS=hide", "logs", "-o", "out", "--force", cwd=tmp_path)
        assert report["totals"]["done"] == 4

    def test_same_name_from_another_input_is_redone(self, tmp_path: Path) -> None:
        """An output made from another input of the same name is not up to date, however old that input is."""
        for host in ("srv1", "srv2"):
            (tmp_path / host / "logs").mkdir(parents=True)
            (tmp_path / host / "logs/a.log").write_bytes(sample("tserver.log") if host == "srv1" else b"srv2\n")
        os.utime(tmp_path / "srv2/logs/a.log", ns=(1_000_000_000, 1_000_000_000))
        assert batch("-c", CONFIG, "srv1/logs", "-o", "out", cwd=tmp_path)[0] == 0
        _, _, report = batch("-c", CONFIG, "srv2/logs", "-o", "out", cwd=tmp_path)
        assert entry(report, "srv2/logs/a.log")["status"] == "done"
        assert (tmp_path / "out/logs/a.log").read_bytes() == b"srv2\n"

    def test_output_kept_before_goes_when_left_out(self, tmp_path: Path) -> None:
        """A binary kept by --keep-binary is removed from OUTDIR by a run without it."""
        make_tree(tmp_path)
        assert batch("-c", CONFIG, "logs", "-o", "out", "--keep-binary", cwd=tmp_path)[0] == 0
        assert (tmp_path / "out/logs/core.dmp").exists()
        assert batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[0] == 0
        assert not (tmp_path / "out/logs/core.dmp").exists()

    def test_stale_part_files_are_swept(self, tmp_path: Path) -> None:
        """Part files left by a killed run are removed by the next run."""
        make_tree(tmp_path)
        (tmp_path / "out/logs").mkdir(parents=True)
        stale = tmp_path / "out/logs/.tserver.log.logfilter-part"
        stale.write_bytes(b"half")
        assert batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[0] == 0
        assert not stale.exists()


def big_tree(root: Path, count: int = 6, copies: int = 2500) -> Path:
    """Several files of a few MB each, so that a run takes long enough to be killed mid-way."""
    logs = root / "big"
    logs.mkdir()
    data = sample("tserver.log") * copies
    for number in range(count):
        (logs / f"SIPServer.20261122_1015{number:02d}_000.log").write_bytes(data)
    return logs


def start_batch(root: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "logfilter", "batch", "-c", str(CONFIG), "big", "-o", "out", *args],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_for_first_output(root: Path, proc: subprocess.Popen[bytes]) -> int:
    """Wait until one output is complete and recorded; return how many are recorded."""
    state = root / "out.logfilter/batch.jsonl"
    deadline = time.monotonic() + 60
    while not (state.exists() and state.stat().st_size) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted; make big_tree bigger"
    return len(state.read_bytes().splitlines())


def visible_logs(root: Path) -> list[Path]:
    folder = root / "out/big"
    return sorted(p for p in folder.glob("*.log")) if folder.exists() else []


@pytest.mark.slow
class TestInterrupted:
    def test_kill_9_then_rerun(self, tmp_path: Path) -> None:
        """After kill -9 every visible output is complete; the re-run skips those and finishes the rest."""
        big_tree(tmp_path)
        expected = masked(sample("tserver.log") * 2500)
        proc = start_batch(tmp_path, "--jobs", "2")
        recorded = wait_for_first_output(tmp_path, proc)
        proc.kill()
        proc.wait()
        time.sleep(0.5)  # workers die with their parent; give them a moment
        done_before = visible_logs(tmp_path)
        assert 1 <= len(done_before) < 6
        for path in done_before:
            assert path.read_bytes() == expected, f"{path.name} is visible but not complete"
        snapshot = {path: path.stat().st_size for path in (tmp_path / "out").rglob("*")}
        time.sleep(0.5)
        assert {path: path.stat().st_size for path in (tmp_path / "out").rglob("*")} == snapshot, "a worker lived on"

        code, stderr, report = batch("-c", CONFIG, "big", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        assert len(done_before) >= report["totals"]["up-to-date"] >= recorded
        assert [path.read_bytes() == expected for path in visible_logs(tmp_path)] == [True] * 6
        assert sorted(p.name for p in (tmp_path / "out").rglob(".*")) == []  # the state is beside OUTDIR (issue 20.5)

    @pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
    def test_sigterm_and_sigint_stop_cleanly(self, tmp_path: Path, signum: int, code: int) -> None:
        """SIGTERM or SIGINT stops the run with 128+signal, a one-line note, and no part files."""
        big_tree(tmp_path)
        proc = start_batch(tmp_path, "--jobs", "2")
        wait_for_first_output(tmp_path, proc)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == code
        assert stderr.decode().endswith("run the same command again to finish\n") and "Traceback" not in stderr.decode()
        leftovers = [p.name for p in (tmp_path / "out").rglob(".*") if p.name != ".logfilter-batch.jsonl"]
        assert leftovers == [] or all(name.endswith(".logfilter-part") for name in leftovers)
        assert batch("-c", CONFIG, "big", "-o", "out", cwd=tmp_path)[0] == 0


class TestProgress:
    def test_quiet_without_a_terminal(self, tmp_path: Path) -> None:
        """Piped, a clean run prints its closing count and nothing else (issue 20.8: it printed nothing at all)."""
        (tmp_path / "a.log").write_bytes(sample("tserver.log"))
        result = run_logfilter("batch", "-c", CONFIG, "a.log", "-o", "out", cwd=tmp_path)
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", "logfilter: 1 done\n")

    def test_progress_bar_on_a_terminal(self, tmp_path: Path) -> None:
        """On a terminal, stderr shows files and bytes done and a closing count."""
        make_tree(tmp_path)
        code, text = on_a_terminal("batch", "-c", CONFIG, "logs", "-o", "out", cwd=tmp_path, stdout=False, columns=120)
        assert code == 0
        assert "5/5 files" in text and "21.8/21.8 kB" in text and "4 done, 1 omitted" in text


def test_summary_off_a_terminal(tmp_path: Path) -> None:
    """Issue 20.8: piped, batch ends with its one-line count by status on stderr."""
    make_tree(tmp_path)
    (tmp_path / "logs/broken.log.gz").write_bytes(gzip.compress(sample("tserver.log"))[:200])
    code, stderr, _ = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)
    assert code == 1 and stderr.splitlines()[-1] == "logfilter: 4 done, 1 failed, 1 omitted"


class TestUnmatchedRules:
    """Issue 20.1, batch: a rule that matches no key in any file is named in the report and on stderr."""

    CONFIG = "[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPassword=hide\nCardNumber=unhide-last,4\n"

    def test_named_with_the_key_it_meant_and_not_for_rules_met(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "in/a.log").write_bytes(sample("tserver.log"))
        (tmp_path / "in/b.log").write_bytes(sample("tserver.log"))
        (tmp_path / "f.ini").write_text(self.CONFIG)
        code, stderr, report = batch("-c", "f.ini", "in", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        assert report["unmatched_rules"] == [
            {"key": "Password", "filter_type": "hide", "origin": "f.ini:4", "likely": ["PASSWORD"]}
        ]
        assert report["totals"]["rules_met"] == ["CardNumber"]
        assert stderr.splitlines() == [
            "logfilter: warning: f.ini:4: the rule Password=hide matched no key in the logs read; did you mean "
            "PASSWORD? (keys match case and spelling exactly)",
            "logfilter: 2 done",
        ]

    def test_files_up_to_date_count_as_read(self, tmp_path: Path) -> None:
        """A re-run that redoes one file still knows the rules the files it kept met."""
        (tmp_path / "in").mkdir()
        (tmp_path / "in/a.log").write_bytes(sample("tserver.log"))
        (tmp_path / "f.ini").write_text(self.CONFIG)
        batch("-c", "f.ini", "in", "-o", "out", cwd=tmp_path)
        (tmp_path / "in/b.log").write_bytes(b"\tAttributeUserData\t[20] 00 01 00 00..\n\t\t'Other'\t'x'\n")
        code, stderr, report = batch("-c", "f.ini", "in", "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        assert [item["key"] for item in report["unmatched_rules"]] == ["Password"]  # CardNumber met in a.log
        assert stderr.splitlines()[-1] == "logfilter: 1 done, 1 up-to-date"


class TestStateBesideOutdir:
    """Issue 20.5: OUTDIR holds only the sanitized mirror; the state (input paths, times) lives beside it."""

    def test_outdir_holds_only_outputs(self, tmp_path: Path) -> None:
        make_tree(tmp_path)
        code, stderr, _ = batch("-c", CONFIG, str(tmp_path / "logs"), "-o", "out", cwd=tmp_path)
        assert code == 0, stderr
        inside = sorted(p.relative_to(tmp_path / "out/logs").as_posix() for p in (tmp_path / "out").rglob("*.log*"))
        assert inside == sorted(p.relative_to(tmp_path / "logs").as_posix() for p in (tmp_path / "logs").rglob("*.log*"))
        assert [p.name for p in (tmp_path / "out").rglob(".*")] == []
        everything = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
        assert str(tmp_path).encode() not in everything
        state = tmp_path / "out.logfilter/batch.jsonl"
        assert str(tmp_path).encode() in state.read_bytes()  # what the state needs, beside OUTDIR
        assert (tmp_path / "out.logfilter").stat().st_mode & 0o777 == 0o700
        assert batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[2]["totals"]["up-to-date"] == 4

    def test_state_option_and_refusals(self, tmp_path: Path) -> None:
        """--state DIR names the folder; inside OUTDIR or an input it is refused, as is a report inside OUTDIR."""
        make_tree(tmp_path)
        code, stderr, _ = batch("-c", CONFIG, "logs", "-o", "out", "--state", "keep", cwd=tmp_path)
        assert code == 0, stderr
        assert (tmp_path / "keep/batch.jsonl").exists() and not (tmp_path / "out.logfilter").exists()
        for args, message in (
            (["--state", "out/s"], "--state out/s: inside the output folder"),
            (["--state", "logs/s"], "--state logs/s: inside"),
        ):
            result = run_logfilter("batch", "-c", CONFIG, "logs", "-o", "out", *args, cwd=tmp_path)
            assert result.returncode == 2 and message in result.stderr, result.stderr
        result = run_logfilter("batch", "-c", CONFIG, "logs", "-o", "out", "--report", "out/r.json", cwd=tmp_path)
        assert result.returncode == 2 and "--report out/r.json: inside" in result.stderr, result.stderr

    def test_an_old_state_inside_outdir_is_moved_out(self, tmp_path: Path) -> None:
        """A state an older logfilter left in OUTDIR is moved beside it: its outputs stay up to date."""
        make_tree(tmp_path)
        assert batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)[0] == 0
        (tmp_path / "out.logfilter/batch.jsonl").rename(tmp_path / "out/.logfilter-batch.jsonl")
        code, stderr, report = batch("-c", CONFIG, "logs", "-o", "out", cwd=tmp_path)
        assert code == 0 and report["totals"]["up-to-date"] == 4, stderr
        assert not (tmp_path / "out/.logfilter-batch.jsonl").exists()
        assert (tmp_path / "out.logfilter/batch.jsonl").exists()


def test_a_state_folder_among_the_inputs_is_not_an_input(tmp_path: Path) -> None:
    """A state beside an earlier OUTDIR, inside a folder sanitized later, is skipped as the old one was."""
    make_tree(tmp_path)
    assert batch("-c", CONFIG, "logs", "-o", "top/clean", cwd=tmp_path)[0] == 0
    code, stderr, _ = batch("-c", CONFIG, "top", "-o", "again", cwd=tmp_path)
    assert code == 0, stderr
    assert (tmp_path / "top/clean.logfilter/batch.jsonl").exists()
    assert not (tmp_path / "again/top/clean.logfilter").exists()
