"""`logfilter batch --scheduler local:2`: a real LocalCluster of 2 worker processes on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from logfilter.sinks.atomic import PART_SUFFIX
from tests.conftest import SAMPLES, run_logfilter
from tests.integration.test_batch import make_tree, make_zip
from tests.integration.test_dask_safety import cluster, tls_env

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")
pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from corpus import generate  # noqa: E402

CONFIG = Path(__file__).resolve().parents[2] / "benchmarks" / "configs" / "perkey.ini"
SPLIT = "256K"  # ranges of 64 KiB: the big file becomes dozens of range tasks


def inputs(root: Path, big: int = 3 << 20) -> Path:
    """A support tree (nested folders, gzip, zip, binary), small corpus files, one big file to split."""
    logs = make_tree(root)
    make_zip(logs / "bundle.zip")
    for seed in range(4):
        (logs / f"corpus-{seed}.log").write_bytes(generate(40 << 10, seed))
    (logs / "big.log").write_bytes(generate(big, 9))
    return logs


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, but the state (it names OUTDIR)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".logfilter-batch.jsonl"
    }


def report(path: Path) -> dict:
    return orjson.loads(path.read_bytes())


def baseline(logs: Path, tmp_path: Path) -> tuple[dict[str, bytes], dict]:
    result = run_logfilter("batch", "-c", CONFIG, logs, "-o", tmp_path / "serial", "--jobs", "1",
                           "--report", tmp_path / "serial.json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tree(tmp_path / "serial"), report(tmp_path / "serial.json")


def same_report(cluster: dict, serial: dict) -> None:
    assert cluster["totals"] == serial["totals"]
    strip = [{k: v for k, v in item.items() if k != "output"} for item in cluster["files"]]
    assert strip == [{k: v for k, v in item.items() if k != "output"} for item in serial["files"]]


def test_cluster_tree_equals_the_serial_tree(tmp_path: Path) -> None:
    logs = inputs(tmp_path)
    expected, serial = baseline(logs, tmp_path)
    out = tmp_path / "cluster"
    result = run_logfilter("batch", "-c", CONFIG, logs, "-o", out, "--scheduler", "local:2",
                           "--split-size", SPLIT, "--report", tmp_path / "cluster.json", timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert tree(out) == expected
    assert not list(out.rglob(f"*{PART_SUFFIX}"))
    same_report(report(tmp_path / "cluster.json"), serial)
    # stderr holds what a local batch says (the binary file left out), and nothing of Dask's
    # (sorted: files finish on the workers in any order)
    assert sorted(result.stderr.splitlines()) == sorted(
        run_logfilter("batch", "-c", CONFIG, logs, "-o", tmp_path / "again", "--jobs", "1").stderr.splitlines()
    )
    # a re-run skips every output, on the cluster too
    again = run_logfilter("batch", "-c", CONFIG, logs, "-o", out, "--scheduler", "local:2", "--split-size", SPLIT,
                          "--report", tmp_path / "rerun.json", timeout=180)  # fmt: skip
    assert again.returncode == 0, again.stderr
    statuses = {item["status"] for item in report(tmp_path / "rerun.json")["files"]}
    assert statuses <= {"up-to-date", "omitted"}
    assert report(tmp_path / "rerun.json")["totals"]["pairs"] == serial["totals"]["pairs"]


def test_a_worker_killed_mid_file(tmp_path: Path) -> None:
    logs = inputs(tmp_path, big=6 << 20)
    expected, serial = baseline(logs, tmp_path)
    out = tmp_path / "cluster"
    argv = [sys.executable, "-m", "logfilter", "batch", "-c", str(CONFIG), str(logs), "-o", str(out),
            "--scheduler", "local:2", "--split-size", SPLIT, "--engine", "reference",
            "--report", str(tmp_path / "cluster.json")]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        victim = writing_worker(psutil.Process(proc.pid), timeout=120)
        victim.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr.decode()
    assert not victim.is_running() or victim.status() == psutil.STATUS_ZOMBIE
    assert tree(out) == expected
    assert not list(out.rglob(f"*{PART_SUFFIX}"))
    same_report(report(tmp_path / "cluster.json"), serial)


def writing_worker(client: psutil.Process, timeout: float) -> psutil.Process:
    """A worker process of the run while it has a part file open: it dies mid-file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in client.children(recursive=True):
            try:
                if any(item.path.endswith(PART_SUFFIX) for item in child.open_files()):
                    return child
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        time.sleep(0.01)
    pytest.fail("no worker was seen writing a part file")


