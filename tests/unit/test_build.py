"""The build identity a cluster's workers are held to: version and a digest of the sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from logfilter import __version__
from logfilter.batch.build import digest, identity, installed
from logfilter.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def copy_of_this_build(root: Path, layout: str) -> Path:
    """The package and grammars as a source checkout (grammars beside it) or a wheel (inside it)."""
    shutil.copytree(REPO / "logfilter", root / "logfilter", ignore=shutil.ignore_patterns("__pycache__"))
    grammars = root / "grammars" if layout == "checkout" else root / "logfilter" / "grammars"
    shutil.copytree(REPO / "grammars", grammars)
    return root


def build_seen_from(root: Path) -> tuple[str, str]:
    """What `installed` reports in a process that imports logfilter from `root`."""
    code = f"import sys; sys.path.insert(0, {str(root)!r}); from logfilter.batch.build import installed; print(*installed())"
    version, build = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return version, build


class TestIdentity:
    def test_is_this_installation(self) -> None:
        """The identity is the installed version and a 16-hex digest, the same on every call."""
        version, build = identity()
        assert version == __version__ and build is not None and len(build) == 16
        assert installed() == identity()

    def test_a_wheel_and_a_checkout_of_one_source_agree(self, tmp_path: Path) -> None:
        """Grammars inside the package (a wheel) or beside it (a checkout) give one digest."""
        checkout = build_seen_from(copy_of_this_build(tmp_path / "checkout", "checkout"))
        wheel = build_seen_from(copy_of_this_build(tmp_path / "wheel", "wheel"))
        assert checkout == wheel == identity()

    def test_any_edit_to_a_source_or_grammar_changes_it(self, tmp_path: Path) -> None:
        """One byte more in a module or a grammar is another build; compiled caches are not sources."""
        root = copy_of_this_build(tmp_path / "edited", "checkout")
        (root / "logfilter" / "__pycache__").mkdir(exist_ok=True)
        (root / "logfilter" / "__pycache__" / "x.pyc").write_bytes(b"cache")
        assert build_seen_from(root) == identity()
        with (root / "grammars" / "tlib.lark").open("a") as grammar:
            grammar.write("\n")
        edited = build_seen_from(root)
        assert edited[0] == __version__ and edited != identity()

    def test_digest_covers_names_and_contents(self, tmp_path: Path) -> None:
        """Renaming a file or changing its bytes changes the digest; the order files are listed in does not."""
        (tmp_path / "a").write_bytes(b"one")
        (tmp_path / "b").write_bytes(b"two")
        first = digest({"a.py": tmp_path / "a", "b.py": tmp_path / "b"})
        assert digest({"b.py": tmp_path / "b", "a.py": tmp_path / "a"}) == first
        assert digest({"a.py": tmp_path / "b", "b.py": tmp_path / "a"}) != first
        assert digest({"c.py": tmp_path / "a", "b.py": tmp_path / "b"}) != first


class FakeClient:
    """What check_workers asks of a dask Client: the workers' answers, given here."""

    def __init__(self, found: dict[str, tuple[str, str | None]]) -> None:
        self.found = found

    def wait_for_workers(self, count: int, timeout: float) -> None:
        pass

    def run(self, function: object) -> dict[str, tuple[str, str | None]]:
        return self.found


class TestCheckWorkers:
    @pytest.fixture(autouse=True)
    def _dask(self) -> None:
        pytest.importorskip("distributed")

    def test_workers_of_this_build_are_accepted(self) -> None:
        """Workers reporting the client's version and digest pass."""
        from logfilter.batch.cluster import check_workers

        check_workers(FakeClient({"tcp://a:1": identity(), "tcp://b:1": identity()}))

    def test_a_worker_of_another_build_is_refused(self) -> None:
        """Same version, other sources: refused, naming both digests."""
        from logfilter.batch.cluster import check_workers

        version, mine = identity()
        other = FakeClient({"tcp://a:1": identity(), "tcp://b:1": (version, "0123456789abcdef")})
        with pytest.raises(ConfigError) as refused:
            check_workers(other)
        assert str(refused.value) == (
            f"the cluster's workers run another build of logfilter {version} (source digest 0123456789abcdef; "
            f"this client {mine}); install the same one on the client and the workers"
        )

    def test_a_worker_of_another_version_or_none_is_refused(self) -> None:
        """Another version, or no logfilter at all, is refused by version first."""
        from logfilter.batch.cluster import check_workers

        version, _mine = identity()
        with pytest.raises(ConfigError, match=f"workers run logfilter 0.0.1, this client {version}; install one"):
            check_workers(FakeClient({"tcp://a:1": ("0.0.1", "0123456789abcdef")}))
        with pytest.raises(ConfigError, match="workers run logfilter none \\(not installed\\), this client"):
            check_workers(FakeClient({"tcp://a:1": ("none (not installed)", None)}))
