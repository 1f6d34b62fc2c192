"""The parts batch is built from: kind sniffing, atomic files, summed stats, pickled rules."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import pytest

from logfilter.batch.outdir import STATE
from logfilter.batch.plan import Job
from logfilter.batch.state import State
from logfilter.batch.store import LOCAL
from logfilter.errors import LogFilterError
from logfilter.parsing.model import Value
from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.rules.filters import parse_filter_type
from logfilter.sinks.atomic import AtomicFile, part_path
from logfilter.sinks.streams import StreamSink
from logfilter.sources.files import StreamSource
from logfilter.sources.sniff import sniff
from logfilter.stats import Stats
from tests.conftest import in_a_fresh_process

TEXT = b"@10:15:00.123 [0] 8111 message EventRinging\n\tAttributeUserData\t[9] 00 01 00 00..\n"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.log", TEXT)
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("a.log")
        info.size = len(TEXT)
        archive.addfile(info, io.BytesIO(TEXT))
    return buffer.getvalue()


class TestSniff:
    @pytest.mark.parametrize(
        ("data", "kind"),
        [
            (gzip.compress(TEXT), "gzip"),
            (bz2.compress(TEXT), "bzip2"),
            (lzma.compress(TEXT), "xz"),
            (_zip(), "zip"),
            (_tar(), "tar"),
            (TEXT, "text"),
            (b"", "text"),
            ("Müller café\n".encode("latin-1"), "text"),
            (b"BZh no block magic\n", "text"),
            ("a log in UTF-16\n".encode("utf-16"), "binary"),
            (b"\x7fELF\x02\x01\x01\x00\x00", "binary"),
        ],
        ids=["gzip", "bzip2", "xz", "zip", "tar", "text", "empty", "latin-1", "BZh-text", "utf-16", "elf"],
    )
    def test_kind_by_content(self, data: bytes, kind: str) -> None:
        """The kind comes from the first bytes, never from a file name."""
        assert sniff(data[:8192]) == kind


class TestAtomicFile:
    def test_appears_only_on_commit(self, tmp_path: Path) -> None:
        """Until commit only the hidden part file exists; commit renames it with the times given."""
        target = tmp_path / "deep/er/out.log"
        with AtomicFile(target) as out:
            out.stream.write(b"data\n")
            assert not target.exists() and part_path(target).name == ".out.log.logfilter-part"
            out.commit((1_000_000_000, 1_700_000_000_123_456_789))
        assert target.read_bytes() == b"data\n"
        assert target.stat().st_mtime_ns == 1_700_000_000_123_456_789
        assert not part_path(target).exists()

    def test_error_leaves_nothing(self, tmp_path: Path) -> None:
        """Leaving the block by an exception removes the part file and leaves the old file as it was."""
        target = tmp_path / "out.log"
        target.write_bytes(b"old\n")
        with pytest.raises(RuntimeError), AtomicFile(target) as out:
            out.stream.write(b"half")
            raise RuntimeError
        assert target.read_bytes() == b"old\n" and list(tmp_path.iterdir()) == [target]

    def test_unwritable_folder(self, tmp_path: Path) -> None:
        """A folder that cannot be created is a LogFilterError naming the path."""
        (tmp_path / "file").write_bytes(b"")
        with pytest.raises(LogFilterError, match="cannot write the output"):
            AtomicFile(tmp_path / "file/out.log")


class TestStats:
    def test_add_sums_counters_and_changes(self) -> None:
        """Adding sums every counter and merges changes per filter type and key."""
        first, second = Stats(lines=2, masked=1), Stats(lines=3, skipped=1)
        first.count_change("hide", b"'PASSWORD'")
        second.count_change("hide", b"'PASSWORD'")
        second.count_change("skip", b"'Caf\xe9'")
        first.add(second)
        assert (first.lines, first.masked, first.skipped) == (5, 1, 1)
        assert first.by_filter_type() == {"hide": 2, "skip": 1}
        assert first.by_key() == {"Caf\\xe9": {"skip": 1}, "PASSWORD": {"hide": 2}}


# What a filter type makes of each kind of value, in this process and in a worker.
APPLY = "rules, values = it\nresult = [(r.text, r.action, r.prefix, r.postfix, [r.apply(v) for v in values]) for r in rules]"
MASK_LOG = """
import io
from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.sinks.streams import StreamSink
from logfilter.sources.files import StreamSource
policy, log = it
out = io.BytesIO()
run([StreamSource("<log>", io.BytesIO(log))], compile_policy(policy), StreamSink(out, "<log>"))
result = out.getvalue()
"""
PICKLED_LOG = (
    b"message EventRinging\n\tAttributeUserData\t[9] 00 01 00 00..\n\t\t'PASSWORD'\t'Canary1'\n"
    b"\t\t'CardNumber'\t'4111111111111111'\n\t\t'cardnumber'\t'4111111111111111'\n\t\t'Other'\t'abc'\n"
)


class TestPickledRules:
    def test_filter_types_survive_pickling(self) -> None:
        """Each filter type, unpickled in a worker process, has its text and tags and masks every kind of value the same."""
        texts = ["copy", "hide", "hide-first,3", "hide-last,2", "unhide-first,1", "unhide-last,4", "tag()",
                 "tag(<!--,-->)", "tag(,#>)"]  # fmt: skip
        rules = [parse_filter_type(text) for text in texts]
        values = [Value("str", "'4111111111111111'"), Value("str", "''"), Value("str", "'é\udcff9'"),
                  Value("int", "-123456"), Value("bin", "[4] 00 01 02 03")]  # fmt: skip
        here = [(r.text, r.action, r.prefix, r.postfix, [r.apply(v) for v in values]) for r in rules]
        assert here[2][4][0] == "'***1111111111111'" and here[7][4][0] == "<!--'4111111111111111'-->"
        assert in_a_fresh_process((rules, values), APPLY) == here

    def test_skip_survives_pickling(self) -> None:
        """skip, unpickled in a worker process, is still skip."""
        assert in_a_fresh_process(parse_filter_type("skip"), "result = (it.text, it.action)") == ("skip", "skip")

    def test_policy_survives_pickling(self) -> None:
        """A whole Policy (default, rules, key case), unpickled in a worker process, masks a log as it does here."""
        policy = load_policy(None, "hide", ["PASSWORD=skip", "CardNumber=unhide-last,4", "Other=copy"], True)
        there = in_a_fresh_process((policy, PICKLED_LOG), MASK_LOG)
        assert there == (
            b"message EventRinging\n\tAttributeUserData\t[9] 00 01 00 00..\n"
            b"\t\t'CardNumber'\t'************1111'\n\t\t'cardnumber'\t'************1111'\n\t\t'Other'\t'abc'\n"
        )
        out = io.BytesIO()
        run([StreamSource("<log>", io.BytesIO(PICKLED_LOG))], compile_policy(policy), StreamSink(out, "<log>"))
        assert out.getvalue() == there


class TestState:
    def test_a_job_about_to_be_redone_is_not_done(self, tmp_path: Path) -> None:
        """Once a job is dispatched its old record no longer vouches for the output, even after a kill."""
        source, target = tmp_path / "a.log", tmp_path / "out/a.log"
        source.write_bytes(b"x\n")
        target.parent.mkdir()
        target.write_bytes(b"x\n")
        info = source.stat()
        job = Job(str(source), str(target), "a.log", info.st_size, info.st_mtime_ns)
        folder = tmp_path / "out.logfilter"
        folder.mkdir()
        state = State(LOCAL, str(tmp_path / "out"), str(folder))
        state.record(job, "rules-1", {"status": "done"})
        assert State(LOCAL, str(tmp_path / "out"), str(folder)).up_to_date(job, "rules-1") == {"status": "done"}
        state.invalidate([job])  # a run with other rules starts on it, then is killed
        assert State(LOCAL, str(tmp_path / "out"), str(folder)).up_to_date(job, "rules-1") is None

    def test_torn_last_line_is_ignored(self, tmp_path: Path) -> None:
        """A record cut short by a crash is ignored, so its file is simply done again."""
        (tmp_path / STATE).write_bytes(b'{"output": "a.log", "fingerp')
        assert State(LOCAL, str(tmp_path / "out"), str(tmp_path)).done == {}
