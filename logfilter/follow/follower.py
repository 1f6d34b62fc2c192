"""`logfilter follow`: follow log files as they grow and rotate into sanitized copies, losing nothing.

Files are known by identity (device, inode, and a fingerprint of their first bytes), never
by name, so rotation is a change of name to keep up with:

- a new file under a followed name (a Genesys segment, or the file after a rotation) is
  followed from its start;
- a rename (logrotate) keeps the file's reader and engine; with -o, its output is renamed
  the same way. A file no longer under a followed name, renamed away or deleted, is read to
  its end while it is still open, then finished;
- a truncation (copytruncate) is met by finishing the old text from its copy beside it,
  when there is one, under the copy's name; the file itself starts over.

Checkpoints (tail.Checkpoint per file, in STATEFILE) are split points whose output is
written; a restart resumes there. With -o the output is cut back to the checkpoint's
offset first, so every record is in it once; on stdout the records after the checkpoint
are sent again, and counted.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from time import monotonic

import orjson

from logfilter.engines.handler import Walk
from logfilter.engines.registry import Choice, EngineName, Format
from logfilter.errors import ConfigError, InputError, LogFilterError
from logfilter.follow.outputs import FINGERPRINT, Checkpoint, FileOutput, Fingerprint, Output, StdoutOutput
from logfilter.follow.tail import Key, NotText, Tail, printable
from logfilter.parsing.events import last_event
from logfilter.parsing.lark_parser import message_header_regex
from logfilter.pipeline import OnError, failure_reporter
from logfilter.rules.compiled import Rules
from logfilter.sinks import AtomicFile, locked, part_path
from logfilter.sources.files import CHUNK
from logfilter.sources.sniff import SNIFF_SIZE, judge
from logfilter.stats import Stats

SCAN = 1.0  # seconds between looks for new, renamed and deleted files (sooner on a file event)
TICK = 0.2  # seconds between looks for growth when no file event comes
PAUSE = 0.05  # seconds at least between rounds when nothing is waiting, so events coalesce
RETIRE_AFTER = 2.0  # quiet seconds after which a file no longer under a followed name is finished
COPY_WAIT = 5.0  # seconds a new file that starts like a followed one waits to be its copy
SYNC_EVERY = 1.0  # seconds between checkpoints flushed to disk
MAX_NOTES = 5  # lines failed closed noted on stderr per file; the rest are counted
STATE_VERSION = 1

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    patterns: tuple[str, ...]
    outdir: Path | None  # None: stdout
    state: Path
    from_end: bool = False
    on_error: OnError = "redact"
    engine: EngineName = "fast"
    output_format: Format = "tlib"
    all_lines: bool = False


@dataclass(slots=True)
class Health:
    """What is wrong now, by place; empty while all is well."""

    problems: dict[str, str] = field(default_factory=dict)
    state: str = "starting"  # starting, following, stopping
    # Said on /healthz without making it fail: the rules file could not be reloaded and the
    # last good rules are in use (a 503 would get the pod restarted into the bad file).
    config: str = ""

    def report(self) -> tuple[bool, str]:
        problems = list(self.problems.values())
        if self.state != "following" or problems:
            return False, "; ".join([self.state] if self.state != "following" else problems)
        return True, f"following; {self.config}" if self.config else "following"


def pattern_base(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard: outputs are named relative to it."""
    fixed: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if re.search(r"[*?[]", part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


class Follower:
    """Follows the files matching the patterns until asked to stop."""

    def __init__(self, options: Options, chain: Rules, say: Say) -> None:
        self.options = options
        self.chain = chain
        self.say = say
        self.stats = Stats()
        self.health = Health()
        self.tails: dict[Key, Tail] = {}
        self.resent = 0  # records sent to stdout again after a restart
        self.rotations: dict[str, int] = {"renamed": 0, "truncated": 0, "deleted": 0, "new": 0}
        self.bases = [pattern_base(pattern) for pattern in options.patterns]
        self._rel: dict[Key, Path] = {}  # output name (relative to OUTDIR) of each tail
        self._notes: dict[Key, int] = {}
        self._candidates: dict[Key, float] = {}  # new files that may be copies: since when seen
        self._saved: dict[Key, dict[str, object]] = {}
        self._stdout = StdoutOutput() if options.outdir is None else None
        self._outdir = options.outdir.resolve() if options.outdir else None
        self._output = str(self._outdir) if self._outdir else "-"  # what the state file is for
        self._state = options.state.resolve()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._rescan = True
        self._reload: Callable[[], Rules] | None = None
        self._synced = 0.0
        self._written = b""  # the state last written
        self._new_state = False  # no state file at the start: --from-end applies
        self._refused: set[Key] = set()  # compressed or binary files: said once, never followed
        self._empty: set[Key] = set()  # new files with nothing in them yet
        self._told: set[str] = set()  # name clashes said once
        self._unsynced = False  # written since the last fsync
        self.reloads = {"done": 0, "failed": 0}
        self.outputs_recreated = 0  # outputs deleted or replaced by someone else, started again
        self._config: tuple[Path, Callable[[], Rules], object] | None = None  # watched rules file

    def watch_config(self, path: Path, load: Callable[[], Rules]) -> None:
        """Reload the rules when `path` changes (as SIGHUP does); keep them when it goes away."""
        self._config = (path, load, _signature(path))

    # -- control, from signal handlers and file events ---------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def reload(self, load: Callable[[], Rules]) -> None:
        self._reload = load
        self._wake.set()

    def poke(self, rescan: bool) -> None:
        """A file event: look now (and for new or moved files, if `rescan`)."""
        self._rescan = self._rescan or rescan
        self._wake.set()

    @property
    def waiting_for_content(self) -> bool:
        """Whether a new file is known to be empty: a write to it should start a scan."""
        return bool(self._empty)

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        """Follow until stop(); then emit what is complete, checkpoint and return.

        Raises InputError under --on-error fail, after checkpointing what came before.
        """
        opts = self.options
        with locked(opts.state.parent, opts.state.with_name(f".{opts.state.name}.lock")):
            if self._outdir is None:
                return self._run()
            with locked(self._outdir):
                return self._run()

    def _run(self) -> None:
        self._saved = self._load()
        self._scan(first=True)
        self._save(durable=True)
        self.health.state = "following"
        next_scan = monotonic() + SCAN
        try:
            while not self._stop.is_set():
                now = monotonic()
                if self._reload is not None:
                    self._apply_reload()
                if self._rescan or now >= next_scan:
                    self._rescan = False
                    self._scan()
                    next_scan = now + SCAN
                busy = False
                for tail in list(self.tails.values()):
                    busy |= self._step(tail, now)
                self._retire(now)
                self._save(durable=now - self._synced >= SYNC_EVERY)
                if not busy:
                    self._stop.wait(PAUSE)
                    self._wake.wait(TICK)
                    self._wake.clear()
        finally:
            self.health.state = "stopping"
            self._drain()

    def _drain(self) -> None:
        # What was written just before the stop is read (a backlog waits for the restart),
        # and every complete line is emitted.
        if self._empty:
            self._scan()  # files that were empty at the last look may hold text by now
        now = monotonic()
        for tail in self.tails.values():
            if tail.failed:
                continue
            try:
                tail.step(now, budget=CHUNK)
                tail.drain()
            except BrokenPipeError:
                break  # nobody reads stdout any more; the checkpoint stands
            except (LogFilterError, OSError) as exc:
                self._problem(tail, exc)
        self._save(durable=True)
        for tail in self.tails.values():
            self._close(tail)

    def _step(self, tail: Tail, now: float, truncation_only: bool = False) -> bool:
        """Check the file for truncation, then (unless `truncation_only`) read and emit what it grew by."""
        try:
            if tail.truncated() or tail.retiring is None and not tail.fingerprint.matches(tail.fd):
                self._truncated(tail, now)
                return True
            if truncation_only:
                return False
            more = tail.step(now)
        except NotText as exc:
            self._refuse(tail, exc)
            return False
        except InputError:
            self._save(durable=True)
            raise
        except BrokenPipeError:
            raise
        except (LogFilterError, OSError) as exc:
            self._problem(tail, exc)
            return False
        self.health.problems.pop(f"io:{tail.key}", None)
        if tail.fingerprint.size < min(tail.size, FINGERPRINT):
            tail.fingerprint = Fingerprint.of(tail.fd)  # the file was shorter than a fingerprint
        return more

    # -- finding files ----------------------------------------------------------------------
    def _matches(self) -> dict[Key, tuple[Path, Path]]:
        """Every followed file now: identity to (path, base of its pattern)."""
        found: dict[Key, tuple[Path, Path]] = {}
        for pattern, base in zip(self.options.patterns, self.bases, strict=True):
            for name in sorted(glob.glob(pattern, recursive=True)):
                path = Path(name)
                if self._ours(path):
                    continue
                try:
                    info = os.stat(path)
                except OSError:
                    continue  # gone since the glob saw it
                if stat.S_ISREG(info.st_mode):
                    found.setdefault((info.st_dev, info.st_ino), (path, base))
        return found

    def _ours(self, path: Path) -> bool:
        # Our own outputs and state must never be read back as input.
        real, state = path.resolve(), self._state
        if real.parent == state.parent and real.name.startswith((state.name, f".{state.name}")):
            return True
        return self._outdir is not None and real.is_relative_to(self._outdir)

    def _scan(self, first: bool = False) -> None:
        self._check_config()
        self._check_outputs()
        found = self._matches()
        seen = {f"open:{path}" for path, _ in found.values()}
        self._empty &= set(found)
        now = monotonic()
        for key, tail in list(self.tails.items()):
            if key in found:
                path, base = found[key]
                if path != tail.path:
                    self._moved(tail, path, self._rel_of(path, base))
                continue
            if tail.retiring is not None:
                continue
            beside = _find_inode(tail.path.parent, tail.key)
            try:
                gone = os.fstat(tail.fd).st_nlink == 0
            except OSError:
                gone = True
            if beside is not None and not gone:
                self._moved(tail, beside, self._rel[key].with_name(beside.name))
                self._start_retiring(tail, now, "renamed to a name not followed")
            else:
                self._start_retiring(tail, now, "deleted" if gone else "moved away")
        for tail in list(self.tails.values()):
            self._step(tail, now, truncation_only=True)  # a copy made to truncate it is no new file
        if first:  # checkpointed files first: a new file must not take an output they still own
            for key, (path, base) in found.items():
                if key in self._saved:
                    self._discover(key, path, base, now, first)
            self._resume_missing(set(found))
        for key, (path, base) in found.items():
            if key not in self.tails:
                self._discover(key, path, base, now, first)
        for where in [where for where in self.health.problems if where.startswith("open:")]:
            if where not in seen:  # the file is gone
                self.health.problems.pop(where)
        self._save(durable=False)  # renames and new files are on record before anything else

    def _rel_of(self, path: Path, base: Path) -> Path:
        return path.relative_to(base) if path.is_relative_to(base) else Path(path.name)

    def _discover(self, key: Key, path: Path, base: Path, now: float, first: bool) -> None:
        rel = self._rel_of(path, base)
        owner = next((self.tails[other] for other, name in self._rel.items() if name == rel), None)
        if self._outdir is not None and owner is not None:
            # A file of that name is being finished (its output goes first), or another
            # pattern's file has the same name (said once; use separate followers).
            if owner.retiring is None and owner.path != path and str(path) not in self._told:
                self._told.add(str(path))
                self.say(f"error: {path}: not followed: its output name {rel} is taken by {owner.path}")
            return
        if key in self._refused:
            return
        where = f"open:{path}"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            self._set_problem(where, f"{path}: cannot read ({exc.strerror})")
            return
        try:
            if self._copy_of_followed(key, fd, path, now):
                os.close(fd)
                return
            if os.fstat(fd).st_size == 0:  # what it holds is not known yet: look again when it grows
                self._empty.add(key)
                os.close(fd)
                return
            self._empty.discard(key)
            if _not_text(fd, path, self.say):
                self._refused.add(key)
                os.close(fd)
                return
            saved = self._saved.pop(key, None)
            if saved is not None and _same_file(saved, fd):
                self._resume(key, fd, path, rel, saved)
            else:
                if saved is not None and _path(saved["path"]) == Path(os.path.abspath(path)):
                    self._copied_while_stopped(saved, path)
                from_end = first and self.options.from_end and self._new_state  # later files: all of them
                at = _end_split(fd) if from_end else Checkpoint(0, 0, 0)
                self._open(key, fd, path, rel, at, fresh=True)
                self.rotations["new"] += not first
                self.say(f"following {path}" + (f" from line {at.line + 1}" if at.line else ""))
        except (OSError, LogFilterError) as exc:
            os.close(fd)
            text = str(exc) if isinstance(exc, LogFilterError) else f"{path}: cannot read ({exc.strerror})"
            self._set_problem(where, text)
            return
        self.health.problems.pop(where, None)

    def _copy_of_followed(self, key: Key, fd: int, path: Path, now: float) -> bool:
        """Whether this new file may be a copy of a followed one, made to truncate it: wait, then.

        A file beside a followed one, no larger, whose bytes so far (its first KiB at most)
        are how the followed one starts, may be a copy in the making; it waits COPY_WAIT
        seconds at most. A copy found at the truncation is not followed on its own.
        """
        head = os.pread(fd, FINGERPRINT, 0)
        size = os.fstat(fd).st_size
        for tail in self.tails.values():
            if (
                tail.path.parent == path.parent
                and size <= os.fstat(tail.fd).st_size
                and os.pread(tail.fd, len(head), 0) == head
            ):
                since = self._candidates.setdefault(key, now)
                if now - since < COPY_WAIT:
                    return True
        self._candidates.pop(key, None)
        return False

    def _open(self, key: Key, fd: int, path: Path, rel: Path, at: Checkpoint, fresh: bool) -> Tail:
        output: Output
        if self._stdout is not None:
            output = self._stdout
        else:
            output = FileOutput(self._output_path(rel), keep=at.out if not fresh else 0)
        tail = Tail(path, fd, key, output, self._engine(key, path), self.stats, at)
        tail.quiet_since = monotonic()
        if self._stdout is not None:
            tail.intent = partial(self._intent, tail)
        self.tails[key] = tail
        self._rel[key] = rel
        return tail

    def _intent(self, tail: Tail, end: int) -> None:
        # Before records go to stdout, the state says they may have gone: a restart counts them.
        tail.sent = end
        self._save(durable=False)

    def _output_path(self, rel: Path) -> Path:
        """Where the output named `rel` is: under OUTDIR, `.jsonl` added in that format."""
        assert self._outdir is not None
        return self._outdir / (f"{rel}.jsonl" if self.options.output_format == "jsonl" else rel)

    def _engine(self, key: Key, path: Path | None = None) -> Walk:
        def name() -> str:
            tail = self.tails.get(key)
            return tail.name if tail else "?"

        def warn(message: str) -> None:
            notes = self._notes[key] = self._notes.get(key, 0) + 1
            if notes <= MAX_NOTES:
                self.say(f"warning: {message}")
            elif notes == MAX_NOTES + 1:
                self.say(f"warning: {name()}: more lines failed closed in this file; they are counted in /metrics")

        choice = Choice(self.options.engine, self.options.output_format, self.options.all_lines)
        on_failure = failure_reporter(lambda lineno: f"{name()}:{lineno}", self.options.on_error, warn, choice.fate)
        return choice.build(str(path) if path is not None else name(), self.chain, self.stats, on_failure)

    # -- restarts ---------------------------------------------------------------------------
    def _resume(self, key: Key, fd: int, path: Path, rel: Path, saved: dict[str, object]) -> None:
        """Go on from a checkpoint; the output, under its recorded name, is renamed to `rel` if needed."""
        at = Checkpoint(int(saved["offset"]), int(saved["line"]), int(saved["out"]))  # type: ignore[arg-type]
        if self._outdir is not None:
            recorded = _path(saved["output"])
            have = FileOutput.size_of(self._output_path(recorded))
            if have < at.out:
                self.say(f"{path}: its output {recorded} is missing or shorter than checkpointed; writing it anew")
                self._open(key, fd, path, rel, Checkpoint(0, 0, 0), fresh=True)
                return
            tail = self._open(key, fd, path, recorded, at, fresh=False)
            if recorded != rel:  # renamed while logfilter was stopped
                self._moved(tail, path, rel)
        else:
            self._open(key, fd, path, rel, at, fresh=False)
        sent = int(saved.get("sent", at.offset))  # type: ignore[call-overload]
        again = _count_records(fd, at.offset, sent) if self._stdout is not None else 0
        self.resent += again
        note = f"; sending {again} messages again (sent before the stop, maybe only in part)" if again else ""
        self.say(f"resuming {path} at line {at.line + 1}{note}")

    def _copied_while_stopped(self, saved: dict[str, object], path: Path) -> None:
        """A checkpointed file was truncated while we were stopped: finish its text from its copy."""
        fingerprint = Fingerprint(str(saved["fp"]), int(saved["fp_size"]))  # type: ignore[call-overload]
        offset = int(saved["offset"])  # type: ignore[call-overload]
        copy = _find_copy(path.parent, fingerprint, offset, exclude=set(self.tails))
        if copy is None:
            self.say(f"{path}: truncated while logfilter was stopped; what was written after line "
                     f"{int(saved['line']) + 1} and before the truncation was not read")  # type: ignore[call-overload]
            return
        cpath, cfd, ckey = copy
        self._resume(ckey, cfd, cpath, _path(saved["output"]).with_name(cpath.name), saved)

    def _resume_missing(self, found: set[Key]) -> None:
        """Checkpointed files no longer under a followed name: finish them if they can be found."""
        for key, saved in self._saved.items():
            if key in found:
                continue  # under a followed name, and not taken in yet: the next scan will
            path = _path(saved["path"])
            beside = _find_inode(path.parent, key)
            fd = _open(beside) if beside is not None else None
            if beside is not None and fd is not None:
                if _same_file(saved, fd):
                    self._resume(key, fd, beside, _path(saved["output"]).with_name(beside.name), saved)
                    self._start_retiring(self.tails[key], monotonic(), "not under a followed name")
                    continue
                os.close(fd)
            if int(saved["offset"]) < int(saved["size"]):  # type: ignore[call-overload]
                self.say(f"{path}: gone while logfilter was stopped; what was written after line "
                         f"{int(saved['line']) + 1} was not read")  # type: ignore[call-overload]
        self._saved = {}

    # -- rotation ---------------------------------------------------------------------------
    def _moved(self, tail: Tail, path: Path, rel: Path) -> None:
        if path != tail.path:
            self.say(f"{tail.path}: renamed to {path}")
            self.rotations["renamed"] += 1
        tail.path = path
        if self._outdir is not None and rel != self._rel[tail.key]:
            self._move_output(tail, rel)
            self._save(durable=False)  # a restart must look for the output under its new name

    def _move_output(self, tail: Tail, rel: Path) -> None:
        assert isinstance(tail.output, FileOutput) and self.options.outdir is not None
        for other in self.tails.values():  # a chain of renames: move the one in the way aside
            if other is not tail and self._rel[other.key] == rel and isinstance(other.output, FileOutput):
                aside = part_path(other.output.path)
                other.output.rename(aside)
        tail.output.rename(self._output_path(rel))
        self._rel[tail.key] = rel

    def _truncated(self, tail: Tail, now: float) -> None:
        """Finish the text before the truncation (from its copy, if one is beside it); start over."""
        self.rotations["truncated"] += 1
        copy = _find_copy(tail.path.parent, tail.fingerprint, tail.offset, exclude=set(self.tails))
        fd, key, path, rel = tail.fd, tail.key, tail.path, self._rel[tail.key]
        if copy is None:
            # What was read of the old text goes out; nothing more is read of it, because the
            # bytes at the old offsets may already be new text.
            self.say(f"{path}: truncated; following it from its start (no copy of the old text beside it)")
            tail.end_text()
            tail.restart(fd, key, self._engine(key))
            return
        cpath, cfd, ckey = copy
        self.say(f"{path}: truncated; finishing its old text from its copy {cpath}")
        self._candidates.pop(ckey, None)
        del self.tails[key]
        tail.fd, tail.key = cfd, ckey
        self.tails[ckey] = tail
        self._rel[ckey] = self._rel.pop(key)
        self._notes[ckey] = self._notes.pop(key, 0)
        self._moved(tail, cpath, self._rel[ckey].with_name(cpath.name))
        tail.step(now, budget=1 << 40)
        self._open(key, fd, path, rel, Checkpoint(0, 0, 0), fresh=True)
        if ckey not in self._matches():
            self._start_retiring(tail, now, "its copy is not under a followed name")

    def _start_retiring(self, tail: Tail, now: float, why: str) -> None:
        if tail.retiring is None:
            tail.retiring = now
            self.say(f"{tail.path}: {why}; reading it to its end")
            if why == "deleted":
                self.rotations["deleted"] += 1

    def _retire(self, now: float) -> None:
        """Finish the files no longer followed once they have been quiet for RETIRE_AFTER."""
        for key, tail in list(self.tails.items()):
            if tail.retiring is None or tail.failed or now - max(tail.retiring, tail.quiet_since) < RETIRE_AFTER:
                continue
            try:
                tail.finish()
            except BrokenPipeError:
                raise
            except (LogFilterError, OSError) as exc:
                self._problem(tail, exc)
                continue
            self.say(f"{tail.path}: finished ({tail.line} lines)")
            self._close(tail)
            del self.tails[key]
            self._rel.pop(key, None)

    def _refuse(self, tail: Tail, exc: NotText) -> None:
        """Stop following a file found not to be text as its head arrived; what came before is written."""
        try:
            tail.drain()  # the complete lines read before the chunk that showed it
        except (LogFilterError, OSError):
            pass
        self.say(str(exc))
        self._refused.add(tail.key)
        self._close(tail)
        del self.tails[tail.key]
        self._rel.pop(tail.key, None)

    def _close(self, tail: Tail) -> None:
        os.close(tail.fd)
        tail.output.close()

    # -- reload -----------------------------------------------------------------------------
    def _apply_reload(self) -> None:
        load, self._reload = self._reload, None
        assert load is not None
        try:
            chain = load()
        except ConfigError as exc:
            self.reloads["failed"] += 1
            self.health.config = f"rules not reloaded ({exc}); the last good rules are in use"
            self.say(f"reload: {exc}; keeping the rules in use")
            return
        self.chain = chain
        self.reloads["done"] += 1
        self.health.config = ""
        for tail in self.tails.values():
            tail.next_engine = self._engine(tail.key)
        self.say("reloaded the rules; each file takes them at its next message")

    def _check_config(self) -> None:
        """Reload a rules file that changed; say once that it went away (the rules in use stay)."""
        if self._config is None:
            return
        path, load, seen = self._config
        now = _signature(path)
        if now == seen:
            return
        self._config = (path, load, now)
        if now is None:
            self.health.config = f"rules file {printable(path)} is gone; the last good rules are in use"
            self.say(f"warning: {self.health.config}")
        else:
            self._reload = load

    def _check_outputs(self) -> None:
        """Start an output again under its name when someone deleted or replaced it: writing on
        into a deleted file would lose everything from here on."""
        for tail in self.tails.values():
            output = tail.output
            if not isinstance(output, FileOutput) or not output.replaced():
                continue
            self.say(f"warning: {printable(output.path)}: the output was deleted or replaced; writing it again from here")
            output.close()
            try:
                tail.output = FileOutput(output.path, keep=0)
            except LogFilterError as exc:
                tail.output = output  # writes fail and are retried; /healthz says why
                self._set_problem(f"io:{tail.key}", str(exc))
                continue
            at = tail.checkpoint
            tail.checkpoint = Checkpoint(at.offset, at.line, 0)  # a restart re-sends what went since
            self.outputs_recreated += 1

    # -- checkpoints ------------------------------------------------------------------------
    def _entry(self, tail: Tail) -> dict[str, object]:
        at = tail.checkpoint
        dev, ino = tail.key
        return {
            "dev": dev, "ino": ino, "fp": tail.fingerprint.digest, "fp_size": tail.fingerprint.size,
            "path": _text(os.path.abspath(tail.path)), "output": _text(self._rel[tail.key]),
            "offset": at.offset, "line": at.line, "out": at.out, "sent": max(tail.emitted, tail.sent), "size": tail.size,
        }  # fmt: skip

    def _load(self) -> dict[Key, dict[str, object]]:
        path = self.options.state
        try:
            content = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            self._new_state = True
            return {}
        except (OSError, orjson.JSONDecodeError) as exc:
            msg = f"{path}: cannot read the state file ({getattr(exc, 'strerror', None) or 'not valid JSON'})"
            raise ConfigError(msg) from None
        if not isinstance(content, dict) or content.get("version") != STATE_VERSION:
            msg = f"{path}: not a logfilter follow state file (or from another version); give a new --state"
            raise ConfigError(msg)
        if content.get("format", "tlib") != self.options.output_format:
            msg = (f"{path}: this state belongs to --format {content.get('format', 'tlib')}, not "
                   f"{self.options.output_format}; use the same format, or a new --state")  # fmt: skip
            raise ConfigError(msg)
        if content.get("output") != self._output:
            msg = (f"{path}: this state belongs to output {content.get('output')}, not {self._output}; "
                   "use the same output, or a new --state")  # fmt: skip
            raise ConfigError(msg)
        try:
            return {(int(item["dev"]), int(item["ino"])): _checked(item) for item in content["files"]}
        except (KeyError, TypeError, ValueError):
            msg = f"{path}: a file entry of the state file is damaged; give a new --state"
            raise ConfigError(msg) from None

    def _save(self, durable: bool) -> None:
        """Write the checkpoints if they changed; if `durable`, flush outputs, then them, to disk."""
        content = {
            "version": STATE_VERSION,
            "output": self._output,
            "format": self.options.output_format,
            "files": [self._entry(tail) for tail in self.tails.values()],
        }
        data = orjson.dumps(content)
        if data == self._written and not (durable and self._unsynced):
            return
        try:
            if durable:
                for tail in self.tails.values():
                    if isinstance(tail.output, FileOutput):
                        tail.output.sync()
            with AtomicFile(self.options.state) as out:
                out.stream.write(data)
                out.commit(durable=durable)
        except LogFilterError as exc:
            self._set_problem("state", str(exc))
            return
        self.health.problems.pop("state", None)
        self._written, self._unsynced = data, not durable
        if durable:
            self._synced = monotonic()

    def _problem(self, tail: Tail, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, LogFilterError) else f"{tail.path}: cannot read ({exc.strerror})"  # type: ignore[attr-defined]
        self._set_problem(f"io:{tail.key}", text)

    def _set_problem(self, where: str, text: str) -> None:
        """Say a problem on stderr once, and keep it for /healthz until it is gone."""
        if self.health.problems.get(where) != text:
            self.say(f"error: {text}")
        self.health.problems[where] = text


_FIELDS = {"dev": int, "ino": int, "fp": str, "fp_size": int, "path": str, "output": str,
           "offset": int, "line": int, "out": int, "sent": int, "size": int}  # fmt: skip


def _signature(path: Path) -> object:
    """What tells a changed rules file from the same one (None: it is not there)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _checked(item: dict[str, object]) -> dict[str, object]:
    """A state entry with every field of the right type (KeyError or TypeError otherwise)."""
    for name, kind in _FIELDS.items():
        if not isinstance(item[name], kind):
            raise TypeError(name)
    return item


def _text(path: Path | str) -> str:
    # File names are bytes: one character per byte keeps any of them in JSON, and back.
    return os.fsencode(path).decode("latin-1")


def _path(text: object) -> Path:
    return Path(os.fsdecode(str(text).encode("latin-1")))


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _same_file(saved: dict[str, object], fd: int) -> bool:
    fingerprint = Fingerprint(str(saved["fp"]), int(saved["fp_size"]))  # type: ignore[call-overload]
    return fingerprint.matches(fd) and os.fstat(fd).st_size >= int(saved["offset"])  # type: ignore[call-overload]


def _find_inode(folder: Path, key: Key) -> Path | None:
    """The name a file has now in `folder`, if it is still there."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.inode() == key[1] and entry.is_file() and entry.stat().st_dev == key[0]:
                    return Path(entry.path)
    except OSError:
        pass
    return None


def _find_copy(
    folder: Path, fingerprint: Fingerprint, offset: int, exclude: set[Key]
) -> tuple[Path, int, Key] | None:
    """A file beside the truncated one that starts with its text and holds all that was read."""
    if not fingerprint.size:
        return None
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return None
    for entry in entries:
        try:
            if not entry.is_file() or entry.stat().st_size < offset:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino)
        if key not in exclude and fingerprint.matches(fd):
            return Path(entry.path), fd, key
        os.close(fd)
    return None


