"""The flags several commands share, declared once, as groups a command takes whole.

A command takes `rules: RuleOptions` for -c/--config, --default, --key, --ignore-key-case and
--verbose, and `walk: WalkOptions` for --on-error, --engine, --format and --all-lines. Under
`@shared_options`, Typer sees the group's flags in the command's signature where that
parameter is, and the command is called with the group built from them.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_type_hints

import typer

from logfilter.cli.printing import tell_about
from logfilter.cli.types import Choice, FileName
from logfilter.engines.registry import EngineName, Format
from logfilter.errors import ConfigError
from logfilter.pipeline import OnError

if TYPE_CHECKING:
    from logfilter.rules.compiled import Rules
    from logfilter.rules.config import Policy

ON_ERROR = Choice("--on-error", get_args(OnError))
ENGINE = Choice("--engine", get_args(EngineName))
FORMAT = Choice("--format", get_args(Format))
REPORT = FileName("FILE", lambda path: f"{path}: the report path is a folder; give a file name", dash=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "-c", "--config", metavar="FILE", help="Genesys option text with [log-filter] and [log-filter-data]."
    ),
]
DefaultOption = Annotated[
    str | None,
    typer.Option("--default", metavar="TYPE", help="default-filter-type, overriding the file (e.g. hide, copy)."),
]
KeyOption = Annotated[
    list[str] | None,
    typer.Option("--key", metavar="KEY=TYPE", help="A per-key rule, overriding the file; repeatable."),
]
IgnoreCaseOption = Annotated[
    bool, typer.Option("--ignore-key-case", help="Match rule keys to log keys ignoring case.")
]
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", help="Also name the sections of -c FILE that are not logfilter's (they are ignored)."),
]
OnErrorOption = Annotated[
    OnError,
    typer.Option(
        "--on-error", parser=ON_ERROR, metavar=ON_ERROR.metavar,
        help="redact: mask an unparsable KV line whole and go on; fail: stop that input "
        "(run exits 3; batch fails the file).",
    ),
]  # fmt: skip
EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine", parser=ENGINE, metavar=ENGINE.metavar,
        help="fast (default), or reference: the Lark parser on every line, for debugging.",
    ),
]  # fmt: skip
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", parser=FORMAT, metavar=FORMAT.metavar,
        help="tlib (default): the log, masked; jsonl: one JSON object per message (docs/jsonl-schema.json).",
    ),
]  # fmt: skip
AllLinesOption = Annotated[
    bool, typer.Option("--all-lines", help="With --format jsonl: also write the lines outside messages, one object each.")
]


@dataclass(frozen=True)
class RuleOptions:
    """Where the rules come from: the file, then --default and --key over it."""

    config: ConfigOption = None
    default: DefaultOption = None
    key: KeyOption = None
    ignore_key_case: IgnoreCaseOption = False
    verbose: VerboseOption = False

    @property
    def empty(self) -> bool:
        """No rules given: no file, no --default, no --key."""
        return self.config is None and self.default is None and not self.key

    def policy(self, **settings: Any) -> Policy:
        """The policy these flags describe (`settings`: load_policy's keyword arguments); its
        warnings, and with --verbose the file's ignored sections, said on stderr."""
        from logfilter.rules.config import load_policy

        policy = load_policy(self.config, self.default, self.key or (), self.ignore_key_case, **settings)
        tell_about(policy.warnings, self.config, policy.ignored_sections if self.verbose else ())
        return policy

    def compile(self, **settings: Any) -> Rules:
        """The policy, compiled (the Rules a walk asks)."""
        from logfilter.rules.compiled import compile_policy

        return compile_policy(self.policy(**settings))


@dataclass(frozen=True)
class WalkOptions:
    """How the logs are walked and what comes out: failure mode, engine, output format."""

    on_error: OnErrorOption = "redact"
    engine: EngineOption = "fast"
    output_format: FormatOption = "tlib"
    all_lines: AllLinesOption = False

    def __post_init__(self) -> None:
        if self.all_lines and self.output_format != "jsonl":
            msg = "--all-lines needs --format jsonl (the tlib format writes every line anyway)"
            raise ConfigError(msg)


RULES, WALK = RuleOptions(), WalkOptions()  # the defaults a command's group parameter names
GROUPS: tuple[type, ...] = (RuleOptions, WalkOptions)
CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


def shared_options(command: CommandFunction) -> CommandFunction:
    """Show Typer the flags of each group parameter of `command` in its place; build the groups per call."""
    hints = get_type_hints(command, include_extras=True)
    parameters: list[inspect.Parameter] = []
    groups: dict[str, tuple[type, list[str]]] = {}
    for name, parameter in inspect.signature(command).parameters.items():
        group = hints[name]
        if group not in GROUPS:
            parameters.append(parameter.replace(annotation=hints[name], kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        flags = dataclasses.fields(group)
        group_hints = get_type_hints(group, include_extras=True)
        groups[name] = (group, [flag.name for flag in flags])
        parameters += [
            inspect.Parameter(flag.name, inspect.Parameter.KEYWORD_ONLY, default=flag.default, annotation=group_hints[flag.name])
            for flag in flags
        ]  # fmt: skip

    @functools.wraps(command)
    def with_groups(**values: Any) -> Any:
        for name, (group, flags) in groups.items():
            values[name] = group(**{flag: values.pop(flag) for flag in flags})
        return command(**values)

    # Typer reads the signature (kept whole by inspect) and the annotations.
    with_groups.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    with_groups.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return with_groups  # type: ignore[return-value]
