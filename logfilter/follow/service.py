"""The sidecar: a follower with its rules file watched, its HTTP endpoints, file events and signals.

SIGTERM or SIGINT: emit what is complete, checkpoint, return. SIGHUP: reload the rules (an
invalid file is reported and the rules in use are kept); ignored once the stop has begun.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from logfilter.follow.discovery import refuse_outdir_over_inputs
from logfilter.follow.follower import Follower
from logfilter.follow.options import Options, Say
from logfilter.follow.watch import watch
from logfilter.rules.compiled import Rules


def serve(
    options: Options,
    load: Callable[[], Rules],
    say: Say,
    *,
    config: Path | None = None,
    listen: str | None = None,
    listen_any: bool = False,
) -> Follower:
    """Follow until SIGTERM or SIGINT; return the follower, stopped.

    `load` builds the rules (again on SIGHUP, and when `config`, the rules file, changes).
    With `listen` (HOST:PORT, loopback only unless `listen_any`), /healthz and /metrics are
    served there. Raises ConfigError for bad settings, LogFilterError when the state or an
    output cannot be used, InputError under --on-error fail.
    """
    refuse_outdir_over_inputs(options.patterns, options.outdir)
    follower = Follower(options, load(), say)
    if config is not None:
        follower.watch_config(config, load)  # a changed file reloads as SIGHUP does
    server = None
    if listen is not None:
        from logfilter.follow.server import Server, parse_listen  # prometheus only when asked for

        server = Server(follower, *parse_listen(listen, listen_any))
        server.start()
        say(f"listening on {server.address[0]}:{server.address[1]}")
    observer = watch(follower)
    signal.signal(signal.SIGTERM, lambda signum, frame: follower.stop())
    signal.signal(signal.SIGINT, lambda signum, frame: follower.stop())
    signal.signal(signal.SIGHUP, lambda signum, frame: follower.reload(load))
    follower.wake_on_signals()
    try:
        follower.run()
    finally:
        # Stopping: a reload now is moot, and a SIGHUP during the interpreter's exit (when Python
        # puts the default action back) would kill the process, exit status and summary lost.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if server is not None:
            server.stop()
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
    return follower
