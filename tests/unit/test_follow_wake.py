"""The follower's wakeup: woken by real signals and threads, never stuck, never early without cause."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from logfilter.follow.wake import Wakeup


@pytest.fixture
def wakeup() -> Iterator[Wakeup]:
    yield Wakeup()


def timed(wakeup: Wakeup, least: float, most: float) -> float:
    start = time.monotonic()
    wakeup.wait(least, most)
    return time.monotonic() - start


def test_with_no_wake_it_sleeps_the_most(wakeup: Wakeup) -> None:
    assert 0.2 <= timed(wakeup, 0.05, 0.2) < 2


def test_a_wake_from_another_thread_ends_it_after_the_least(wakeup: Wakeup) -> None:
    threading.Timer(0.01, wakeup.wake).start()
    assert 0.1 <= timed(wakeup, 0.1, 5) < 2


def test_wakes_before_the_wait_are_kept_for_it(wakeup: Wakeup) -> None:
    for _ in range(100_000):  # more than the pipe holds: the extra ones are dropped, not blocking
        wakeup.wake()
    assert timed(wakeup, 0.05, 5) < 2
    assert timed(wakeup, 0, 0.2) >= 0.2  # and all of them were used up by that one wait


def test_a_stop_from_a_signal_handler_ends_it_at_once(wakeup: Wakeup) -> None:
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: wakeup.stop())
    try:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        assert timed(wakeup, 5, 10) < 2
        assert wakeup.stopped
        assert timed(wakeup, 5, 10) < 0.5  # stopped stays stopped
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_a_storm_of_signals_at_every_moment_of_the_wait_never_sticks(wakeup: Wakeup) -> None:
    """The handler may run anywhere inside wait(), lock or no lock: with threading.Event in its
    place this hangs (or, with signals this thick, recurses) within a second or so."""
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: wakeup.wake())
    stuck = threading.Timer(30, os.kill, (os.getpid(), signal.SIGABRT))  # a hang fails the run
    stuck.start()
    signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
    try:
        end = time.monotonic() + 2
        while time.monotonic() < end:
            wakeup.wait(0, 0)  # all of the time inside wait's own code, where a handler lands
            wakeup.wait(0.0002, 0.001)  # and inside its select and its drain
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)
        stuck.cancel()


def test_a_signal_another_thread_receives_wakes_it_at_once(wakeup: Wakeup) -> None:
    """A signal the kernel gives another thread (the main thread has it blocked here) still wakes the
    loop at once: set_wakeup_fd writes to the pipe from C, whichever thread takes it. Without it the
    handler would wait for the main thread's select to time out."""
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: wakeup.stop())
    old_fd = signal.set_wakeup_fd(-1)
    wakeup.wake_on_signals()
    go = threading.Event()

    def send() -> None:  # started before the block: a thread inherits its creator's signal mask
        go.wait()
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGUSR1)

    sender = threading.Thread(target=send)
    sender.start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        go.set()
        took = timed(wakeup, 5, 5)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
        sender.join()
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGUSR1, previous)
    assert took < 2 and wakeup.stopped
