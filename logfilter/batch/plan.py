"""The work of a batch: its inputs walked into jobs, one per file, before any file is read.

The outcomes known by then (a folder that cannot be listed, a link to a folder, a special
file) come with the plan, and an output that would land on or inside an input is refused.
A folder INPUT comes out as OUTDIR/<its name>/..., a file as OUTDIR/<its name>. Local paths
and URLs are planned alike, through their store (store.py): the local store walks with
os.walk and knows a file by device and inode (a hard link, a bind mount), fsspec walks with
`find` and compares URLs normalised.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from logfilter.batch.outdir import is_ours
from logfilter.batch.rewrite import Outcome
from logfilter.batch.store import Entry, Store, is_url, store_for
from logfilter.errors import ConfigError
from logfilter.names import printable

OUTSIDE = "a link to a file outside the input folder; not followed"


@dataclass(frozen=True, slots=True)
class Job:
    """One input file and the output it becomes, by local path or URL."""

    source: str  # what is read (local links resolved)
    target: str
    name: str  # the input as the user would write it, for messages and the report
    size: int
    mtime_ns: int | None  # as planned; the state records these, so a later change means a redo


@dataclass(slots=True)
class Plan:
    """The work of one run: files to process, and outcomes known before any is read."""

    outdir: str
    store: Store  # OUTDIR's
    todo: list[Job] = field(default_factory=list)
    known: list[Outcome] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)  # the inputs on this machine's filesystem
    suffix: str = ""  # added to every output name (`.jsonl`)


def plan(inputs: Iterable[str], outdir: str, suffix: str = "", fsspec: bool = False) -> Plan:
    """Walk the inputs into jobs, each output name followed by `suffix` (`.jsonl`); refuse
    (ConfigError) an output on or inside an input. With `fsspec`, every path goes through
    fsspec (a batch that names a URL)."""
    out_store = store_for(outdir, fsspec)
    result = Plan(out_store.join(outdir), out_store, suffix=suffix)
    if _kind(out_store, outdir) not in (None, "folder"):
        msg = f"{result.outdir}: the output folder is an existing file"
        raise ConfigError(msg)
    out_key, out_identity = out_store.key(outdir), out_store.identity(outdir)
    tops: dict[str, tuple[tuple[str, str], str]] = {}
    seen: dict[str, Hashable | None] = {}  # each input file's identity, by name
    for item in inputs:
        store = store_for(item, fsspec)
        if not store.exists(item):
            msg = f"{printable(item)}: no such input file or folder"
            raise ConfigError(msg)
        key, top = store.key(item), store.name(item)
        local = store.local_path(item)
        if local is not None:
            result.roots.append(local.resolve())
        first, first_item = tops.setdefault(top, (key, item))
        if first != key:
            msg = (
                f"{printable(first_item)} and {printable(item)} would both be written to "
                f"{printable(out_store.join(result.outdir, top))}; sanitize them into separate output folders"
            )
            raise ConfigError(msg)
        if key[0] == out_key[0] and (out_key[1] == key[1] or out_key[1].startswith(key[1].rstrip("/") + "/")):
            msg = f"{result.outdir}: the output folder is inside the input {printable(item)}; choose one outside it"
            raise ConfigError(msg)
        root = store.join(item)
        for entry in store.walk(root, item):
            if entry.kind == "folder" and out_identity is not None and store.identity(entry.path) == out_identity:
                # the output folder by another path (a bind mount)
                msg = f"{result.outdir}: the output folder is inside the input {printable(root)} (as {entry.name})"
                raise ConfigError(msg)
            if entry.kind == "unlisted":
                result.known.append(Outcome(entry.name, "folder", "failed", reason=entry.reason))
            elif entry.kind == "outside":
                result.known.append(Outcome(entry.name, "file", "omitted", reason=OUTSIDE))
            elif entry.kind == "file" and not is_ours(entry.name):
                _add(result, store, entry, out_store.join(result.outdir, top, entry.rel) + suffix, seen)
    _refuse_overwrites(result, {identity: name for name, identity in seen.items() if identity is not None})
    return result


def _add(result: Plan, store: Store, entry: Entry, target: str, seen: dict[str, Hashable | None]) -> None:
    """The job of a regular file; what is not one is a known outcome (left out, or failed)."""
    name = entry.name
    link = _link_in_outdir(result, target)
    if link is not None:
        reason = f"{name}: {printable(str(link))} is a link inside the output folder; nothing is written through it"
        result.known.append(Outcome(name, "file", "failed", reason=reason))
        return
    try:
        info = store.stat(entry.path)
    except OSError as exc:
        result.known.append(Outcome(name, "file", "failed", reason=f"{name}: cannot read it ({_why(exc)})"))
        return
    if info.kind == "folder":
        result.known.append(Outcome(name, "folder", "omitted", reason="a link to a folder; not followed"))
    elif info.kind == "special":
        result.known.append(Outcome(name, "special", "omitted", reason="not a regular file"))
    elif name not in seen:  # else the same input named twice
        result.todo.append(Job(entry.path, target, name, info.size, info.mtime_ns))
        seen[name] = store.identity(entry.path)


def _refuse_overwrites(result: Plan, sources: dict[Hashable, str]) -> None:
    """No two inputs to one output, and no output on an input (`sources`: input names by identity)."""
    by_target: dict[str, str] = {}
    for job in result.todo:
        other = by_target.setdefault(job.target, job.name)
        if other != job.name:
            msg = f"{job.name} and {other} would both be written to {printable(job.target)}"
            raise ConfigError(msg)
        source = sources.get(result.store.identity(job.target))
        if source is not None:
            msg = f"{printable(job.target)}: the output would overwrite the input {source}"
            raise ConfigError(msg)


def _link_in_outdir(result: Plan, target: str) -> Path | None:
    """The first folder between OUTDIR and `target` that is a link (which would send the output
    out of OUTDIR), on this machine; None when there is none. OUTDIR itself is the user's to name."""
    outdir, path = result.store.local_path(result.outdir), result.store.local_path(target)
    if outdir is None or path is None:
        return None  # an object store has no links
    here = Path(outdir)
    for part in Path(target).relative_to(result.outdir).parts[:-1] if not is_url(target) else ():
        here = here / part
        if here.is_symlink():
            return here
    return None


def _kind(store: Store, path: str) -> str | None:
    try:
        return store.stat(path).kind
    except OSError:
        return None  # not there (or not to be examined: making it will say why)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
