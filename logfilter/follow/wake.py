"""How the follower's loop is woken: by signal handlers, by the file watcher's thread, by its own clock.

A Python signal handler runs in the main thread between two bytecodes, which may be inside a
threading.Event's lock; an Event set from the handler then waits for that lock forever (a
SIGTERM that never stops follow). So nothing here takes a lock: a wake is a byte down a
non-blocking pipe, a stop is a flag and a wake, and the loop sleeps in select() on the pipe.
"""

from __future__ import annotations

import os
import select
import signal
from time import monotonic


class Wakeup:
    """Wakes the loop from a signal handler or another thread. The pipe lives as long as the process,
    since a signal may come after the loop has ended."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.stopped = False

    def wake(self) -> None:
        try:
            os.write(self._write, b"!")
        except BlockingIOError:
            pass  # the pipe is full: the loop has wakes enough waiting

    def stop(self) -> None:
        self.stopped = True
        self.wake()

    def wake_on_signals(self) -> None:
        """Have any signal wake the loop at once (signal.set_wakeup_fd; call it from the main thread):
        one delivered to another thread runs its Python handler only when the main thread next
        runs, which select() would delay until its timeout."""
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)

    def wait(self, least: float, most: float) -> None:
        """Return `most` seconds from now, or once woken but not before `least` (so that events
        coalesce); a stop returns at once."""
        start = monotonic()
        woken = False
        while not self.stopped:
            elapsed = monotonic() - start
            if elapsed >= most or woken and elapsed >= least:
                return
            ready, _, _ = select.select([self._read], [], [], (least if woken else most) - elapsed)
            if ready:
                woken = self._drain() or woken

    def _drain(self) -> bool:
        """Read every wake waiting; whether there was one."""
        read = False
        try:
            while os.read(self._read, 512):
                read = True
        except BlockingIOError:
            pass
        return read
