"""Every command is framed with the line bound: a line far longer than it is held in bounded memory, and leaks nothing.

scan, keys, preview and untag once read whole lines, however long; they now go through the
one loop (pipeline.py) like run. benchmarks/memory.py measures the real processes on 200 MB.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable

import pytest

from logfilter.audit.keys import KeyInventory
from logfilter.audit.preview import examples, render
from logfilter.audit.scan import Scanner
from logfilter.engines.untag import DEFAULT_PAIR
from logfilter.framing import MAX_LINE
from logfilter.pipeline import untag as untag_run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.rules.filters import HIDE
from logfilter.sinks.streams import StreamSink
from logfilter.sources.files import StreamSource

CANARY = b"Zq8LongLine"
LINE = 48 << 20  # twelve times the bound
HEAD = b"message EventRinging\n\tAttributeUserData\t[1] 00 01 00 00..\n\t\t'PASSWORD'\t'pw'\n\t\t'Notes'\t'<#'"
DATA = HEAD + CANARY * (LINE // len(CANARY)) + b"'#>\n\tAttributeConnID\t1\n"
BOUND = 3 * MAX_LINE + (8 << 20)  # the head, a copy or two of it, and the chunks in flight


def _scan() -> str:
    found: list[str] = []
    scanner = Scanner(compile_policy(load_policy(None, "hide")), True, lambda finding: found.append(finding.text()))
    scanner.scan_stream(io.BytesIO(DATA), "big.log")
    assert any("unparsable" in text for text in found)
    return "\n".join(found) + repr(scanner.report({}))


def _keys() -> str:
    inventory = KeyInventory(compile_policy(load_policy(None, "hide")))
    inventory.scan_stream(io.BytesIO(DATA), "big.log")
    assert inventory.unparsable >= 1
    return "\n".join(inventory.table()) + repr(inventory.report({}))


def _preview() -> str:
    shown = [render(example) for example in examples([StreamSource("big.log", io.BytesIO(DATA))], compile_policy(load_policy(None, "hide")))]
    return repr(shown)


def _untag() -> str:
    out, warnings = io.BytesIO(), []
    stats = untag_run([StreamSource("big.log", io.BytesIO(DATA))], [DEFAULT_PAIR], HIDE, StreamSink(out, "<memory>"), warn=warnings.append)
    assert stats.failed_closed == 1 and out.getvalue().endswith(b"\tAttributeConnID\t1\n")
    return repr(out.getvalue()) + "\n".join(warnings)


@pytest.mark.parametrize("command", [_scan, _keys, _preview, _untag], ids=lambda f: f.__name__.strip("_"))
def test_a_line_longer_than_the_bound(command: Callable[[], str]) -> None:
    """A 48 MB line in a UserData block: memory stays near the bound, and none of the line is shown."""
    tracemalloc.start()
    try:
        shown = command()
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < BOUND, f"peak {peak >> 20} MiB"
    assert CANARY.decode()[:8] not in shown and "Zq8" not in shown
