"""How every command is declared and shown: one Typer per command module, the same settings.

Arguments are shown by name (INPUT...) rather than by Python type in usage lines and --help.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand

# Locals of this program hold log data: never show them in a traceback.
SETTINGS: dict[str, Any] = {
    "pretty_exceptions_show_locals": False,
    "add_completion": False,
    "rich_markup_mode": None,  # option help holds [log-filter], which is not markup
}


def commands() -> typer.Typer:
    """A Typer for one module's commands (`@app.command(cls=Command)`), set up as all of them are."""
    return typer.Typer(**SETTINGS)


class Command(TyperCommand):
    """A command whose arguments read `INPUT...` (required) or `[INPUT]...` in the usage line,
    and `INPUT...` beside their help; options as Typer shows them, with their metavar."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name, more = _argument(param)
                pieces.append(f"{name}{more}" if param.required else f"[{name}]{more}")
        return pieces

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        arguments = [
            ("".join(_argument(param)), getattr(param, "help", None) or "")
            for param in self.get_params(ctx)
            if param.param_type_name == "argument"
        ]
        options = [
            record
            for param in self.get_params(ctx)
            if param.param_type_name == "option" and (record := param.get_help_record(ctx)) is not None
        ]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument(param: Any) -> tuple[str, str]:
    """An argument's name, and `...` if it takes more than one value."""
    return param.metavar or param.name.upper(), "..." if param.nargs != 1 else ""
