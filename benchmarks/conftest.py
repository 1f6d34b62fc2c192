"""Benchmark fixtures: the sample corpus and a compiled chain, built outside the timer."""

from __future__ import annotations

from pathlib import Path

import pytest

from logfilter.chain import Chain, compile_policy
from logfilter.config import load_policy

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="session")
def corpus() -> bytes:
    """All sample logs, repeated to about 2 MB."""
    data = b"".join(path.read_bytes() for path in sorted(SAMPLES.glob("*.log")))
    return data * max(1, (2 << 20) // len(data))


@pytest.fixture(scope="session")
def chain() -> Chain:
    return compile_policy(load_policy(SAMPLES / "filter.ini"))
