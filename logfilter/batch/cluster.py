"""The cluster executor (`logfilter batch --scheduler`): a batch's files run on dask.distributed.

The client plans, keeps the state and writes the report, exactly as a local batch; only the
executor differs: every file becomes a task (tasks.rewrite_file), and a text file larger
than the split size becomes range tasks and a join (tasks.rewrite_range, tasks.join_parts).
Workers read inputs and write outputs on shared storage themselves; the client sends names
and the Settings, never file contents, and refuses workers of another build (build.py). A
task whose worker dies is run again elsewhere (Dask's allowed-failures); each attempt writes
parts of its own, and the parts a dead attempt left are swept when the run ends. Dask and
fsspec are an optional extra, imported when the executor runs.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from logfilter.batch import build
from logfilter.batch.outdir import end_run, start_run, sweep
from logfilter.batch.plan import Job
from logfilter.batch.ranges import RANGE_SIZE, SPLIT_SIZE, Range, cuts
from logfilter.batch.rewrite import Outcome
from logfilter.batch.settings import Settings
from logfilter.batch.store import is_url, store_for
from logfilter.errors import ConfigError, LogFilterError
from logfilter.rules.config import hash_key_id
from logfilter.sources.sniff import SNIFF_SIZE, judge

INSTALL = "pip install 'logfilter[dask]'"
SPLIT_MIN = 256 << 10  # ranges of at least 64 KiB: a range's head is sniffed like a file's
# Dask's own loggers: errors only on stderr (our stderr says errors, files left out, lines failed closed).
_QUIET = ("distributed", "dask", "tornado", "asyncio", "bokeh")


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


class ClusterExecutor:
    """Runs a batch's jobs on the Dask cluster at `scheduler` (or a new local one, `local[:N]`)."""

    def __init__(self, settings: Settings, scheduler: str, split_size: str | None = None, insecure: bool = False) -> None:
        """Check that Dask is installed and the options make sense (ConfigError otherwise).

        Text files over `split_size` (default 1G) are cut into ranges of a quarter of it (at
        least 64 KiB). `insecure`: the user accepts a scheduler reached without TLS.
        """
        require()
        if local_workers(scheduler) is None:
            refuse_in_clear(scheduler, settings, insecure)
        self._settings = settings
        self._scheduler = scheduler
        self._split_size = parse_size(split_size) if split_size is not None else SPLIT_SIZE

    def execute(
        self, jobs: Sequence[Job], outdir: str, on_outcome: Callable[[Job, Outcome], None],
        progress: Callable[[int], None],
    ) -> None:  # fmt: skip
        """Process every job on the cluster; report each outcome as it arrives (in any order).

        Local paths are sent absolute (a worker's cwd is not ours). KeyboardInterrupt removes
        the run's marker in `outdir` (so a task already running writes no output; see
        sinks/atomic.py AtomicFile), cancels what has not run, and stops a local cluster. The bytes read
        are not followed (`progress` is not called).
        """
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        from logfilter.batch.tasks import join_parts, rewrite_file, rewrite_range

        settings, split_size = self._settings, self._split_size
        range_size = split_size * RANGE_SIZE // SPLIT_SIZE  # a quarter: at least 64 KiB
        store = store_for(absolute(outdir))
        with connect(self._scheduler) as client:
            check_workers(client)
            futures: dict[Any, Any] = {}
            run = start_run(store, absolute(outdir))
            try:
                for job in sorted(jobs, key=lambda job: job.size, reverse=True):  # big files first
                    sent = replace(job, source=absolute(job.source), target=absolute(job.target))
                    # JSON lines carry their line numbers, which a range does not know: never split.
                    whole = settings.output_format == "jsonl"
                    pieces = [None] if whole else _pieces(sent, split_size, range_size)
                    if len(pieces) > 1:
                        parts = [client.submit(rewrite_range, sent, settings, piece, pure=False) for piece in pieces]
                        futures[client.submit(join_parts, sent, parts, run, pure=False)] = job
                    else:
                        futures[client.submit(rewrite_file, sent, settings, run, pure=False)] = job
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
                end_run(store, run)  # first: a task still running on the cluster commits nothing from now on
                client.cancel(list(futures))
                raise
            finally:
                end_run(store, run)
        sweep(store, absolute(outdir))  # the parts of attempts whose worker died


