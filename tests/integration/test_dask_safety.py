"""`logfilter batch --scheduler`: a cluster batch keeps the local batch's guarantees.

No output over an input (URLs too, however spelled), no report over an input, one run per
local OUTDIR, local paths the client's (not a worker's cwd), special files left out, and
nothing of Dask's on stderr. The refusals come before any cluster starts, so most of these
are fast; two runs use a real LocalCluster (local:1), two a scheduler and a worker started
as their own processes in another folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from logfilter.batch.outdir import RUN_PREFIX, SPOOL_PREFIX
from logfilter.sinks.atomic import PART_SUFFIX
from logfilter.sinks.lock import locked
from tests.conftest import SAMPLES, run_logfilter

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

CONFIG = SAMPLES / "filter.ini"
LOG = SAMPLES / "tserver.log"


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    """u/in/logs/a.log: an input folder inside the folder a careless -o names."""
    logs = tmp_path / "u" / "in" / "logs"
    logs.mkdir(parents=True)
    (logs / "a.log").write_bytes(LOG.read_bytes())
    return logs


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("file://{u}/in", "file://{u}/in/logs/a.log: the output would overwrite the input file://{u}/in/logs/a.log"),
        ("file://{u}/out/../in", "the output would overwrite the input file://{u}/in/logs/a.log"),
        ("{u}/in", "{u}/in/logs/a.log: the output would overwrite the input file://{u}/in/logs/a.log"),
        ("file://{u}/out/../in/logs/sub", "file://{u}/out/../in/logs/sub: the output folder is inside the input"),
        ("file://{u}/in/logs", "the output folder is inside the input"),
    ],
)
def test_a_url_batch_never_writes_over_its_inputs(nested: Path, out: str, message: str) -> None:
    u = nested.parents[1]
    result = run_logfilter("batch", "-c", CONFIG, nested.as_uri(), "-o", out.format(u=u), "--scheduler", "local:1")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message.format(u=u) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert (nested / "a.log").read_bytes() == LOG.read_bytes()
    assert sorted(path.name for path in u.rglob("*")) == ["a.log", "in", "logs"]


def test_a_url_batch_never_writes_its_report_over_an_input(nested: Path, tmp_path: Path) -> None:
    for report in (nested / "a.log", nested / "new.json"):
        result = run_logfilter("batch", "-c", CONFIG, nested.as_uri(), "-o", (tmp_path / "out").as_uri(),
                               "--scheduler", "local:1", "--report", report)  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "the report would be written over or inside the input" in result.stderr
    assert (nested / "a.log").read_bytes() == LOG.read_bytes()
    assert not (nested / "new.json").exists()
    assert not (tmp_path / "out").exists()


def test_a_file_url_outdir_takes_the_local_lock(nested: Path, tmp_path: Path) -> None:
    """`-o /out`, `-o file:///out` and `-o /x/../out` are one OUTDIR: one lock."""
    out = tmp_path / "out"
    with locked(out):  # what a local batch (or follow) into /out holds
        for spelling in (out.as_uri(), f"file://{tmp_path}/u/../out", str(out)):
            result = run_logfilter("batch", "-c", CONFIG, nested.as_uri(), "-o", spelling, "--scheduler", "local:1")
            assert result.returncode == 2, result.stderr
            assert "another logfilter (batch or follow) is using it" in result.stderr, result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("address", ["tls://127.0.0.1:1", "ucx://127.0.0.1:1"])
def test_an_address_dask_cannot_use_is_a_usage_error(tmp_path: Path, address: str) -> None:
    result = run_logfilter("batch", "-c", CONFIG, LOG, "-o", tmp_path / "out", "--scheduler", address, "--insecure-scheduler")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --scheduler {address}: cannot use this address ("), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def port_8787() -> Iterator[None]:
    """Dask's default dashboard port, taken (by us, or already by someone else)."""
    sock = socket.socket()
    try:
        sock.bind(("0.0.0.0", 8787))
        sock.listen()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        sock.close()


