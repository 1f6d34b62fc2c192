"""`logfilter scan` and `logfilter keys`: read logs, write nothing but what was found."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from logfilter import __version__, reports
from logfilter.audit.keys import KeyInventory
from logfilter.audit.scan import Scanner, describe, scan_paths
from logfilter.cli.command import Command, commands
from logfilter.cli.options import REPORT, RULES, RuleOptions, shared_options
from logfilter.cli.printing import say, silence_stdout, tell_unmatched
from logfilter.cli.types import Choice, InputPath
from logfilter.rules.detect import NAMES as DETECTORS
from logfilter.sinks.streams import std

app = commands()
KEYS_FORMAT = Choice("--format", ("text", "json"))

InputsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="INPUT", parser=InputPath(), help="Files, folders (recursive) and archives; none or - reads stdin."
    ),
]


@app.command(cls=Command)
@shared_options
def scan(
    inputs: InputsArgument = None,
    rules: RuleOptions = RULES,
    detect: Annotated[
        str,
        typer.Option("--detect", metavar="LIST", help=f"Detectors to run: {', '.join(DETECTORS)} or all (default), or none."),
    ] = "all",
    everywhere: Annotated[
        bool,
        typer.Option("--everywhere", help="Also search lines outside KV blocks (not time stamps, ConnIDs, ids, DNs)."),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", parser=REPORT, metavar=REPORT.metavar, help="Write the findings and counts as JSON (- is stdout)."),
    ] = None,
) -> None:
    """Find what should not leave the building: values the rules mask, or detectors recognize, in clear.

    Prints one line per finding (file, line, key, detector and a masked preview; never the
    value), unless --report - puts the JSON report there instead. Exit 0: nothing found; 1: findings, or an input that could not be scanned;
    2: usage or configuration error.
    """
    compiled = rules.compile(detect=detect, keyed=False)
    if report is not None:
        reports.refuse_over_inputs(report, [Path(item) for item in inputs or () if item != "-"])
    # With the report on stdout, stdout holds the report alone (it is JSON).
    listing = report is None or str(report) != "-"
    scanner = Scanner(compiled, everywhere, lambda finding: listing and _print_finding(finding.text()))
    try:
        for item in inputs or ["-"]:
            if item == "-":
                scanner.scan_stream(std("stdin").buffer, "<stdin>")
            else:
                scan_paths(scanner, [Path(item)])
        if report is not None:
            reports.write(report, {"logfilter": __version__, **scanner.report(describe(compiled, everywhere))})
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(1) from None
    totals = scanner.totals()
    if scanner.total:
        kinds = ", ".join(f"{count} {name}" for name, count in totals["by_detector"].items())  # type: ignore[attr-defined]
        say(f"{scanner.total} findings ({kinds}) in {totals['inputs']} inputs, {totals['lines']} lines")
        raise typer.Exit(1)
    say(f"clean: {totals['inputs']} inputs, {totals['lines']} lines, {totals['pairs']} KV pairs")


@app.command(cls=Command)
@shared_options
def keys(
    inputs: InputsArgument = None,
    rules: RuleOptions = RULES,
    output_format: Annotated[
        str, typer.Option("--format", parser=KEYS_FORMAT, metavar=KEYS_FORMAT.metavar, help="text (a table, default) or json.")
    ] = "text",
) -> None:
    """List every key of the KV blocks: attribute, nesting path, count, value shape, and the filter type that applies.

    The shape is lengths, character classes and kinds, never a value. Without -c every key
    shows the copy default. Exit 0; 1 when an input could not be read; 2: usage or configuration error.
    """
    compiled = (replace(rules, default="copy") if rules.empty else rules).compile(keyed=False)
    inventory = KeyInventory(compiled)
    try:
        for item in inputs or ["-"]:
            if item == "-":
                inventory.scan_stream(std("stdin").buffer, "<stdin>")
            else:
                scan_paths(inventory, [Path(item)])
        if output_format == "json":
            settings = {name: value for name, value in describe(compiled, False).items() if name != "everywhere"}
            reports.write(Path("-"), {"logfilter": __version__, **inventory.report(settings)})
        else:
            out = std("stdout")
            out.write("".join(line.rstrip() + "\n" for line in inventory.table()))
            out.flush()
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(0) from None
    for result in inventory.inputs:
        if result.status != "scanned":
            say(f"{result.name}: not read: {result.reason}")
    if inventory.unparsable:
        say(f"{inventory.unparsable} lines inside KV blocks could not be read; their keys are not listed")
    tell_unmatched(inventory.unmatched_rules())
    if any(result.status != "scanned" for result in inventory.inputs):
        raise typer.Exit(1)


def _print_finding(text: str) -> None:
    std("stdout").write(text + "\n")
