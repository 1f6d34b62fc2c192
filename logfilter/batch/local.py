"""The local executor: a batch's files rewritten by a pool of worker processes on this machine.

Each worker compiles the rules once and rewrites whole files (tasks.rewrite_file). Big files
go first, so the last one to finish is a small one. Workers die with the parent (Linux), and
Ctrl-C or SIGTERM stops them at once: their part files are left for the next run's sweep.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from logfilter.batch.plan import Job
from logfilter.batch.rewrite import Outcome
from logfilter.batch.settings import Settings
from logfilter.batch.tasks import rewrite_file
from logfilter.errors import ConfigError
from logfilter.rules.compiled import Rules, compile_policy

TICK = 0.2  # seconds between progress updates


def worker_count(jobs: int | None) -> int:
    """The worker processes --jobs asks for (default: one per core); ConfigError below 1."""
    if jobs is None:
        return len(os.sched_getaffinity(0))
    if jobs < 1:
        msg = f"--jobs {jobs}: expected a whole number of at least 1"
        raise ConfigError(msg)
    return jobs


class LocalExecutor:
    """Runs a batch's jobs in `workers` processes of this machine (in this one for a single job)."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self._settings = settings
        self._workers = workers

    def execute(
        self, jobs: Sequence[Job], outdir: str, on_outcome: Callable[[Job, Outcome], None],
        progress: Callable[[int], None],
    ) -> None:  # fmt: skip
        """Process every job; report each outcome as it arrives, and the bytes read so far every
        TICK seconds. KeyboardInterrupt stops the workers at once."""
        # Bytes read, for the progress bar only: increments from two workers at once may be lost.
        counter = multiprocessing.get_context("fork").RawValue("q", 0)
        if self._workers <= 1 or len(jobs) <= 1:
            rules = compile_policy(self._settings.policy)
            for job in jobs:
                on_outcome(job, _rewrite(job, rules, self._settings, counter))
                progress(counter.value)
            return
        ordered = sorted(jobs, key=lambda job: job.size, reverse=True)
        start = (self._settings, counter, os.getpid())
        pool = ProcessPoolExecutor(min(self._workers, len(jobs)), multiprocessing.get_context("fork"), _start, start)
        try:
            pending: dict[Future[Outcome], Job] = {pool.submit(_work, job): job for job in ordered}
            while pending:
                finished, _ = wait(pending, timeout=TICK, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = pending.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        outcome = Outcome(job.name, "file", "failed", reason=f"{job.name}: a worker process died")
                    except Exception as exc:  # noqa: BLE001 - e.g. an outcome that would not pickle
                        reason = f"{job.name}: internal error ({type(exc).__name__}); no log data is shown"
                        outcome = Outcome(job.name, "file", "failed", reason=reason)
                    on_outcome(job, outcome)
                progress(counter.value)
        except BaseException:
            for worker in list(getattr(pool, "_processes", {}).values()):  # no public way before 3.14
                worker.kill()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _rewrite(job: Job, rules: Rules, settings: Settings, counter: ctypes.c_longlong) -> Outcome:
    # One writer per output (the lock on OUTDIR): its part needs no name of its own.
    return rewrite_file(job, settings, rules=rules, counter=counter, unique=False)


# --- in a worker process ---

_worker: tuple[Rules, Settings, ctypes.c_longlong] | None = None


def _start(settings: Settings, counter: ctypes.c_longlong, parent: int) -> None:
    global _worker
    _worker = (compile_policy(settings.policy), settings, counter)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by fork
    warnings.filterwarnings("ignore", module="zipfile")  # e.g. "Duplicate name": copied as found
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    # Linux: a parent killed with SIGKILL takes its workers along, so none writes on.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _work(job: Job) -> Outcome:
    assert _worker is not None, "the worker was not started"
    rules, settings, counter = _worker
    return _rewrite(job, rules, settings, counter)
