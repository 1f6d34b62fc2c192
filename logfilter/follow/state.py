"""The state file (STATEFILE): each followed file's checkpoint, written atomically, checked when read.

A file is recorded by identity (device, inode, a fingerprint of its first bytes), with its
path and output name as bytes kept one character per byte, so any file name survives JSON.
A file stopped by an unparsable line under --on-error fail is recorded as failed, with the
reason: a restart does not read it again (it would fail at the same line) until it is another
file (its first bytes changed) or its entry is gone. Its `out` is then the whole output written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import orjson

from logfilter.errors import ConfigError
from logfilter.follow.options import Options
from logfilter.follow.outputs import Checkpoint, Fingerprint
from logfilter.follow.tail import Key, Tail
from logfilter.sinks.atomic import AtomicFile

VERSION = 1
_FIELDS = {"dev": int, "ino": int, "fp": str, "fp_size": int, "path": str, "output": str,
           "offset": int, "line": int, "out": int, "sent": int, "size": int}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Saved:
    """One file's entry, as a restart reads it."""

    fingerprint: Fingerprint
    path: Path  # where the file was
    output: Path  # its output's name, relative to OUTDIR
    checkpoint: Checkpoint
    sent: int  # how far records may have gone to stdout
    size: int  # the file's size when last looked at
    failed: str = ""  # why --on-error fail stopped it; "" if it did not

    @classmethod
    def parse(cls, item: dict[str, object]) -> Saved:
        """An entry with every field of the right type (KeyError or TypeError otherwise)."""
        for name, kind in _FIELDS.items():
            if not isinstance(item[name], kind):
                raise TypeError(name)
        failed = item.get("failed", "")
        if not isinstance(failed, str):
            raise TypeError("failed")
        number = {name: int(item[name]) for name in ("fp_size", "offset", "line", "out", "sent", "size")}  # type: ignore[call-overload]
        return cls(
            Fingerprint(str(item["fp"]), number["fp_size"]), _path(item["path"]), _path(item["output"]),
            Checkpoint(number["offset"], number["line"], number["out"]), number["sent"], number["size"], failed,
        )  # fmt: skip

    def is_in(self, fd: int) -> bool:
        """Whether the file open on `fd` is this one (same first bytes) and holds all that was checkpointed."""
        return self.fingerprint.matches(fd) and os.fstat(fd).st_size >= self.checkpoint.offset


def entry(tail: Tail, output: Path) -> dict[str, object]:
    """What the state file records of a followed file whose output is named `output`."""
    at = tail.checkpoint
    dev, ino = tail.key
    return {
        "dev": dev, "ino": ino, "fp": tail.fingerprint.digest, "fp_size": tail.fingerprint.size,
        "path": _text(os.path.abspath(tail.path)), "output": _text(output),
        "offset": at.offset, "line": at.line, "out": at.out, "sent": max(tail.emitted, tail.sent), "size": tail.size,
    } | ({"failed": tail.failure} if tail.failed else {})  # fmt: skip


class StateFile:
    """The state file of one follower: read once at the start, written whenever it changes."""

    def __init__(self, options: Options) -> None:
        self.path = options.state
        self.output_format = options.output_format
        self.output = str(options.outdir.resolve()) if options.outdir else "-"  # what the state is for
        self.new = False  # no state file at the start: --from-end applies
        self.synced = 0.0  # when it was last flushed to disk
        self._written = b""  # the state last written
        self._unsynced = False  # written since the last fsync

    def load(self) -> dict[Key, Saved]:
        """The checkpoints, by file; a ConfigError for a file that is not ours or is damaged."""
        path = self.path
        try:
            content = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            self.new = True
            return {}
        except (OSError, orjson.JSONDecodeError) as exc:
            msg = f"{path}: cannot read the state file ({getattr(exc, 'strerror', None) or 'not valid JSON'})"
            raise ConfigError(msg) from None
        if not isinstance(content, dict) or content.get("version") != VERSION:
            msg = f"{path}: not a logfilter follow state file (or from another version); give a new --state"
            raise ConfigError(msg)
        if content.get("format", "tlib") != self.output_format:
            msg = (f"{path}: this state belongs to --format {content.get('format', 'tlib')}, not "
                   f"{self.output_format}; use the same format, or a new --state")  # fmt: skip
            raise ConfigError(msg)
        if content.get("output") != self.output:
            msg = (f"{path}: this state belongs to output {content.get('output')}, not {self.output}; "
                   "use the same output, or a new --state")  # fmt: skip
            raise ConfigError(msg)
        try:
            return {(int(item["dev"]), int(item["ino"])): Saved.parse(item) for item in content["files"]}
        except (KeyError, TypeError, ValueError):
            msg = f"{path}: a file entry of the state file is damaged; give a new --state"
            raise ConfigError(msg) from None

    def save(self, entries: list[dict[str, object]], durable: bool, sync_outputs: Callable[[], None]) -> bool:
        """Write the entries if they changed; if `durable`, flush the outputs, then them, to disk.

        Returns whether it wrote; raises LogFilterError when it could not.
        """
        content = {"version": VERSION, "output": self.output, "format": self.output_format, "files": entries}
        data = orjson.dumps(content)
        if data == self._written and not (durable and self._unsynced):
            return False
        if durable:
            sync_outputs()
        with AtomicFile(self.path) as out:
            out.stream.write(data)
            out.commit(durable=durable)
        self._written, self._unsynced = data, not durable
        if durable:
            self.synced = monotonic()
        return True


def _text(path: Path | str) -> str:
    # File names are bytes: one character per byte keeps any of them in JSON, and back.
    return os.fsencode(path).decode("latin-1")


def _path(text: object) -> Path:
    return Path(os.fsdecode(str(text).encode("latin-1")))