def test_special_files_in_a_url_folder_and_a_quiet_local_cluster(tmp_path: Path, port_8787: None) -> None:
    """A FIFO is left out (it never hangs the run), a dangling link fails alone, the rest is done;
    no dashboard is started on 8787 and nothing of Dask's reaches stderr; leftovers are swept."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(LOG.read_bytes())
    os.mkfifo(logs / "fifo")
    (logs / "dangling.log").symlink_to(tmp_path / "nowhere")
    out = tmp_path / "out"
    (out / "logs").mkdir(parents=True)
    leftovers = [out / "logs" / f"{SPOOL_PREFIX}1234", out / f"{RUN_PREFIX}0123456789abcdef"]
    for path in leftovers:
        path.write_bytes(b"")
    result = run_logfilter("batch", "-c", CONFIG, logs.as_uri(), "-o", out.as_uri(), "--scheduler", "local:1",
                           "--report", tmp_path / "report.json", timeout=120)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert sorted(result.stderr.splitlines()) == [
        "logfilter: 1 done, 1 failed, 1 omitted",  # the closing count (issue 20.8)
        f"logfilter: error: {logs.as_uri()}/dangling.log: cannot read it (No such file or directory)",
        f"logfilter: left out: {logs.as_uri()}/fifo (not a regular file)",
    ]
    statuses = {item["input"].rpartition("/")[2]: item["status"] for item in orjson.loads((tmp_path / "report.json").read_bytes())["files"]}
    assert statuses == {"a.log": "done", "dangling.log": "failed", "fifo": "omitted"}
    expected = run_logfilter("run", "-c", CONFIG, LOG).stdout
    assert (out / "logs" / "a.log").read_bytes() == expected
    assert sorted(path.name for path in out.rglob("*")) == ["a.log", "logs"]  # the state is beside OUTDIR (issue 20.5)


# --- a scheduler and a worker of their own, started in another folder (as on other machines) ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tls_files(folder: Path) -> list[str]:
    """Certificates of a cluster of its own, written in `folder`: the scheduler's and workers' TLS options."""
    from distributed.security import Security

    security = Security.temporary()
    folder.mkdir(parents=True, exist_ok=True)
    files = {"ca": security.tls_ca_file, "cert": security.tls_client_cert, "key": security.tls_client_key}
    for name, text in files.items():
        (folder / f"{name}.pem").write_text(text)
        (folder / f"{name}.pem").chmod(0o600)
    return ["--tls-ca-file", str(folder / "ca.pem"), "--tls-cert", str(folder / "cert.pem"), "--tls-key", str(folder / "key.pem")]


def tls_env(folder: Path) -> dict[str, str]:
    """The environment that gives a client (logfilter) the certificates in `folder`, through Dask's configuration."""
    return {
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(folder / "ca.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(folder / "cert.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(folder / "key.pem"),
    }


@contextmanager
def cluster(home: Path, log: Path, workers: int = 1, env: dict[str, str] | None = None, tls: bool = False) -> Iterator[str]:
    """A scheduler and `workers` worker processes of their own, started in `home` (as on other
    machines) with `env`, writing to `log`, spilling to home/scratch; the scheduler's address.
    With `tls`, they speak TLS with the certificates in home/tls (tls_files)."""
    port = free_port()
    options = tls_files(home / "tls") if tls else []
    address = f"{'tls' if tls else 'tcp'}://127.0.0.1:{port}"
    with log.open("wb") as out:
        processes = [
            subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--port", str(port), "--no-dashboard", *options], stdout=out, stderr=out, cwd=home, env=env),
            subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", str(workers),
                              "--nthreads", "1", "--no-dashboard", "--local-directory", str(home / "scratch"), *options],
                             stdout=out, stderr=out, cwd=home, env=env),
        ]  # fmt: skip
        try:
            yield address
        finally:
            for process in reversed(processes):
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The address of a running cluster of one worker, and the worker's cwd."""
    home = tmp_path_factory.mktemp("worker")
    with cluster(home, home.parent / "cluster.log") as address:
        yield address, home


