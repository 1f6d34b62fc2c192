"""What a batch keeps in OUTDIR besides the outputs, and the sweep of what a run left behind.

The state file (state.py), hidden part files of outputs not yet complete (sinks/atomic.py AtomicFile),
spool files of archive members (rewrite.py), and the marker of a cluster run in progress. A
run sweeps the parts, spools and markers a killed run left, under the lock of OUTDIR (none
on an object store: one run per OUTDIR there is the operator's to keep).
"""

from __future__ import annotations

import uuid

from logfilter.batch.store import Store
from logfilter.errors import LogFilterError
from logfilter.sinks.atomic import PART_SUFFIX

STATE = ".logfilter-batch.jsonl"
SPOOL_PREFIX = ".logfilter-spool-"
RUN_PREFIX = ".logfilter-run-"


def is_ours(name: str) -> bool:
    """A file name of ours: the state, a part, a spool file or a run marker (never an input)."""
    return name == STATE or is_leftover(name)


def is_leftover(name: str) -> bool:
    return name.startswith(".") and name.endswith(PART_SUFFIX) or name.startswith((SPOOL_PREFIX, RUN_PREFIX))


def sweep(store: Store, outdir: str) -> int:
    """Remove the part and spool files and run markers under OUTDIR (left by a killed run, or
    by cluster attempts whose worker died); call it under the lock, if any. Returns how many."""
    removed = 0
    for path in list(store.find(outdir)):
        if is_leftover(path.rpartition("/")[2]):
            store.remove(path)
            removed += 1
    return removed


def start_run(store: Store, outdir: str) -> str:
    """Create this run's marker in OUTDIR (see sinks/atomic.py AtomicFile's `run`); return its path, for `end_run`."""
    marker = store.join(outdir, f"{RUN_PREFIX}{uuid.uuid4().hex[:16]}")
    try:
        store.open_write(marker).close()
    except OSError as exc:
        msg = f"{outdir}: cannot write in the output folder ({exc.strerror or type(exc).__name__})"
        raise LogFilterError(msg) from None
    return marker


def end_run(store: Store, marker: str) -> None:
    """Remove the run's marker: from now on no task of it writes an output."""
    store.remove(marker)
