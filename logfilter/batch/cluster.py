"""`logfilter batch --scheduler`: the per-file work of a batch run on a dask.distributed cluster.

The client plans, keeps the state and writes the report, exactly as a local batch; only
`execute` differs: every file becomes a task (tasks.rewrite_file), and a text file larger
than the split size becomes range tasks and a join (tasks.rewrite_range, tasks.join_parts).
Workers read inputs and write outputs on shared storage themselves; the client sends names
and the Settings, never file contents. A task whose worker dies is run again elsewhere
(Dask's allowed-failures); each attempt writes parts of its own, and the parts a dead
attempt left are swept when the run ends. Dask and fsspec are an optional extra.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from logfilter import __version__
from logfilter.batch.local import Settings
from logfilter.batch.ranges import RANGE_SIZE, SPLIT_SIZE, cuts
from logfilter.errors import ConfigError, LogFilterError
from logfilter.sources.archives import Outcome
from logfilter.sources.sniff import SNIFF_SIZE, judge

INSTALL = "pip install 'logfilter[dask]'"
SPLIT_MIN = 256 << 10  # ranges of at least 64 KiB: a range's head is sniffed like a file's
# Dask's own loggers: errors only on stderr (our stderr says errors, files left out, lines failed closed).
_QUIET = ("distributed", "dask", "tornado", "asyncio", "bokeh")


class JobLike(Protocol):
    source: Any
    target: Any
    name: str
    size: int
    mtime_ns: int


def require() -> None:
    """Raise ConfigError saying how to install Dask when it is not installed."""
    try:
        import distributed  # noqa: F401
        import fsspec  # noqa: F401
    except ImportError as exc:
        msg = f"--scheduler needs Dask and fsspec, which are not installed ({exc.name}); install them: {INSTALL}"
        raise ConfigError(msg) from None


def local_workers(scheduler: str) -> int | None:
    """The worker processes `local[:N]` asks for (default: one per core); None for an address."""
    if scheduler != "local" and not scheduler.startswith("local:"):
        return None
    count = scheduler.partition(":")[2]
    if count and (not count.isdigit() or int(count) < 1):
        msg = f"--scheduler {scheduler}: expected local or local:N with N workers of at least 1"
        raise ConfigError(msg)
    return int(count) if count else len(os.sched_getaffinity(0))


_SIZE = re.compile(r"(\d+)(?:([KMGT])(?:iB|i|B)?)?", re.IGNORECASE)
_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes, or `1G` = `1Gi` = `1GiB` = `1GB` (K, M, G, T: powers of 1024), for --split-size
    (ConfigError when not a size of at least 256K)."""
    found = _SIZE.fullmatch(text)
    size = int(found[1]) * _UNITS[found[2].upper()] if found and found[2] else int(found[1]) if found else 0
    if size < SPLIT_MIN:
        msg = f"--split-size {text!r}: expected a size of at least 256K (e.g. 1G, 256M)"
        raise ConfigError(msg)
    return size


