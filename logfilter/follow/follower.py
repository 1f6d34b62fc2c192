"""The follower's loop: log files followed as they grow and rotate into sanitized copies, losing nothing.

Files are known by identity (device, inode, and a fingerprint of their first bytes), never
by name, so rotation is a change of name to keep up with:

- a new file under a followed name (a Genesys segment, or the file after a rotation) is
  followed from its start (discovery.py, restarts.py);
- a rename (logrotate) keeps the file's reader and walk; with -o, its output is renamed
  the same way (files.py). A file no longer under a followed name, renamed away or deleted,
  is read to its end while it is still open, then finished (rotation.py);
- a truncation (copytruncate) is met by finishing the old text from its copy beside it,
  when there is one, under the copy's name; the file itself starts over (rotation.py).

Checkpoints (outputs.Checkpoint per file, taken by tail.py, kept in STATEFILE by state.py)
are split points whose output is written; a restart resumes there. With -o the output is
cut back to the checkpoint's offset first, so every record is in it once; on stdout the
records after the checkpoint are sent again, and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from time import monotonic

from logfilter.errors import ConfigError, InputError, LogFilterError
from logfilter.follow.discovery import Discovery
from logfilter.follow.files import Files
from logfilter.follow.health import Health
from logfilter.follow.options import Options, Say
from logfilter.follow.restarts import Restarts
from logfilter.follow.rotation import Rotation
from logfilter.follow.rules_met import UnmatchedRules
from logfilter.follow.state import StateFile
from logfilter.follow.tail import Key, NotText, Tail
from logfilter.follow.wake import Wakeup
from logfilter.follow.watch import RulesFile
from logfilter.names import printable
from logfilter.rules.compiled import Rules
from logfilter.sinks.lock import locked
from logfilter.sources.files import CHUNK
from logfilter.stats import Stats

SCAN = 1.0  # seconds between looks for new, renamed and deleted files (sooner on a file event)
TICK = 0.2  # seconds between looks for growth when no file event comes
PAUSE = 0.05  # seconds at least between rounds when nothing is waiting, so events coalesce
SYNC_EVERY = 1.0  # seconds between checkpoints flushed to disk


class Follower:
    """Follows the files matching the patterns until asked to stop."""

    def __init__(self, options: Options, rules: Rules, say: Say) -> None:
        self.options = options
        self.say = say
        self.stats = Stats()
        self.health = Health(say)
        self.state = StateFile(options)
        self.files = Files(options, rules, self.stats, self.health, say, self._save)
        self.restarts = Restarts(options, self.files, self.state, say)
        self.discovery = Discovery(options, self.files, self.restarts, self.health, say)
        self.rotation = Rotation(self.files, self.discovery, say)
        self.unmatched_rules = UnmatchedRules(self.stats, say)
        self.reloads = {"done": 0, "failed": 0}
        self._wakeup = Wakeup()  # set from signal handlers: takes no lock (wake.py)
        self._rescan = True
        self._reload: Callable[[], Rules] | None = None
        self._rules_file: RulesFile | None = None  # the rules file watched (watch_config), if any

    # -- what /metrics and the file watcher read ----------------------------------------------
    @property
    def tails(self) -> dict[Key, Tail]:
        return self.files.tails

    @property
    def rotations(self) -> dict[str, int]:
        return self.files.rotations

    @property
    def resent(self) -> int:
        """Records sent to stdout again after a restart."""
        return self.restarts.resent

    @property
    def outputs_recreated(self) -> int:
        return self.files.outputs_recreated

    @property
    def bases(self) -> list[Path]:
        return self.discovery.bases

    @property
    def waiting_for_content(self) -> bool:
        """Whether a new file is known to be empty: a write to it should start a scan."""
        return bool(self.discovery.empty)

    # -- control, from signal handlers and file events ---------------------------------------
    def watch_config(self, path: Path, load: Callable[[], Rules]) -> None:
        """Reload the rules when `path` changes (as SIGHUP does); keep them when it goes away."""
        self._rules_file = RulesFile(path, load)

    def stop(self) -> None:
        self._wakeup.stop()

    def wake_on_signals(self) -> None:
        """Any signal wakes the loop at once, whichever thread it reaches (call it from the main thread)."""
        self._wakeup.wake_on_signals()

    def reload(self, load: Callable[[], Rules]) -> None:
        self._reload = load
        self._wakeup.wake()

    def poke(self, rescan: bool) -> None:
        """A file event: look now (and for new or moved files, if `rescan`)."""
        self._rescan = self._rescan or rescan
        self._wakeup.wake()

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        """Follow until stop(); then emit what is complete, checkpoint and return.

        A file stopped by an unparsable line under --on-error fail is not read any more
        (Files.fail); the others go on.
        """
        opts = self.options
        with locked(opts.state.parent, opts.state.with_name(f".{opts.state.name}.lock")):
            if self.files.outdir is None:
                return self._run()
            with locked(self.files.outdir):
                return self._run()

    def _run(self) -> None:
        self.restarts.load()
        self._scan(first=True)
        self._save(durable=True)
        self.health.set_state("following")
        next_scan = monotonic() + SCAN
        try:
            while not self._wakeup.stopped:
                now = monotonic()
                self.health.beat()
                if self._reload is not None:
                    self._apply_reload()
                if self._rescan or now >= next_scan:
                    self._rescan = False
                    self._scan()
                    next_scan = now + SCAN
                busy = False
                for tail in list(self.files.tails.values()):
                    busy |= self._step(tail, now)
                self.rotation.retire(now)
                self._save(durable=now - self.state.synced >= SYNC_EVERY)
                self.unmatched_rules.look(self.files.rules, now, caught_up=not busy)
                if not busy:
                    self._wakeup.wait(PAUSE, TICK)
        finally:
            self.health.set_state("stopping")
            self._drain()

    def _drain(self) -> None:
        # What was written just before the stop is read (a backlog waits for the restart),
        # and every complete line is emitted.
        if self.discovery.empty:
            self._scan()  # files that were empty at the last look may hold text by now
        now = monotonic()
        for tail in self.files.tails.values():
            if tail.failed:
                continue
            try:
                tail.step(now, budget=CHUNK)
                tail.drain()
            except BrokenPipeError:
                break  # nobody reads stdout any more; the checkpoint stands
            except InputError:
                self.files.fail(tail)
            except (LogFilterError, OSError) as exc:
                self.files.problem(tail, exc)
        self._save(durable=True)
        for tail in self.files.tails.values():
            self.files.close(tail)

    def _step(self, tail: Tail, now: float, truncation_only: bool = False) -> bool:
        """Check the file for truncation, then (unless `truncation_only`) read and emit what it grew by."""
        try:
            if tail.failed:
                if tail.truncated() or not tail.fingerprint.matches(tail.fd):
                    self.rotation.truncated(tail, now)  # new text: followed again from its start
                return False
            if tail.truncated() or tail.retiring is None and not tail.fingerprint.matches(tail.fd):
                self.rotation.truncated(tail, now)
                return True
            if truncation_only:
                return False
            more = tail.step(now)
        except NotText as exc:
            self.rotation.refuse(tail, exc)
            return False
        except InputError:
            self.files.fail(tail)
            self._save(durable=True)
            return False
        except BrokenPipeError:
            raise
        except (LogFilterError, OSError) as exc:
            self.files.problem(tail, exc)
            return False
        self.health.solved(f"io:{tail.key}")
        tail.refresh_fingerprint()  # the file may have been shorter than a fingerprint
        return more

    def _scan(self, first: bool = False) -> None:
        self._check_config()
        self.files.check_outputs()
        now = monotonic()
        found = self.discovery.look(now)
        for tail in list(self.files.tails.values()):
            self._step(tail, now, truncation_only=True)  # a copy made to truncate it is no new file
        self.discovery.take_up(found, now, first)
        self._save(durable=False)  # renames and new files are on record before anything else

    # -- reload -----------------------------------------------------------------------------
    def _apply_reload(self) -> None:
        load, self._reload = self._reload, None
        assert load is not None
        try:
            rules = load()
        except ConfigError as exc:
            self.reloads["failed"] += 1
            self.health.note("rules", f"rules not reloaded ({exc}); the last good rules are in use")
            self.say(f"reload: {exc}; keeping the rules in use")
            return
        self.reloads["done"] += 1
        self.health.note("rules", "")
        self.files.reload(rules)
        self.say("reloaded the rules; each file takes them at its next message")

    def _check_config(self) -> None:
        """Reload a rules file that changed; say once that it went away (the rules in use stay)."""
        if self._rules_file is None:
            return
        seen = self._rules_file.look()
        if seen == "gone":
            note = f"rules file {printable(str(self._rules_file.path))} is gone; the last good rules are in use"
            self.health.note("rules", note)
            self.say(f"warning: {note}")
        elif seen == "changed":
            self._reload = self._rules_file.load

    # -- checkpoints ------------------------------------------------------------------------
    def _save(self, durable: bool) -> None:
        """Write the checkpoints if they changed; if `durable`, flush outputs, then them, to disk."""
        try:
            wrote = self.state.save(self.files.entries(), durable, self.files.sync)
        except LogFilterError as exc:
            self.health.problem("state", str(exc))
            return
        if wrote:
            self.health.solved("state")
