"""Benchmark fixtures: generated corpora and compiled chains, built outside the timer."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import generate

from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "samples"
CONFIGS = HERE / "configs"
CORPUS_BYTES = 4 << 20


@pytest.fixture(scope="session")
def corpus() -> bytes:
    """About 4 MB of the seeded benchmark corpus (benchmarks/corpus.py)."""
    return generate(CORPUS_BYTES, seed=1)


def chain_for(name: str) -> Rules:
    """The compiled rules of benchmarks/configs/<name>.ini."""
    return compile_policy(load_policy(CONFIGS / f"{name}.ini"))
