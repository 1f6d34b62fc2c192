"""Followed files that change under the follower: truncated, no longer followed, or not text.

Truncated (copytruncate): the old text is finished from its copy beside it, when there is
one. No longer under a followed name: read to its end, then finished. Found not to be text
as its head arrived: refused.
"""

from __future__ import annotations

from logfilter.errors import InputError, LogFilterError
from logfilter.follow.discovery import Discovery, find_copy
from logfilter.follow.files import Files
from logfilter.follow.options import Say
from logfilter.follow.outputs import Checkpoint
from logfilter.follow.tail import NotText, Tail

RETIRE_AFTER = 2.0  # quiet seconds after which a file no longer under a followed name is finished


class Rotation:
    """What the follower does when a followed file is truncated, retired or refused."""

    def __init__(self, files: Files, discovery: Discovery, say: Say) -> None:
        self.files, self.discovery, self.say = files, discovery, say

    def truncated(self, tail: Tail, now: float) -> None:
        """Finish the text before the truncation (from its copy, if one is beside it); start over."""
        files = self.files
        files.rotated("truncated")
        if tail.failed:  # nothing more of its old text is read: it stopped at a line it could not read
            self.say(f"{tail.name}: truncated; following it again from its start")
            files.health.solved(f"failed:{tail.key}")
            tail.failure = ""
            tail.restart(tail.fd, tail.key, files.walk_for(tail.key))
            return
        copy = find_copy(tail.path.parent, tail.fingerprint, tail.offset, exclude=set(files.tails))
        fd, key, path, rel = tail.fd, tail.key, tail.path, files.name_of(tail.key)
        if copy is None:
            # What was read of the old text goes out; nothing more is read of it, because the
            # bytes at the old offsets may already be new text.
            self.say(f"{path}: truncated; following it from its start (no copy of the old text beside it)")
            tail.end_text()
            tail.restart(fd, key, files.walk_for(key))
            return
        cpath, cfd, ckey = copy
        self.say(f"{path}: truncated; finishing its old text from its copy {cpath}")
        self.discovery.copy_found(ckey)
        files.rekey(tail, cfd, ckey)
        files.moved(tail, cpath, files.name_of(ckey).with_name(cpath.name))
        tail.step(now, budget=1 << 40)
        files.open(key, fd, path, rel, Checkpoint(0, 0, 0), fresh=True)
        if ckey not in self.discovery.matches():
            files.start_retiring(tail, now, "its copy is not under a followed name")

    def retire(self, now: float) -> None:
        """Finish the files no longer followed once they have been quiet for RETIRE_AFTER."""
        for tail in list(self.files.tails.values()):
            if tail.retiring is None or now - max(tail.retiring, tail.quiet_since) < RETIRE_AFTER:
                continue
            if tail.failed:  # it stopped at a line it could not read; it is gone from the followed names now
                self.say(f"{tail.name}: no longer followed (it had stopped at a line that could not be read)")
                self.files.drop(tail)
                continue
            try:
                tail.finish()
            except BrokenPipeError:
                raise
            except InputError:
                self.files.fail(tail)
                continue
            except (LogFilterError, OSError) as exc:
                self.files.problem(tail, exc)
                continue
            self.say(f"{tail.path}: finished ({tail.line} lines)")
            self.files.drop(tail)

    def refuse(self, tail: Tail, exc: NotText) -> None:
        """Stop following a file found not to be text as its head arrived; what came before is written."""
        try:
            tail.drain()  # the complete lines read before the chunk that showed it
        except (LogFilterError, OSError):
            pass
        self.say(str(exc))
        self.discovery.never_follow(tail.key)
        self.files.drop(tail)
