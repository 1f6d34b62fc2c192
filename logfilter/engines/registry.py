"""The one place an engine and an output format are chosen: run, batch and follow build each input's walk here.

- engine `fast` (default): the compiled scanner (scanner.pyx), which hands the lines it is
  not sure of to a Walker with the regex parser; jsonl output by its compiled handler
  (json_messages.pyx), or with [log-filter-attributes] / [log-filter-sip] rules by a Walker
  with the regex parser and JsonHandler. Should the compiled scanner not import (a build
  without a compiler), the Walker with the regex parser does its work, same output, slower,
  and stderr says so once.
- engine `reference`: every line read by the Lark parser, the definition of correct.
- a handler that collects (scan, keys, preview): the compiled scanner with that handler,
  attending to it (scanner.pyx: the lines it must see go to its Walker), where the handler
  says what it attends to, or telling it every pair (keys) or KV line (preview); else a Walker
  with the regex parser (scan --everywhere).
- format `tlib`: the log, masked (render.py); `jsonl`: one JSON object per message (jsonl.py),
  with `all_lines` one per other line too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from logfilter.engines.handler import Handler, OnFailure, Walk
from logfilter.rules.compiled import Rules
from logfilter.stats import Stats

# The choices of --engine and --format (cli/options.py reads them from these types).
EngineName = Literal["fast", "reference"]
Format = Literal["tlib", "jsonl"]


@cache
def compiled_scanner() -> Any | None:
    """The compiled scanner's class, or None (said once on stderr) when it cannot be imported."""
    try:
        from logfilter.engines.scanner import Scanner
    except ImportError as exc:
        sys.stderr.write(
            f"logfilter: the compiled scanner cannot be imported ({type(exc).__name__}: {exc}); "
            "using the Python walker instead (same output, slower)\n"
        )
        return None
    return Scanner


@dataclass(frozen=True, slots=True)
class Fate:
    """What becomes of a KV line that fails closed, in an output format's words."""

    one: str  # in a warning about one line: `...; masked it whole (failed closed)`
    many: str  # in the count at the end: `N lines ... could not be parsed and were masked whole`


FATES: dict[Format, Fate] = {
    "tlib": Fate("masked it whole", "masked whole"),
    "jsonl": Fate("left it out", "left out"),  # the JSON objects leave the line out
}


@dataclass(frozen=True, slots=True)
class WalkChoice:
    """An engine and an output format, as the user chose them: what each input's walk is built from."""

    engine: EngineName = "fast"
    output_format: Format = "tlib"
    all_lines: bool = False

    @property
    def fate(self) -> str:
        """What becomes of a KV line that fails closed, in the words of the warnings."""
        return FATES[self.output_format].one

    def build(self, name: str, rules: Rules, stats: Stats, on_failure: OnFailure) -> Walk:
        """The walk of the input called `name` (JSON objects carry it)."""
        from logfilter.engines.walker import REFERENCE, REGEX, Walker

        parser = REFERENCE if self.engine == "reference" else REGEX
        scanner = compiled_scanner() if self.engine == "fast" else None
        if self.output_format == "jsonl":
            if scanner is not None and not rules.identity:  # SIP objects and identity lines: JsonHandler's
                from logfilter.engines.json_messages import JsonMessages

                return scanner(rules, stats, on_failure, JsonMessages(rules, stats, name, self.all_lines))  # type: ignore[no-any-return]
            from logfilter.engines.jsonl import JsonHandler

            return Walker(rules, stats, JsonHandler(rules, stats, name, self.all_lines), parser, on_failure)
        if scanner is not None:
            return scanner(rules, stats, on_failure)  # type: ignore[no-any-return]
        from logfilter.engines.render import RenderHandler

        return Walker(rules, stats, RenderHandler(rules, stats), parser, on_failure)


def collecting(rules: Rules, stats: Stats, handler: Handler) -> Walk:
    """The walk of a handler that collects and writes nothing (scan, keys, preview): the compiled
    scanner when the handler says how it is to be told (Handler's `attend`, `inventory`,
    `preview`), else a Walker that reads every line (scan --everywhere)."""
    from logfilter.engines.walker import Walker

    told = handler.attend is not None or handler.inventory or handler.preview
    scanner = compiled_scanner() if told else None
    if scanner is not None:
        return scanner(rules, stats, None, handler)  # type: ignore[no-any-return]
    return Walker(rules, stats, handler)
