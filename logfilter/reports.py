"""JSON reports (batch, scan, keys): written whole to a file, a device or stdout, never over an input.

What goes in a report is counts, names and settings, never a value; the commands build it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from logfilter.errors import ConfigError
from logfilter.sinks.atomic import AtomicFile
from logfilter.sinks.streams import std


def write(path: Path, content: Mapping[str, object]) -> None:
    """Write `content` as indented JSON to `path` (- is stdout), whole or not at all."""
    data = orjson.dumps(content, option=orjson.OPT_INDENT_2) + b"\n"
    if str(path) == "-":
        stdout = std("stdout")
        stdout.buffer.write(data)
        stdout.flush()
    elif path.exists() and not path.is_file():
        path.write_bytes(data)  # a device or a pipe (/dev/stdout): write to it, never replace it
    else:
        with AtomicFile(path) as out:
            out.stream.write(data)
            out.commit()


def refuse_over_inputs(path: Path, inputs: Iterable[Path]) -> None:
    """Refuse a report path that is one of the inputs (files or folders) or inside one."""
    if str(path) == "-":
        return
    real = path.resolve()
    for root in (item.resolve() for item in inputs):
        if real == root or real.is_relative_to(root):
            msg = f"{path}: the report would be written over or inside the input {root}; put it elsewhere"
            raise ConfigError(msg)
