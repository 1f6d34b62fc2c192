"""Parameter types: each flag's value is checked and converted once, as the command line is parsed.

As click's `types.py`: a type converts one value or fails with a message naming the flag (or
the path) and the bad value. Typer takes a type through `typer.Option(parser=...)`, and shows
its `metavar` in --help. A failure is a ConfigError, which the command line prints as every
usage error: one `error: <message>` line on stderr, exit 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, NoReturn, TypeVar

from logfilter.errors import ConfigError
from logfilter.names import printable

T = TypeVar("T")


class ParamType(Generic[T]):
    """Converts the text of one value (or its default) to what the command takes."""

    metavar: str

    def __call__(self, value: str | T) -> T:
        return self.convert(value)

    def convert(self, value: str | T) -> T:
        raise NotImplementedError

    def fail(self, message: str) -> NoReturn:
        raise ConfigError(message)


class Choice(ParamType[str]):
    """One of a few words, e.g. `--on-error [redact|fail]`."""

    def __init__(self, flag: str, choices: Sequence[str]) -> None:
        self.flag, self.choices = flag, tuple(choices)
        self.metavar = f"[{'|'.join(self.choices)}]"

    def convert(self, value: str) -> str:
        if value not in self.choices:
            self.fail(f"{self.flag} {value!r}: expected {' or '.join(self.choices)}")
        return value


class WholeNumber(ParamType[int]):
    """A whole number from `low` to `high` (no upper bound when None)."""

    def __init__(self, flag: str, low: int, high: int | None = None, metavar: str = "N") -> None:
        self.flag, self.low, self.high, self.metavar = flag, low, high, metavar

    def convert(self, value: str | int) -> int:
        expected = f"{self.low} to {self.high}" if self.high is not None else f"a whole number of at least {self.low}"
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{self.flag} {value!r}: expected {expected}")
        if number < self.low or self.high is not None and number > self.high:
            self.fail(f"{self.flag} {number}: expected {expected}")
        return number


class InputFile(ParamType[str]):
    """A log file to read, or - for stdin; never a folder (run and untag read files)."""

    metavar = "INPUT"

    def convert(self, value: str) -> str:
        if value == "-":
            return value
        path = Path(value)
        if not path.exists():
            self.fail(f"{printable(value)}: no such input file")
        if path.is_dir():
            self.fail(f"{printable(value)}: is a folder; run reads files (use batch for folders)")
        if not os.access(path, os.R_OK):
            self.fail(f"{printable(value)}: input file is not readable")
        return value


class InputPath(ParamType[str]):
    """A file, folder or archive to read, or - for stdin."""

    metavar = "INPUT"

    def convert(self, value: str) -> str:
        if value != "-" and not Path(value).exists():
            self.fail(f"{printable(value)}: no such input file or folder")
        return value


class Folder(ParamType[Path]):
    """A folder to write into: it may not exist yet, but it may not be a file."""

    def __init__(self, metavar: str) -> None:
        self.metavar = metavar

    def convert(self, value: str | Path) -> Path:
        path = Path(value)
        if path.exists() and not path.is_dir():
            self.fail(f"{printable(value)}: {self.metavar} is not a folder")
        return path


class FileName(ParamType[Path]):
    """A file to write (or - for stdout, if `dash`); a folder is refused with the message
    `refusal` makes of the path."""

    def __init__(self, metavar: str, refusal: Callable[[Path], str], dash: bool = False) -> None:
        self.metavar, self.refusal, self.dash = metavar, refusal, dash

    def convert(self, value: str | Path) -> Path:
        path = Path(value)
        if path.is_dir() and not (self.dash and str(value) == "-"):
            self.fail(self.refusal(path))
        return path
