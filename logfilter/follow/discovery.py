"""Finding the followed files: the patterns looked up again every scan, files known by identity.

A file is known by device and inode whatever its name. A new file may be a copy of a
followed one (made to truncate it). Files that are not text logs are never followed: they
would pass through unread, and unmasked.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from logfilter.errors import ConfigError, LogFilterError
from logfilter.follow.files import Files
from logfilter.follow.health import Health
from logfilter.follow.options import Options, Say
from logfilter.follow.outputs import FINGERPRINT, Fingerprint
from logfilter.follow.patterns import Unmatched
from logfilter.follow.tail import Key
from logfilter.names import printable
from logfilter.sources.sniff import SNIFF_SIZE, judge

if TYPE_CHECKING:
    from logfilter.follow.restarts import Restarts  # which imports this module's finders

COPY_WAIT = 5.0  # seconds a new file that starts like a followed one waits to be its copy


def pattern_base(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard: outputs are named relative to it."""
    fixed: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if re.search(r"[*?[]", part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def refuse_outdir_over_inputs(patterns: tuple[str, ...], outdir: Path | None) -> None:
    """Refuse an OUTDIR that holds followed files: outputs have the inputs' names and would overwrite them."""
    if outdir is None:
        return
    real = outdir.resolve()
    for pattern in patterns:
        base = pattern_base(pattern).resolve()
        if base == real or base.is_relative_to(real):
            msg = f"{outdir}: OUTDIR holds the files {pattern} follows; outputs would overwrite them"
            raise ConfigError(msg)


def find_inode(folder: Path, key: Key) -> Path | None:
    """The name a file has now in `folder`, if it is still there."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.inode() == key[1] and entry.is_file() and entry.stat().st_dev == key[0]:
                    return Path(entry.path)
    except OSError:
        pass
    return None


def find_copy(folder: Path, fingerprint: Fingerprint, offset: int, exclude: set[Key]) -> tuple[Path, int, Key] | None:
    """A file beside the truncated one that starts with its text and holds all that was read."""
    if not fingerprint.size:
        return None
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return None
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_file() or entry.stat().st_size < offset:
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


class Discovery:
    """Looks for the followed files; hands new ones to Restarts to be taken up."""

    def __init__(self, options: Options, files: Files, restarts: Restarts, health: Health, say: Say) -> None:
        self.options, self.files, self.restarts, self.health, self.say = options, files, restarts, health, say
        self.bases = [pattern_base(pattern) for pattern in options.patterns]
        self._candidates: dict[Key, float] = {}  # new files that may be copies: since when seen
        self._refused: set[Key] = set()  # compressed or binary files: said once, never followed
        self.empty: set[Key] = set()  # new files with nothing in them yet
        self._told: set[str] = set()  # name clashes said once
        self._state = options.state.resolve()
        self.unmatched = Unmatched(options.patterns, options.unmatched_grace, health, say)
        self._matched: set[str] = set()  # the patterns that matched a file at the last look
        # Names that lead out of their pattern's folder (a link to /etc/shadow or to the hash
        # key): never followed, said once while they stay.
        self.links: dict[Path, Path] = {}  # to the folder of the pattern it matched

    def matches(self) -> dict[Key, tuple[Path, Path]]:
        """Every followed file now: identity to (path, base of its pattern)."""
        found: dict[Key, tuple[Path, Path]] = {}
        self._matched = set()
        links: dict[Path, Path] = {}
        for pattern, base in zip(self.options.patterns, self.bases, strict=True):
            real_base = base.resolve()
            for name in sorted(glob.glob(pattern, recursive=True)):
                path = Path(name)
                if self._ours(path):
                    continue
                try:
                    info = os.stat(path)
                except OSError:
                    continue  # gone since the glob saw it
                if not stat.S_ISREG(info.st_mode):
                    continue
                self._matched.add(pattern)
                if not path.resolve().is_relative_to(real_base):
                    links[path] = base  # reached through a link out of the pattern's folder: not a log of ours
                    continue
                found.setdefault((info.st_dev, info.st_ino), (path, base))
        for path, base in sorted(links.items()):
            if path not in self.links:
                self.say(f"error: {printable(str(path))}: not followed: a link to a file outside {printable(str(base))}/")
        self.links = links
        return found

    def _ours(self, path: Path) -> bool:
        # Our own outputs and state must never be read back as input.
        real, state = path.resolve(), self._state
        if real.parent == state.parent and real.name.startswith((state.name, f".{state.name}")):
            return True
        return self.files.outdir is not None and real.is_relative_to(self.files.outdir)

    def look(self, now: float) -> dict[Key, tuple[Path, Path]]:
        """Find the followed files; follow renames, and start retiring the files no longer found."""
        found = self.matches()
        self.unmatched.look(self._matched, now)
        self.empty &= set(found)
        files = self.files
        for key, tail in list(files.tails.items()):
            if key in found:
                path, base = found[key]
                if path != tail.path:
                    files.moved(tail, path, _rel_of(path, base))
                continue
            if tail.retiring is not None:
                continue
            beside = find_inode(tail.path.parent, tail.key)
            try:
                gone = os.fstat(tail.fd).st_nlink == 0
            except OSError:
                gone = True
            if beside is not None and not gone:
                files.moved(tail, beside, files.name_of(key).with_name(beside.name))
                files.start_retiring(tail, now, "renamed to a name not followed")
            else:
                files.start_retiring(tail, now, "deleted" if gone else "moved away")
        return found

    def take_up(self, found: dict[Key, tuple[Path, Path]], now: float, first: bool) -> None:
        """Take up the files `found` that are not followed yet."""
        if first:  # checkpointed files first: a new file must not take an output they still own
            for key, (path, base) in found.items():
                if self.restarts.has_checkpoint(key):
                    self._discover(key, path, base, now, first)
            self.restarts.resume_missing(set(found))
        for key, (path, base) in found.items():
            if key not in self.files.tails:
                self._discover(key, path, base, now, first)
        self.health.solved_except("open:", {f"open:{path}" for path, _ in found.values()})  # the files gone

    def copy_found(self, key: Key) -> None:
        """The new file `key` is the copy of a truncated file, read as such: no longer waited on."""
        self._candidates.pop(key, None)

    def never_follow(self, key: Key) -> None:
        """The file `key` is no text log: it is not followed, nor looked at again."""
        self._refused.add(key)

    def _discover(self, key: Key, path: Path, base: Path, now: float, first: bool) -> None:
        rel = _rel_of(path, base)
        files = self.files
        owner = files.owner_of(rel)
        if files.outdir is not None and owner is not None:
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
            self.health.problem(where, f"{path}: cannot read ({exc.strerror})")
            return
        try:
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) != key:  # replaced since the look (a link swapped?): look again
                os.close(fd)
                return
            if self._copy_of_followed(key, fd, path, now):
                os.close(fd)
                return
            if os.fstat(fd).st_size == 0:  # what it holds is not known yet: look again when it grows
                self.empty.add(key)
                os.close(fd)
                return
            self.empty.discard(key)
            if self._not_text(fd, path):
                self._refused.add(key)
                os.close(fd)
                return
            self.restarts.take_up(key, fd, path, rel, first)
        except (OSError, LogFilterError) as exc:
            os.close(fd)
            text = str(exc) if isinstance(exc, LogFilterError) else f"{path}: cannot read ({exc.strerror})"
            self.health.problem(where, text)
            return
        self.health.solved(where)

    def _copy_of_followed(self, key: Key, fd: int, path: Path, now: float) -> bool:
        """Whether this new file may be a copy of a followed one, made to truncate it: wait, then.

        A file beside a followed one, no larger, whose bytes so far (its first KiB at most)
        are how the followed one starts, may be a copy in the making; it waits COPY_WAIT
        seconds at most. A copy found at the truncation is not followed on its own.
        """
        head = os.pread(fd, FINGERPRINT, 0)
        size = os.fstat(fd).st_size
        for tail in self.files.tails.values():
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

    def _not_text(self, fd: int, path: Path) -> bool:
        """Compressed, archived or binary files (UTF-16 text too) are never followed."""
        head = os.pread(fd, SNIFF_SIZE, 0)
        verdict = judge(head, partial=len(head) < SNIFF_SIZE)  # a partial head is looked at again as it grows (Tail)
        if not verdict.is_text:
            self.say(verdict.not_followed(str(path)))
            return True
        return False


def _rel_of(path: Path, base: Path) -> Path:
    return path.relative_to(base) if path.is_relative_to(base) else Path(path.name)
