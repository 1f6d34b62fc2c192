"""The Typer group of every command: parsing, help and usage errors, the commands built when first used."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import TyperException

import logfilter
from logfilter.cli.command import SETTINGS
from logfilter.cli.printing import report_error

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
        print(f"logfilter {logfilter.__version__}")
        raise typer.Exit


@app.callback()
def group(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="Show the version and exit.")
    ] = False,
) -> None:
    """Mask customer data in Genesys T-Library logs."""


def main(args: list[str] | None = None) -> int:
    """Run the command `args` (sys.argv's, by default) names; a usage error is one line, exit 2."""
    try:
        code = typer.main.get_command(app).main(args, standalone_mode=False)
    except TyperException as exc:  # a usage error found by Typer: in the one style of them all
        return report_error(exc.format_message(), exc.exit_code)
    except typer.Abort:
        return 1  # end of input at a prompt
    return code if isinstance(code, int) else 0