def test_without_dask_says_how_to_install_it(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class Blocker:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dask', 'distributed', 'fsspec'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Blocker())\n"
    )
    env = {"PYTHONPATH": str(blocker), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-m", "logfilter", "batch", "-c", str(CONFIG), str(SAMPLES / "tserver.log"),
            "-o", str(tmp_path / "out")]  # fmt: skip
    blocked = subprocess.run([*argv, "--scheduler", "local:2"], capture_output=True, env=env, timeout=60, check=False)
    assert blocked.returncode == 2
    assert blocked.stderr.decode().splitlines() == [
        "error: --scheduler needs Dask and fsspec, which are not installed (distributed); "
        "install them: pip install 'logfilter[dask]'"
    ]
    assert not (tmp_path / "out").exists()
    # the same process without --scheduler does not need Dask
    plain = subprocess.run(argv, capture_output=True, env=env, timeout=60, check=False)
    assert plain.returncode == 0, plain.stderr.decode()
    assert (tmp_path / "out" / "tserver.log").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split-size", "1G"], "--split-size works with --scheduler only"),
        (["--scheduler", "local:2", "--split-size", "12"], "--split-size '12': expected a size of at least 256K"),
        (["--scheduler", "local:0"], "--scheduler local:0: expected local or local:N"),
    ],
)
def test_refused_with_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_logfilter("batch", "-c", CONFIG, SAMPLES / "tserver.log", "-o", tmp_path / "out", *args)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert "Traceback" not in result.stderr


def test_urls_in_and_out(tmp_path: Path) -> None:
    """file:// URLs take the fsspec plan and state (batch/url_store.py), as s3:// or gs:// would."""
    logs = inputs(tmp_path, big=1 << 20)
    expected, serial = baseline(logs, tmp_path)
    out = tmp_path / "cluster"
    argv = ["batch", "-c", CONFIG, logs.as_uri(), "-o", out.as_uri(), "--scheduler", "local:2", "--split-size", SPLIT]
    result = run_logfilter(*argv, "--report", tmp_path / "cluster.json", timeout=180)
    assert result.returncode == 0, result.stderr
    assert tree(out) == expected
    assert not list(out.rglob(f"*{PART_SUFFIX}"))
    cluster = report(tmp_path / "cluster.json")
    assert cluster["totals"] == serial["totals"]
    assert {item["input"] for item in cluster["files"]} == {
        logs.as_uri() + item["input"][len(str(logs)) :] for item in serial["files"]
    }
    again = run_logfilter(*argv, "--report", tmp_path / "rerun.json", timeout=180)
    assert again.returncode == 0, again.stderr
    assert {item["status"] for item in report(tmp_path / "rerun.json")["files"]} <= {"up-to-date", "omitted"}


def test_urls_need_the_scheduler(tmp_path: Path) -> None:
    result = run_logfilter("batch", "-c", CONFIG, (SAMPLES / "tserver.log").as_uri(), "-o", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr == "error: inputs and OUTDIR as URLs work with --scheduler only; give local paths\n"


def test_the_hash_key_reaches_workers_in_memory_only(tmp_path: Path) -> None:
    """A scheduler and a worker started without the key hash with it, and nothing they write holds it."""
    logs = inputs(tmp_path, big=1 << 20)
    key = "HASHKEYCANARY-" + "5f1d0c9a7e3b4d2f8a6c1e0b9d7f3a5c"
    keyed = {**os.environ, "LOGFILTER_HASH_KEY": key}
    unkeyed = {name: value for name, value in os.environ.items() if name != "LOGFILTER_HASH_KEY"}
    config = CONFIG.with_name("hash.ini")
    serial = run_logfilter("batch", "-c", config, logs, "-o", tmp_path / "serial", "--jobs", "1", env=keyed)
    assert serial.returncode == 0, serial.stderr
    expected = tree(tmp_path / "serial")
    assert any(b"'h:" in content for content in expected.values())

    cluster_log, out = tmp_path / "cluster.log", tmp_path / "cluster"
    # Over TLS: a hash key is never sent to a scheduler in clear (issue 22.7).
    with cluster(tmp_path, cluster_log, workers=2, env=unkeyed, tls=True) as address:
        result = run_logfilter("batch", "-c", config, logs, "-o", out, "--scheduler", address,
                               "--split-size", SPLIT, "--report", tmp_path / "cluster.json",
                               env={**keyed, **tls_env(tmp_path / "tls")}, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert tree(out) == expected
    written = [result.stdout, result.stderr, cluster_log.read_bytes()]
    written += [path.read_bytes() for folder in (out, tmp_path / "scratch") for path in folder.rglob("*") if path.is_file()]
    written.append((tmp_path / "cluster.json").read_bytes())
    assert b"HASHKEYCANARY" not in b"".join(w if isinstance(w, bytes) else w.encode() for w in written)


def test_jsonl_on_the_cluster_equals_jsonl_at_home(tmp_path: Path) -> None:
    """--format jsonl on the cluster: the same .jsonl files; a big file is not split (its objects carry line numbers)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    for seed in range(3):
        (logs / f"corpus-{seed}.log").write_bytes(generate(40 << 10, seed))
    (logs / "big.log").write_bytes(generate(1 << 20, 9))
    serial = run_logfilter("batch", "-c", CONFIG, logs, "-o", tmp_path / "serial", "--jobs", "1", "--format", "jsonl")
    assert serial.returncode == 0, serial.stderr
    out = tmp_path / "cluster"
    result = run_logfilter("batch", "-c", CONFIG, logs, "-o", out, "--scheduler", "local:2", "--split-size", SPLIT,
                           "--format", "jsonl", timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = tree(tmp_path / "serial")
    assert sorted(expected) == [f"logs/{name}.jsonl" for name in ("big.log", "corpus-0.log", "corpus-1.log", "corpus-2.log")]
    assert tree(out) == expected
