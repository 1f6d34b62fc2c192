"""The command line: reads argv, picks the command, prints errors and picks exit codes.

Each command lives in the module of its group (run.py: run and untag; audit.py: scan and
keys; follow.py; batch.py), imported only when it runs or --help lists it, so that a command
starts with only what it needs; Typer itself (app.py) is not imported at all when quick.py
can read the command line. Every usage error, Typer's own or a parameter type's, and every
LogFilterError, is printed as one `error: <message>` line on stderr.
"""

from __future__ import annotations

import os
import sys

from logfilter.cli.printing import report_error
from logfilter.errors import LogFilterError


def entry() -> None:
    """Console-script entry point: run the command; an error is one line, an unexpected one never prints data."""
    if sys.stderr is None:  # started with stderr closed: nothing can be told, the work goes on
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        code = _command(sys.argv[1:])
    except LogFilterError as exc:
        code = report_error(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        code = 130  # Ctrl-C before a command could take it over
    except Exception as exc:  # noqa: BLE001 - last line of defence against leaking locals
        code = report_error(f"internal error ({type(exc).__name__}); no log data is shown", 1)
    sys.exit(code)


def _command(args: list[str]) -> int:
    from logfilter.cli.quick import quick

    code = quick(args)
    if code is None:  # not a command line quick.py reads: Typer does
        from logfilter.cli.app import main

        code = main()
    return code
