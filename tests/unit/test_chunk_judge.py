"""sources/chunk_judge.py: what follows a text head is judged the same however the input is read (issue 22.4)."""

from __future__ import annotations

import pytest

from logfilter.sources.sniff import SNIFF_SIZE, Verdict
from logfilter.sources.chunk_judge import ChunkJudge
from tests.conftest import SAMPLES

LOG = (SAMPLES / "tserver.log").read_bytes() * 3
OPEN = b"message EventRinging\n\tAttributeUserData\t[561] 00 14 00 00..\n\t\t'PASSWORD'\t'p'\n"
STRETCHES = {
    "binary": bytes(range(256)) * 64,
    "utf-16": OPEN.decode().encode("utf-16-le") * 40,
    "cr-only": OPEN.replace(b"\n", b"\r") * 200,
    "zip-record": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"x" * 100,
}


def watched(data: bytes, size: int) -> Verdict | None:
    """The first verdict of a ChunkJudge fed `data` after its head in chunks of `size` bytes."""
    judge = ChunkJudge(data[:SNIFF_SIZE])
    for at in range(SNIFF_SIZE, len(data), size):
        verdict = judge.feed(data[at : at + size])
        if verdict is not None:
            return verdict
    return None


@pytest.mark.parametrize("size", [5, 97, 4096, 65536, 1 << 20])
def test_a_text_log_goes_by(size: int) -> None:
    """Real logs, CRLF and CR CR LF line ends, zero padding and a lone NUL in a value pass at any chunk size."""
    for data in (LOG, LOG.replace(b"\n", b"\r\n"), LOG.replace(b"\n", b"\r\r\n"), LOG + b"\x00" * 4096 + LOG,
                 LOG + b"\t\t'K'\t'a\x00b'\n" + LOG):  # fmt: skip
        assert watched(data, size) is None


@pytest.mark.parametrize("kind", sorted(STRETCHES))
def test_the_verdict_does_not_depend_on_the_chunks(kind: str) -> None:
    """Each stretch after a text head is found, at the same byte, whatever the chunk size."""
    data = LOG + STRETCHES[kind] + LOG
    verdicts = {size: watched(data, size) for size in (5, 97, 4096, 65536, 1 << 20)}
    offsets = {None if verdict is None else verdict.offset for verdict in verdicts.values()}
    assert len(offsets) == 1 and None not in offsets, verdicts
    (offset,) = offsets
    assert len(LOG) - SNIFF_SIZE <= offset <= len(LOG) + SNIFF_SIZE  # where the stretch starts, near enough