@pytest.mark.parametrize("url_input", [False, True])
def test_relative_paths_are_the_clients(tmp_path: Path, external: tuple[str, Path], url_input: bool) -> None:
    """`-o clean` is the client's ./clean, not a folder of that name in each worker's cwd."""
    address, home = external
    client = tmp_path / "client"
    (client / "logs").mkdir(parents=True)
    (client / "logs" / "a.log").write_bytes(LOG.read_bytes())
    source = (client / "logs").as_uri() if url_input else "logs"
    result = run_logfilter("batch", "-c", CONFIG, source, "-o", "clean", "--scheduler", address, "--insecure-scheduler",
                           cwd=client, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (client / "clean" / "logs" / "a.log").read_bytes() == run_logfilter("run", "-c", CONFIG, LOG).stdout
    assert not (home / "clean").exists() and not (home / "logs").exists()
    assert not list((client / "clean").rglob(f"{RUN_PREFIX}*"))


def test_an_interrupted_run_leaves_no_task_writing(tmp_path: Path, external: tuple[str, Path]) -> None:
    """Ctrl-C: the run's marker goes first, so the task still running on the worker commits nothing."""
    address, _home = external
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "big.log").write_bytes(LOG.read_bytes() * 400)  # some seconds with the reference engine
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "logfilter", "batch", "-c", str(CONFIG), str(logs), "-o", str(out),
            "--scheduler", address, "--insecure-scheduler", "--engine", "reference"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list(out.rglob(f"*{PART_SUFFIX}")):  # the worker is writing
            assert time.monotonic() < deadline, "no part file was seen"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        assert list(out.glob(f"{RUN_PREFIX}*"))
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr.decode()
    assert not list(out.glob(f"{RUN_PREFIX}*"))
    # The task goes on on the worker until it would commit; then it discards its part.
    time.sleep(0.5)
    deadline = time.monotonic() + 120
    while list(out.rglob(f"*{PART_SUFFIX}")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert not (out / "logs" / "big.log").exists()


def test_a_worker_of_another_build_is_refused(tmp_path: Path) -> None:
    """A worker whose logfilter is an edited copy of the client's (same version) is refused
    before any task runs, with both builds named; nothing is written."""
    repo = Path(__file__).resolve().parents[2]
    other = tmp_path / "other"
    shutil.copytree(repo / "logfilter", other / "logfilter", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "grammars", other / "grammars")
    with (other / "logfilter" / "batch" / "rewrite.py").open("a") as module:
        module.write("# a local patch\n")
    with cluster(tmp_path, tmp_path / "cluster.log", env={**os.environ, "PYTHONPATH": str(other)}) as address:
        result = run_logfilter("batch", "-c", CONFIG, LOG, "-o", tmp_path / "out", "--scheduler", address,
                               "--insecure-scheduler", timeout=120)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: the cluster's workers run another build of logfilter "), result.stderr
    assert "install the same one on the client and the workers" in result.stderr
    assert [path.name for path in (tmp_path / "out").rglob("*")] == []


def test_the_local_cluster_speaks_tls_only(tmp_path: Path) -> None:
    """22.7: the LocalCluster of `--scheduler local` is reached over TLS with certificates of its
    own: a plain-TCP client, or a TLS client with other certificates, cannot connect to it."""
    from distributed import Client
    from distributed.security import Security

    from logfilter.batch.cluster import connect

    with connect("local:1") as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:"), address
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3  # its own client works
        for intruder in (
            lambda: Client(address.replace("tls://", "tcp://"), timeout="3s"),
            lambda: Client(address, security=Security.temporary(), timeout="3s"),
        ):
            with pytest.raises((OSError, TimeoutError)):
                intruder().close()


def test_schedulers_in_clear_are_refused(tmp_path: Path) -> None:
    """22.7: tcp:// is refused unless --insecure-scheduler says so, and never with a hash rule."""
    plain = run_logfilter("batch", "-c", CONFIG, LOG, "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:1")
    assert plain.returncode == 2 and "not TLS (tls://)" in plain.stderr and "--insecure-scheduler" in plain.stderr
    keyed = {**os.environ, "LOGFILTER_HASH_KEY": "5f1d0c9a7e3b4d2f8a6c1e0b9d7f3a5c"}
    (tmp_path / "hash.ini").write_text("[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPASSWORD=hash\n")
    hashed = run_logfilter("batch", "-c", tmp_path / "hash.ini", LOG, "-o", tmp_path / "out", "--scheduler",
                           "tcp://127.0.0.1:1", "--insecure-scheduler", env=keyed)  # fmt: skip
    assert hashed.returncode == 2 and "a hash rule's key would travel in clear" in hashed.stderr, hashed.stderr
    assert not (tmp_path / "out").exists()  # (the flag itself is used against the tcp:// clusters below)
