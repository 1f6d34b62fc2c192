"""The quick start (cli/quick.py): it reads what Typer's declaration says, writes what Typer writes, and leaves the rest to Typer."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from logfilter.cli import spec
from tests.conftest import ROOT, SAMPLES

TOOL = runpy.run_path(str(ROOT / "tools" / "cli_spec.py"))
SCRIPT = Path(sys.executable).parent / "logfilter"  # the console script: its program name is `logfilter`


class TestSpec:
    def test_spec_is_what_the_declaration_says(self) -> None:
        """spec.RUN_OPTIONS is what Typer builds from run's declaration (regenerate: tools/cli_spec.py)."""
        assert spec.RUN_OPTIONS == TOOL["run_options"]()

    def test_help_is_what_typer_prints(self) -> None:
        """spec.HELP is `logfilter --help` as Typer prints it at 80 columns."""
        assert spec.HELP == TOOL["top_help"]()


class TestQuick:
    @pytest.mark.parametrize("argv", [
        ["run", "-c", "samples/filter.ini", "samples/tserver.log"],
        ["run", "samples/tserver.log", "--default=hide", "--key", "PASSWORD=copy", "--key", "RTR=skip", "--stats"],
        ["run", "--config", "samples/filter.ini", "--format", "jsonl", "--all-lines", "-", "--on-error=fail"],
        ["run", "-c", "samples/filter.ini", "--engine", "reference", "--ignore-key-case", "-o", "-"],
        ["run", "--default", "hide", "--all-lines"],  # refused: Typer says why
        ["run", "--default", "hide", "--engine", "turbo"],
        ["run", "--default", "hide", "no-such.log"],
        ["run", "--default", "hide", "--preview"],
        ["run"],
        ["run", "--default"],
        ["run", "--default", "--stats"],
        ["run", "--default", "hide", "--", "samples/tserver.log"],
        ["run", "-h"],
    ])
    def test_writes_what_typer_writes(self, argv: list[str]) -> None:
        """Every command line gives the same exit code, stdout and stderr through the entry point as through Typer."""
        stdin = (SAMPLES / "tserver.log").read_bytes()
        quick = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['logfilter'] + sys.argv[1:]; "
                                "from logfilter.cli import entry; entry()", *argv], input=stdin, cwd=ROOT,
                               capture_output=True, check=False)  # fmt: skip
        typer = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['logfilter'] + sys.argv[1:]; "
                                "from logfilter.cli.app import main; from logfilter.cli import entry; "
                                "import logfilter.cli.quick as q; q.quick = lambda args: None; entry()", *argv],
                               input=stdin, cwd=ROOT, capture_output=True, check=False)  # fmt: skip
        assert (quick.returncode, quick.stdout, quick.stderr) == (typer.returncode, typer.stdout, typer.stderr)

    def test_help_at_80_columns_or_more_is_spec_help(self) -> None:
        """`logfilter --help` prints spec.HELP without Typer; at 60 columns Typer wraps it itself."""
        done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False,
                              env={**os.environ, "COLUMNS": "120"})  # fmt: skip
        assert (done.returncode, done.stdout) == (0, spec.HELP)
        narrow = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False,
                                env={**os.environ, "COLUMNS": "60"})  # fmt: skip
        assert narrow.returncode == 0 and narrow.stdout != spec.HELP and "Usage: logfilter" in narrow.stdout

    def test_a_plain_run_never_imports_typer(self) -> None:
        """A plain `logfilter run` starts without Typer (nor click, pydantic or Lark)."""
        code = ("import sys; sys.argv = ['logfilter', 'run', '--default', 'hide', 'samples/tserver.log']\n"
                "from logfilter.cli import _command\n"
                "_command(sys.argv[1:])\n"
                "print(sorted(name for name in ('typer', 'click', 'pydantic', 'lark', 'phonenumbers', 'rich')"
                " if name in sys.modules), file=sys.stderr)")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stderr.strip() == "[]", done.stderr
