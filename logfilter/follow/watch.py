"""What wakes the follower besides its own polling: file events, and a rules file that changed.

File events come from inotify, through watchdog; a changed rules file reloads the rules as
SIGHUP does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from logfilter.follow.follower import Follower
    from logfilter.rules.compiled import Rules


class RulesFile:
    """A rules file looked at on every scan: changed, gone, or the same as last time."""

    def __init__(self, path: Path, load: Callable[[], Rules]) -> None:
        self.path, self.load = path, load
        self._seen = _signature(path)

    def look(self) -> Literal["same", "changed", "gone"]:
        now = _signature(self.path)
        if now == self._seen:
            return "same"
        self._seen = now
        return "gone" if now is None else "changed"


def _signature(path: Path) -> object:
    """What tells a changed rules file from the same one (None: it is not there)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def watch(follower: Follower) -> object | None:
    """Wake the follower on file events; it polls all the same. The observer started, or None."""
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
