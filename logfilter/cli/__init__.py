"""The command line: reads argv, picks the command, prints errors and picks exit codes.

Each command lives in the module of its group (run.py: run and untag; audit.py: scan and
keys; follow.py; batch.py), imported only when it runs or --help lists it, so that a command
starts with only what it needs. Every usage error, Typer's own or a parameter type's, and
every LogFilterError, is printed here as one `error: <message>` line on stderr.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import TyperException

from logfilter import __version__
from logfilter.cli.command import SETTINGS
from logfilter.errors import LogFilterError
from logfilter.names import printable

# Each command, in the order --help lists them, and the module (in logfilter.cli) it is in.
COMMANDS = {"run": "run", "batch": "batch", "follow": "follow", "scan": "audit", "keys": "audit", "untag": "run"}


class _Lazy(Mapping[str, TyperCommand]):
    """COMMANDS by name, each built from its module when first looked up."""

    def __getitem__(self, name: str) -> TyperCommand:
        return _group(COMMANDS[name]).commands[name]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


@functools.cache
def _group(module: str) -> TyperGroup:
    return typer.main.get_group(import_module(f"logfilter.cli.{module}").app)


class Commands(TyperGroup):
    """The group of COMMANDS; `logfilter` alone shows the help, on stderr, with exit 2."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.commands = _Lazy()  # type: ignore[assignment]

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if not args:
            typer.echo(ctx.get_help(), err=True)
            raise typer.Exit(2)
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Mask customer data in Genesys T-Library logs, as the servers' log-filter options do.",
    **SETTINGS,
)


def _version(shown: bool) -> None:
    if shown:
        print(f"logfilter {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="Show the version and exit.")
    ] = False,
) -> None:
    """Mask customer data in Genesys T-Library logs."""


def entry() -> None:
    """Console-script entry point: run the command; an error is one line, an unexpected one never prints data."""
    if sys.stderr is None:  # started with stderr closed: nothing can be told, the work goes on
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        code = typer.main.get_command(app).main(standalone_mode=False)
    except TyperException as exc:  # a usage error found by Typer: in the one style of them all
        code = _error(exc.format_message(), exc.exit_code)
    except LogFilterError as exc:
        code = _error(str(exc), exc.exit_code)
    except typer.Abort:
        code = 1  # end of input at a prompt
    except KeyboardInterrupt:
        code = 130  # Ctrl-C before a command could take it over
    except Exception as exc:  # noqa: BLE001 - last line of defence against leaking locals
        code = _error(f"internal error ({type(exc).__name__}); no log data is shown", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str, code: int) -> int:
    sys.stderr.write(f"error: {printable(message)}\n")  # a name in it may hold control characters
    return code
