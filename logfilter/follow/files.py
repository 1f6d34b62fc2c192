"""The files being followed: each one's Tail, its output and output name, and the walk it is read with."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from time import monotonic

from logfilter.engines.handler import OnFailure, Walk
from logfilter.engines.registry import WalkChoice
from logfilter.errors import LogFilterError
from logfilter.follow import state
from logfilter.follow.health import Health
from logfilter.follow.options import Options, Say
from logfilter.follow.outputs import Checkpoint, FileOutput, Output, StdoutOutput
from logfilter.follow.tail import Key, Tail
from logfilter.names import printable
from logfilter.pipeline import failure_reporter
from logfilter.rules.compiled import Rules
from logfilter.sinks.atomic import part_path
from logfilter.sinks.modes import mode_for
from logfilter.stats import Stats

MAX_NOTES = 5  # lines failed closed noted on stderr per file; the rest are counted


def choice(options: Options) -> WalkChoice:
    """The engine and output format the followed files are read with (engines/registry.py)."""
    return WalkChoice(options.engine, options.output_format, options.all_lines)


def build_walk(options: Options, rules: Rules, stats: Stats, on_failure: OnFailure, file: str) -> Walk:
    """The walk a followed file is read with (`file`: its name, for the JSON objects)."""
    return choice(options).build(file, rules, stats, on_failure)


class Files:
    """The followed files by identity, and what each is written to: OUTDIR/<its name>, or stdout."""

    def __init__(
        self, options: Options, rules: Rules, stats: Stats, health: Health, say: Say, save: Callable[[bool], None]
    ) -> None:
        self.options, self.rules, self.stats, self.health, self.say = options, rules, stats, health, say
        self.tails: dict[Key, Tail] = {}
        self._names: dict[Key, Path] = {}  # output name (relative to OUTDIR) of each tail
        self.outdir = options.outdir.resolve() if options.outdir else None
        self.rotations: dict[str, int] = {"renamed": 0, "truncated": 0, "deleted": 0, "new": 0}
        self.outputs_recreated = 0  # outputs deleted or replaced by someone else, started again
        self._save = save  # the state, written (durably if asked) when it changed
        self._stdout = StdoutOutput() if options.outdir is None else None
        self._notes: dict[Key, int] = {}
        self._umask = os.umask(0o077)  # read it (there is no other way), then put it back
        os.umask(self._umask)

    @property
    def to_stdout(self) -> bool:
        return self._stdout is not None

    def open(self, key: Key, fd: int, path: Path, rel: Path, at: Checkpoint, fresh: bool) -> Tail:
        """Follow the file open on `fd` from `at`, into the output named `rel` (appended to unless `fresh`)."""
        output: Output
        if self._stdout is not None:
            output = self._stdout
        else:
            output = self._file_output(self.output_path(rel), fd, keep=at.out if not fresh else 0)
        intent = self._intent if self._stdout is not None else None
        tail = Tail(path, fd, key, output, self.walk_for(key, path), self.stats, at, quiet_since=monotonic(), intent=intent)
        self.tails[key] = tail
        self._names[key] = rel
        return tail

    def _file_output(self, path: Path, fd: int, keep: int) -> FileOutput:
        """The output at `path` of the input open on `fd`: readable by no more users than the input."""
        return FileOutput(path, keep, mode=mode_for(os.fstat(fd).st_mode, self._umask), root=self.outdir)

    def name_of(self, key: Key) -> Path:
        """The output name (relative to OUTDIR) of the followed file `key`."""
        return self._names[key]

    def owner_of(self, rel: Path) -> Tail | None:
        """The followed file whose output is named `rel`, if any."""
        return next((self.tails[key] for key, name in self._names.items() if name == rel), None)

    def rotated(self, kind: str) -> None:
        """Count a rotation for /metrics: renamed, truncated, deleted or new."""
        self.rotations[kind] += 1

    def _intent(self) -> None:
        # Before records go to stdout, the state says they may have gone (tail.sent): a restart counts them.
        self._save(False)

    def output_path(self, rel: Path) -> Path:
        """Where the output named `rel` is: under OUTDIR, `.jsonl` added in that format."""
        assert self.outdir is not None
        return self.outdir / (f"{rel}.jsonl" if self.options.output_format == "jsonl" else rel)

    def walk_for(self, key: Key, path: Path | None = None) -> Walk:
        """A new walk for the file `key`, with the rules in use; its failed lines noted up to MAX_NOTES."""

        def name() -> str:
            tail = self.tails.get(key)
            return tail.name if tail else "?"

        def warn(message: str) -> None:
            notes = self._notes[key] = self._notes.get(key, 0) + 1
            if notes <= MAX_NOTES:
                self.say(f"warning: {message}")
            elif notes == MAX_NOTES + 1:
                self.say(f"warning: {name()}: more lines failed closed in this file; they are counted in /metrics")

        fate = choice(self.options).fate  # as run says it
        on_failure = failure_reporter(lambda lineno: f"{name()}:{lineno}", self.options.on_error, warn, fate)
        return build_walk(self.options, self.rules, self.stats, on_failure, str(path) if path is not None else name())

    def reload(self, rules: Rules) -> None:
        """Read with `rules` from now on: each file takes them at its next split point."""
        self.rules = rules
        for tail in self.tails.values():
            tail.walk_from_next_split(self.walk_for(tail.key))

    def moved(self, tail: Tail, path: Path, rel: Path) -> None:
        """The file is now at `path`; with -o, its output is renamed to `rel`."""
        if path != tail.path:
            self.say(f"{tail.path}: renamed to {path}")
            self.rotated("renamed")
        tail.renamed(path)
        if self.outdir is not None and rel != self._names[tail.key]:
            self._move_output(tail, rel)
            self._save(False)  # a restart must look for the output under its new name

    def _move_output(self, tail: Tail, rel: Path) -> None:
        assert isinstance(tail.output, FileOutput) and self.outdir is not None
        for other in self.tails.values():  # a chain of renames: move the one in the way aside
            if other is not tail and self._names[other.key] == rel and isinstance(other.output, FileOutput):
                aside = part_path(other.output.path)
                other.output.rename(aside)
        tail.output.rename(self.output_path(rel))
        self._names[tail.key] = rel

    def rekey(self, tail: Tail, fd: int, key: Key) -> None:
        """The tail reads the file open on `fd` now (the copy of the one it read)."""
        old = tail.key
        del self.tails[old]
        tail.reads(fd, key)
        self.tails[key] = tail
        self._names[key] = self._names.pop(old)
        self._notes[key] = self._notes.pop(old, 0)

    def start_retiring(self, tail: Tail, now: float, why: str) -> None:
        """The file is no longer under a followed name: it is read to its end, then finished."""
        if tail.retiring is None:
            tail.retire(now)
            self.say(f"{tail.path}: {why}; reading it to its end")
            if why == "deleted":
                self.rotated("deleted")

    def close(self, tail: Tail) -> None:
        os.close(tail.fd)
        tail.output.close()

    def drop(self, tail: Tail) -> None:
        """Close the file and its output, and follow it no more."""
        self.close(tail)
        del self.tails[tail.key]
        self._names.pop(tail.key, None)
        self.health.solved(f"failed:{tail.key}")

    def fail(self, tail: Tail) -> None:
        """The file stopped at an unparsable line (--on-error fail): it is read no more, and
        /healthz says why until it goes (renamed away, deleted, truncated, or its state entry
        removed); the sidecar goes on with the other files, and a restart does not fail it again."""
        at = tail.checkpoint
        tail.checkpoint = Checkpoint(at.offset, at.line, tail.output.end)  # the lines before it are kept
        self.health.problem(f"failed:{tail.key}", f"{tail.failure}; {tail.name} is not followed any more")

    def problem(self, tail: Tail, exc: Exception) -> None:
        """The file cannot be read or its output written now: said once, on /healthz until it passes."""
        text = str(exc) if isinstance(exc, LogFilterError) else f"{tail.path}: cannot read ({exc.strerror})"  # type: ignore[attr-defined]
        self.health.problem(f"io:{tail.key}", text)

    def check_outputs(self) -> None:
        """Start an output again under its name when someone deleted or replaced it: writing on
        into a deleted file would lose everything from here on."""
        for tail in self.tails.values():
            output = tail.output
            if not isinstance(output, FileOutput) or not output.replaced():
                continue
            self.say(f"warning: {printable(str(output.path))}: the output was deleted or replaced; writing it again from here")
            output.close()
            try:
                tail.output_replaced(self._file_output(output.path, tail.fd, keep=0))  # a restart re-sends what went since
            except LogFilterError as exc:
                self.health.problem(f"io:{tail.key}", str(exc))  # the old output stays: writes fail and are retried
                continue
            self.outputs_recreated += 1

    def entries(self) -> list[dict[str, object]]:
        """Each file's entry in the state file."""
        return [state.entry(tail, self._names[tail.key]) for tail in self.tails.values()]

    def sync(self) -> None:
        """Flush the outputs to disk (before the checkpoints that count on them)."""
        for tail in self.tails.values():
            if isinstance(tail.output, FileOutput):
                tail.output.sync()