def refuse_in_clear(scheduler: str, settings: Settings, insecure: bool) -> None:
    """Refuse (ConfigError) a scheduler reached without TLS, unless the user accepts it; with a
    hash rule, always: the key would travel in clear in every task."""
    if scheduler.startswith(("tls://", "wss://")):
        return
    if hash_key_id(settings.policy) is not None:
        msg = (
            f"--scheduler {scheduler}: not TLS (tls://), and a hash rule's key would travel in clear "
            "in every task; use a tls:// scheduler"
        )
        raise ConfigError(msg)
    if not insecure:
        msg = (
            f"--scheduler {scheduler}: not TLS (tls://): anyone on the network could read the logs' names and "
            "the rules, or send the workers code to run; use a tls:// scheduler, or accept this with --insecure-scheduler"
        )
        raise ConfigError(msg)


def absolute(text: str) -> str:
    """A local path made absolute here, on the client; a URL as it is."""
    return text if is_url(text) else os.path.abspath(text)


def _pieces(job: Job, split_size: int, range_size: int) -> list[Range | None]:
    """The ranges of a text input over the split size; one piece (no split) otherwise."""
    if job.size <= split_size:
        return [None]
    try:
        with store_for(job.source).open_read(job.source) as stream:
            if not judge(stream.read(SNIFF_SIZE)).is_text:
                return [None]  # compressed, an archive or binary: one task reads it whole
            return cuts(stream, job.size, range_size)  # type: ignore[return-value]
    except OSError:
        return [None]  # the task will say what is wrong with it


@contextmanager
def connect(scheduler: str) -> Iterator[Any]:
    """A Client of the cluster at `scheduler`, or of a new LocalCluster for `local[:N]`.

    A LocalCluster speaks TLS with certificates made for it alone (Security.temporary): any
    local user can reach its ports on 127.0.0.1, and without them could run code as this user
    and read the tasks, the rules and the hash key in them. A remote scheduler gets the TLS
    settings of Dask's configuration (distributed.comm.tls.*).
    """
    import dask
    from distributed import Client, LocalCluster
    from distributed.security import Security

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
                n_workers=workers, threads_per_worker=1, processes=True, security=Security.temporary(),
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
        msg = f"--scheduler {scheduler}: cannot use this address ({type(exc).__name__}); expected tls://host:port"
        raise ConfigError(msg) from None
    with client:
        yield client


def check_workers(client: Any) -> None:
    """Refuse (ConfigError) workers without logfilter, or with another version or build of it
    (another build may mask otherwise); LogFilterError when no worker comes."""
    import cloudpickle  # comes with distributed

    # Sent by value: it runs on a worker whatever logfilter is installed there, in whatever layout.
    cloudpickle.register_pickle_by_value(build)
    try:
        client.wait_for_workers(1, timeout=60)
        found: dict[str, tuple[str, str | None]] = client.run(build.installed)
    except TimeoutError:
        msg = "the Dask cluster has no workers (waited 60 s)"
        raise LogFilterError(msg) from None
    except Exception as exc:  # noqa: BLE001 - a worker that cannot even load this function
        msg = f"the cluster's workers cannot run logfilter ({type(exc).__name__}); install it there: {INSTALL}"
        raise ConfigError(msg) from None
    version, digest = build.identity()
    others = sorted({str(theirs) for theirs, _digest in found.values() if theirs != version})
    if others:
        msg = f"the cluster's workers run logfilter {', '.join(others)}, this client {version}; install one version"
        raise ConfigError(msg)
    digests = sorted({str(theirs) for _version, theirs in found.values() if theirs != digest})
    if digests:
        msg = (
            f"the cluster's workers run another build of logfilter {version} (source digest "
            f"{', '.join(digests)}; this client {digest}); install the same one on the client and the workers"
        )
        raise ConfigError(msg)