def _end_split(fd: int) -> Checkpoint:
    """The last split point of a file that starts a log event (--from-end): its last record is
    read again, never cut, and never entered inside a value printed over several lines."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - CHUNK)
        window = os.pread(fd, end - start, start)
        cut = 0 if start == 0 else window.find(b"\n") + 1
        if start and not cut:
            end = start
            continue
        lines = window[cut:] if window.endswith(b"\n") else window[cut:] + b"\n"
        split = last_event(lines)
        if split >= 0:
            offset = start + cut + split
            return Checkpoint(offset, _count_lines(fd, offset), 0)
        end = start + cut
    return Checkpoint(0, 0, 0)


def _count_lines(fd: int, end: int) -> int:
    return sum(chunk.count(b"\n") for chunk in _chunks(fd, 0, end))


def _count_records(fd: int, start: int, end: int) -> int:
    """Message headers in a range of a file: the records a restart sends again."""
    headers = message_header_regex()
    data = b"".join(_chunks(fd, start, end))
    return sum(1 for line in data.split(b"\n") if headers.search(line))


def _chunks(fd: int, start: int, end: int) -> Iterator[bytes]:
    while start < end and (chunk := os.pread(fd, min(CHUNK, end - start), start)):
        start += len(chunk)
        yield chunk


def _not_text(fd: int, path: Path, say: Say) -> bool:
    """Compressed, archived or binary files (UTF-16 text too) are never followed: they would
    pass through unread, and unmasked."""
    head = os.pread(fd, SNIFF_SIZE, 0)
    verdict = judge(head, partial=len(head) < SNIFF_SIZE)  # a partial head is looked at again as it grows (Tail)
    if not verdict.is_text:
        say(verdict.not_followed(str(path)))
        return True
    return False


def watch(follower: Follower) -> object | None:
    """Wake the follower on file events (inotify, through watchdog); it polls all the same."""
    try:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:  # polling alone keeps every promise, a little later
        return None
    logging.getLogger("watchdog").setLevel(logging.ERROR)  # its notes at stop are not ours to print

    wanted = {"created", "deleted", "moved", "modified", "closed"}  # not our own opens and reads

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in wanted:
                follower.poke(rescan=event.event_type != "modified" or follower.waiting_for_content)

    observer = Observer()
    observer.daemon = True
    handler = Handler()
    for pattern, base in zip(follower.options.patterns, follower.bases, strict=True):
        deep = len(Path(pattern).parts) - len(base.parts) > 1
        try:
            observer.schedule(handler, str(base), recursive=deep)
        except OSError:
            continue  # a folder that is not there yet: polling finds it
    try:
        observer.start()
    except OSError:
        return None
    return observer
