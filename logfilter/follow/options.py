"""What a follower is given: its settings from the command line, and how it tells the user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logfilter.engines.registry import EngineName, Format
    from logfilter.pipeline import OnError

Say = Callable[[str], None]  # one line for stderr


@dataclass(frozen=True, slots=True)
class Options:
    patterns: tuple[str, ...]
    outdir: Path | None  # None: stdout
    state: Path
    from_end: bool = False
    on_error: OnError = "redact"
    engine: EngineName = "fast"
    output_format: Format = "tlib"
    all_lines: bool = False
    unmatched_grace: float = 300.0  # seconds before no pattern matching any file turns /healthz 503