def execute(
    todo: Sequence[JobLike],
    settings: Settings,
    scheduler: str,
    on_outcome: Callable[[Any, Outcome], None],
    outdir: str,
    split_size: int = SPLIT_SIZE,
) -> None:
    """Process every job on the cluster; report each outcome as it arrives (in any order).
    Call `require` first.

    Files over `split_size` that are text are cut into ranges of a quarter of it (at least
    64 KiB). Local paths are sent absolute (a worker's cwd is not ours). KeyboardInterrupt
    removes the run's marker in `outdir` (so a task already running writes no output; see
    store.Output), cancels what has not run, and stops a local cluster.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from logfilter.batch.store import end_run, start_run
    from logfilter.batch.tasks import Task, join_parts, rewrite_file, rewrite_range

    range_size = split_size * RANGE_SIZE // SPLIT_SIZE  # a quarter: at least 64 KiB
    with _client(scheduler) as client:
        _check_workers(client)
        futures: dict[Any, Any] = {}
        run = start_run(absolute(outdir))
        try:
            for job in sorted(todo, key=lambda job: job.size, reverse=True):  # big files first
                source, target = absolute(str(job.source)), absolute(str(job.target))
                task = Task(source, target, job.name, job.size, job.mtime_ns, run)
                # JSON lines carry their line numbers, which a range does not know: never split.
                whole = settings.output_format == "jsonl"
                pieces = [None] if whole else _pieces(task, split_size, range_size)
                if len(pieces) > 1:
                    parts = [client.submit(rewrite_range, task, settings, piece, pure=False) for piece in pieces]
                    futures[client.submit(join_parts, task, parts, pure=False)] = job
                else:
                    futures[client.submit(rewrite_file, task, settings, pure=False)] = job
            for future in as_completed(list(futures)):
                job = futures.pop(future)
                try:
                    outcome = future.result()
                except KilledWorker:
                    reason = f"{job.name}: the workers running it died, again and again; not done"
                    outcome = Outcome(job.name, "file", "failed", reason=reason)
                except (FutureCancelledError, Exception) as exc:  # noqa: BLE001 - the task never raises; Dask may
                    reason = f"{job.name}: the cluster could not run it ({type(exc).__name__})"
                    outcome = Outcome(job.name, "file", "failed", reason=reason)
                on_outcome(job, outcome)
        except BaseException:
            end_run(run)  # first: a task still running on the cluster commits nothing from now on
            client.cancel(list(futures))
            raise
        finally:
            end_run(run)


def absolute(text: str) -> str:
    """A local path made absolute here, on the client; a URL as it is."""
    from logfilter.batch.store import is_url

    return text if is_url(text) else os.path.abspath(text)


def _pieces(task: Any, split_size: int, range_size: int) -> list[Any]:
    """The ranges of a text input over the split size; one piece (no split) otherwise."""
    if task.size <= split_size:
        return [None]
    from logfilter.batch.store import open_input

    try:
        with open_input(task.source) as stream:
            if not judge(stream.read(SNIFF_SIZE)).is_text:
                return [None]  # compressed, an archive or binary: one task reads it whole
            return cuts(stream, task.size, range_size)
    except OSError:
        return [None]  # the task will say what is wrong with it


@contextmanager
def _client(scheduler: str) -> Iterator[Any]:
    """A Client of the cluster at `scheduler`, or of a new LocalCluster for `local[:N]`."""
    import dask
    from distributed import Client, LocalCluster

    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.ERROR)
    # e.g. "Port 8787 is already in use": Dask's, not ours to say on our stderr
    warnings.filterwarnings("ignore", module="distributed")
    dask.config.set({"distributed.admin.system-monitor.gil.enabled": False})
    workers = local_workers(scheduler)
    if workers is not None:
        try:
            # The scheduler always serves HTTP: no dashboard, a free port, this machine only.
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, worker_dashboard_address=None, silence_logs=logging.ERROR,
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - e.g. no free port; no data is involved
            msg = f"--scheduler {scheduler}: cannot start the local cluster ({type(exc).__name__})"
            raise LogFilterError(msg) from None
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        msg = f"--scheduler {scheduler}: cannot reach the Dask scheduler ({type(exc).__name__})"
        raise LogFilterError(msg) from None
    except Exception as exc:  # noqa: BLE001 - an address Dask cannot use (no data is involved)
        msg = f"--scheduler {scheduler}: cannot use this address ({type(exc).__name__}); expected tcp://host:port"
        raise ConfigError(msg) from None
    with client:
        yield client


def _check_workers(client: Any) -> None:
    """Refuse workers without logfilter, or with another version (other masking)."""
    try:
        client.wait_for_workers(1, timeout=60)
        found = client.run(_worker_version)
    except TimeoutError:
        msg = "the Dask cluster has no workers (waited 60 s)"
        raise LogFilterError(msg) from None
    except Exception as exc:  # noqa: BLE001 - a worker that cannot even load this function
        msg = f"the cluster's workers cannot run logfilter ({type(exc).__name__}); install it there: {INSTALL}"
        raise ConfigError(msg) from None
    others = sorted({str(version) for version in found.values() if version != __version__})
    if others:
        msg = f"the cluster's workers run logfilter {', '.join(others)}, this client {__version__}; install one version"
        raise ConfigError(msg)


def _worker_version() -> str:
    try:
        from logfilter import __version__ as theirs
    except ImportError:
        return "none (not installed)"
    return theirs
