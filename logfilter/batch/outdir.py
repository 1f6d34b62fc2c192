"""What a batch keeps in OUTDIR besides the outputs, where its state lives, and the sweep of what a run left behind.

OUTDIR holds only the sanitized mirror of the inputs, and while a run writes: hidden part
files of outputs not yet complete (sinks/atomic.py AtomicFile), spool files of archive
members (rewrite.py), and the marker of a cluster run in progress; none of them names an
input. A run sweeps the parts, spools and markers a killed run left, under the lock of
OUTDIR (none on an object store: one run per OUTDIR there is the operator's to keep). The
state (state.py), which names the inputs, lives in a folder of its own beside OUTDIR
(`OUTDIR.logfilter/`, or `--state DIR`); a state an older logfilter left inside OUTDIR
(LEGACY_STATE) is moved there.
"""

from __future__ import annotations

import os
import uuid

from logfilter.batch.store import Store, is_url
from logfilter.errors import ConfigError, LogFilterError
from logfilter.sinks.atomic import PART_SUFFIX

STATE = "batch.jsonl"  # in the state folder
STATE_SUFFIX = ".logfilter"  # the state folder's default name: OUTDIR's, followed by this
LEGACY_STATE = ".logfilter-batch.jsonl"  # where the state was, inside OUTDIR
SPOOL_PREFIX = ".logfilter-spool-"
RUN_PREFIX = ".logfilter-run-"


def is_ours(path: str) -> bool:
    """A file of ours, by its "/"-separated path: a state (in a state folder, or where older
    versions kept it), a part, a spool file or a run marker (never an input)."""
    folder, _, name = path.rpartition("/")
    return name == LEGACY_STATE or is_leftover(name) or name == STATE and folder.endswith(STATE_SUFFIX)


def is_leftover(name: str) -> bool:
    return name.startswith(".") and name.endswith(PART_SUFFIX) or name.startswith((SPOOL_PREFIX, RUN_PREFIX))


def state_folder(store: Store, outdir: str, given: str | None) -> str:
    """Where the state of OUTDIR lives: `given` (--state), else beside OUTDIR with STATE_SUFFIX;
    ConfigError when that would be inside OUTDIR or OUTDIR has no name to put it beside."""
    local = None if is_url(outdir) else os.path.abspath(outdir)  # beside the name given, links unresolved
    outside = local if local is not None else outdir.rstrip("/")
    if given is None:
        if local is None and "/" not in outside.partition("://")[2] or local is not None and local == "/":
            msg = f"{outdir}: no folder beside this OUTDIR to keep the batch state in; name one with --state DIR"
            raise ConfigError(msg)
        return store.join(outside + STATE_SUFFIX)
    folder = store.join(given)
    if store.key(folder)[0] == store.key(outdir)[0] and _under(store.key(folder)[1], store.key(outdir)[1]):
        msg = f"--state {given}: inside the output folder, which holds only the sanitized mirror; put it elsewhere"
        raise ConfigError(msg)
    return folder


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def move_legacy_state(store: Store, outdir: str, state: str) -> None:
    """Move a state an older logfilter kept inside OUTDIR to `state` (the file), unless one is
    there already; either way OUTDIR no longer holds it. Call it under the lock."""
    legacy = store.join(outdir, LEGACY_STATE)
    if not store.exists(legacy):
        return
    if not store.exists(state):
        store.write_whole(state, store.read_bytes(legacy))
    store.remove(legacy)


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
