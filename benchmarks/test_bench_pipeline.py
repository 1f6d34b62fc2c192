"""End to end, reference engine: bytes in, masked bytes into a null sink."""

from __future__ import annotations

import pytest

from logfilter.chain import Chain
from logfilter.pipeline import run
from logfilter.sinks import NullSink

pytestmark = pytest.mark.benchmark(group="pipeline")


class _Bytes:
    name = "<corpus>"

    def __init__(self, data: bytes) -> None:
        self._data = data

    def chunks(self):
        for start in range(0, len(self._data), 1 << 20):
            yield self._data[start : start + (1 << 20)]


def test_reference_pipeline(benchmark, corpus: bytes, chain: Chain) -> None:
    benchmark.extra_info["megabytes"] = round(len(corpus) / 1e6, 2)
    stats = benchmark.pedantic(lambda: run([_Bytes(corpus)], chain, NullSink()), rounds=3, iterations=1)
    assert stats.masked > 0 and stats.failed_closed == 0
