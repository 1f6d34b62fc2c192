"""A cluster task commits its output only while its run's marker is there; --split-size units."""

from __future__ import annotations

from pathlib import Path

import pytest

from logfilter.batch.plan import Job
from logfilter.batch.settings import Settings
from logfilter.batch.store import store_for
from logfilter.errors import ConfigError
from logfilter.rules.config import load_policy
from logfilter.sinks.atomic import PART_SUFFIX
from tests.conftest import SAMPLES, run_logfilter

pytest.importorskip("fsspec")
from logfilter.batch.cluster import parse_size  # noqa: E402
from logfilter.batch.outdir import end_run, start_run, sweep  # noqa: E402
from logfilter.batch.tasks import rewrite_file  # noqa: E402

LOG = SAMPLES / "tserver.log"


def task(tmp_path: Path) -> Job:
    stat = LOG.stat()
    return Job(str(LOG), str(tmp_path / "out" / "a.log"), "a.log", stat.st_size, stat.st_mtime_ns)


def sweep_parts(url: str) -> int:
    return sweep(store_for(url), url)


def test_a_task_of_a_live_run_commits(tmp_path: Path) -> None:
    """A worker's task of a run still going writes the masked file, as `run` masks it, and only that."""
    settings = Settings(load_policy(SAMPLES / "filter.ini", None, (), False))
    out = str(tmp_path / "out")
    run = start_run(store_for(out), out)
    outcome = rewrite_file(task(tmp_path), settings, run)
    assert outcome.status == "done", outcome.reason
    expected = run_logfilter("run", "-c", SAMPLES / "filter.ini", LOG).stdout
    assert b"'****'" in expected and (tmp_path / "out" / "a.log").read_bytes() == expected
    end_run(store_for(out), run)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["a.log"]


def test_a_task_of_an_interrupted_run_writes_nothing(tmp_path: Path) -> None:
    """A task whose run was interrupted (its marker gone) fails with the reason and writes nothing."""
    settings = Settings(load_policy(SAMPLES / "filter.ini", None, (), False))
    out = str(tmp_path / "out")
    run = start_run(store_for(out), out)
    end_run(store_for(out), run)  # what the client does on Ctrl-C, while the task still runs on a worker
    outcome = rewrite_file(task(tmp_path), settings, run)
    assert outcome.status == "failed"
    assert outcome.reason == f"{tmp_path / 'out' / 'a.log'}: not written: the run that started it was interrupted"
    assert list((tmp_path / "out").iterdir()) == []


def test_sweep_removes_parts_spools_and_old_markers(tmp_path: Path) -> None:
    """sweep_parts removes part files, spools and run markers under the output, and nothing else."""
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    names = [f".a.log.0123{PART_SUFFIX}", ".logfilter-spool-x1y2", ".logfilter-run-0123456789abcdef"]
    for name in names:
        (out / "sub" / name).write_bytes(b"x")
    (out / "sub" / "kept.log").write_bytes(b"x")
    assert sweep_parts(out.as_uri()) == 3
    assert [path.name for path in out.rglob("*") if path.is_file()] == ["kept.log"]


@pytest.mark.parametrize(
    ("text", "size"),
    [("262144", 256 << 10), ("256K", 256 << 10), ("1G", 1 << 30), ("1Gi", 1 << 30), ("1GiB", 1 << 30),
     ("1gb", 1 << 30), ("2m", 2 << 20), ("1T", 1 << 40)],
)  # fmt: skip
def test_split_sizes(text: str, size: int) -> None:
    """--split-size takes bytes or K, M, G, T with an optional i and B, in any case."""
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["12", "255K", "1X", "G", "1 G", "1iB", "-1G", "1.5G", ""])
def test_split_sizes_refused(text: str) -> None:
    """Sizes under 256K, fractions, blanks and unknown units are refused with the allowed form."""
    with pytest.raises(ConfigError, match="expected a size of at least 256K"):
        parse_size(text)
