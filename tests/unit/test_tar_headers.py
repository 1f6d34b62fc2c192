"""sources/tar_headers.TarHeaders follows tar's layout as tarfile does: it never reads member data as a header."""

from __future__ import annotations

import io
import tarfile

import pytest

from logfilter.sources.limits import Budget, Exceeded, Limits
from logfilter.sources.tar_headers import TarHeaders
from tests.integration.test_hostile import tar_header

# A member's data that holds, at a block boundary, what looks like a GNU long name of 1 GiB.
FAKE = b"x" * 512 + tar_header(b"././@LongLink", 1 << 30, b"L") + b"y" * 100


def archive(format: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format) as tar:
        for name, kind in (("d", tarfile.DIRTYPE), ("fifo", tarfile.FIFOTYPE), ("s", tarfile.SYMTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "d" if kind == tarfile.SYMTYPE else ""
            tar.addfile(info)
        for name in ("a.log", "n" * 300 + ".log"):  # a long name: GNU L or PAX x, 300 bytes
            info = tarfile.TarInfo(name)
            info.size = len(FAKE)
            tar.addfile(info, io.BytesIO(FAKE))
        link = tarfile.TarInfo("hard")
        link.type, link.linkname = tarfile.LNKTYPE, "a.log"
        tar.addfile(link)
    return buffer.getvalue()


@pytest.mark.parametrize("format", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("read_size", [1, 511, 512, 10240])
def test_data_is_never_a_header(format: int, read_size: int) -> None:
    """Every byte passes unchanged, in reads of any size, and the fake header inside data is not asked about."""
    data = archive(format)
    guarded = TarHeaders(io.BytesIO(data), Budget(Limits(header=1024), "x.tar", len(data)))  # type: ignore[arg-type]
    out = b"".join(iter(lambda: guarded.read(read_size), b""))
    assert out == data
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert len(tar.getmembers()) == 6


@pytest.mark.parametrize("format", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_a_long_name_over_the_cap_is_refused(format: int) -> None:
    data = archive(format)
    guarded = TarHeaders(io.BytesIO(data), Budget(Limits(header=200), "x.tar", len(data)))  # type: ignore[arg-type]
    with pytest.raises(Exceeded, match=r"^x\.tar: holds a member name or tar header of \d+ bytes, over the limit of 200"):
        guarded.read()
