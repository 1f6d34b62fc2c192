"""Which build of logfilter is installed: its version and a digest of its source files.

A cluster's workers must mask exactly as the client does. A version string does not change
with an edit, a local patch, a half-upgraded install or a package whose modules moved, so the
workers are held to the client's build. `installed` is sent to each worker whole (by value,
cluster.check_workers), so it reports whatever logfilter is installed there, whatever its
layout. The digest names files relative to the package (grammars as `grammars/<name>`), so a
wheel and an editable install of the same source agree.
"""

from __future__ import annotations

import hashlib
import importlib
from functools import cache
from pathlib import Path

SOURCES = (".py", ".pyx", ".pxd", ".lark")  # what decides the masking; not what a compiler made of it


def installed() -> tuple[str, str | None]:
    """The version and source digest of the logfilter this process imports; no digest when none."""
    try:
        package = importlib.import_module("logfilter")
    except ImportError:
        return "none (not installed)", None
    folder = Path(package.__file__ or "").resolve().parent
    files = {path.relative_to(folder).as_posix(): path for path in _sources(folder)}
    grammars = folder.parent / "grammars"  # a source checkout's, beside the package (parsing/grammar.py)
    if not (folder / "grammars").is_dir() and grammars.is_dir():
        files |= {f"grammars/{path.relative_to(grammars).as_posix()}": path for path in _sources(grammars)}
    return str(getattr(package, "__version__", "unknown")), digest(files)


@cache
def identity() -> tuple[str, str | None]:
    """This process's build, computed once."""
    return installed()


def digest(files: dict[str, Path]) -> str:
    """A digest (16 hex) of the files' names and contents, in name order."""
    sha = hashlib.sha256()
    for name in sorted(files):
        content = files[name].read_bytes()
        sha.update(f"{name}\0{len(content)}\0".encode())
        sha.update(content)
    return sha.hexdigest()[:16]


def _sources(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.suffix in SOURCES and "__pycache__" not in path.parts]
