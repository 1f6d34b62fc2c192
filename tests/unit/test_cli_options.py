"""cli/types.py and cli/options.py: each flag's value is checked once, the shared flags are declared once."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from logfilter.cli.options import RULES, WALK, RuleOptions, WalkOptions, shared_options
from logfilter.cli.types import Choice, FileName, Folder, InputFile, InputPath, WholeNumber
from logfilter.errors import ConfigError


class TestChoice:
    def test_a_choice_passes(self) -> None:
        """A listed word comes back as it is."""
        assert Choice("--on-error", ("redact", "fail"))("fail") == "fail"

    def test_other_words_are_refused_naming_flag_and_value(self) -> None:
        """Anything else is a ConfigError naming the flag, the value and the choices."""
        with pytest.raises(ConfigError, match=r"^--on-error 'ignore': expected redact or fail$"):
            Choice("--on-error", ("redact", "fail"))("ignore")

    def test_help_shows_the_choices(self) -> None:
        """--help shows the choices, not a Python type."""
        assert Choice("--format", ("tlib", "jsonl")).metavar == "[tlib|jsonl]"


WHOLE_NUMBERS = [
    (WholeNumber("--jobs", 1), "0", "--jobs 0: expected a whole number of at least 1"),
    (WholeNumber("--jobs", 1), "x", "--jobs 'x': expected a whole number of at least 1"),
    (WholeNumber("--preview-count", 1, 100), "101", "--preview-count 101: expected 1 to 100"),
    (WholeNumber("--preview-count", 1, 100), "1.5", "--preview-count '1.5': expected 1 to 100"),
]


class TestWholeNumber:
    def test_in_range_passes(self) -> None:
        """A number in range comes back as an int, from text or from a default."""
        assert (WholeNumber("--jobs", 1)("4"), WholeNumber("--preview-count", 1, 100)(3)) == (4, 3)

    @pytest.mark.parametrize(("kind", "text", "message"), WHOLE_NUMBERS)
    def test_out_of_range_or_not_a_number_is_refused(self, kind: WholeNumber, text: str, message: str) -> None:
        """A number out of range, or no number, is refused with the flag, the value and the range."""
        with pytest.raises(ConfigError, match=f"^{message}$"):
            kind(text)


class TestPaths:
    def test_input_file(self, tmp_path: Path) -> None:
        """run's inputs: - and readable files pass; a missing path or a folder is refused."""
        (tmp_path / "a.log").write_text("x\n")
        assert [InputFile()(text) for text in ("-", str(tmp_path / "a.log"))] == ["-", str(tmp_path / "a.log")]
        with pytest.raises(ConfigError, match="nothere.log: no such input file$"):
            InputFile()(str(tmp_path / "nothere.log"))
        with pytest.raises(ConfigError, match="is a folder; run reads files"):
            InputFile()(str(tmp_path))

    def test_input_path(self, tmp_path: Path) -> None:
        """scan's inputs: folders pass too; a missing path is named, bytes that are not UTF-8 escaped."""
        assert InputPath()(str(tmp_path)) == str(tmp_path)
        with pytest.raises(ConfigError, match=r"gone\\xff.log: no such input file or folder$"):
            InputPath()(str(tmp_path) + "/gone\udcff.log")

    def test_folder(self, tmp_path: Path) -> None:
        """An OUTDIR may not exist yet, but may not be a file."""
        (tmp_path / "file").write_text("")
        assert Folder("OUTDIR")(str(tmp_path / "new")) == tmp_path / "new"
        with pytest.raises(ConfigError, match="file: OUTDIR is not a folder$"):
            Folder("OUTDIR")(str(tmp_path / "file"))

    def test_file_name(self, tmp_path: Path) -> None:
        """A file to write may not be a folder; - passes where it means stdout."""
        report = FileName("FILE", lambda path: f"{path}: a folder", dash=True)
        assert report("-") == Path("-")
        with pytest.raises(ConfigError, match=": a folder$"):
            report(str(tmp_path))


def command(inputs: list[str] | None = None, rules: RuleOptions = RULES, walk: WalkOptions = WALK) -> object:
    return inputs, rules, walk


class TestSharedOptions:
    def test_typer_sees_each_groups_flags_in_its_place(self) -> None:
        """The signature Typer reads has the groups' flags where the group parameters were."""
        names = list(inspect.signature(shared_options(command)).parameters)
        assert names == ["inputs", "config", "default", "key", "ignore_key_case", "verbose",
                         "on_error", "engine", "output_format", "all_lines"]  # fmt: skip

    def test_the_command_gets_the_groups_built(self) -> None:
        """The command is called with one object per group, built from its flags."""
        flags = {"config": None, "default": "hide", "key": ["A=copy"], "ignore_key_case": True, "verbose": False,
                 "on_error": "fail", "engine": "fast", "output_format": "jsonl", "all_lines": True}  # fmt: skip
        assert shared_options(command)(inputs=["-"], **flags) == (
            ["-"], RuleOptions(None, "hide", ["A=copy"], True), WalkOptions("fail", "fast", "jsonl", True)
        )

    def test_all_lines_needs_jsonl(self) -> None:
        """--all-lines without --format jsonl is refused when the group is built."""
        with pytest.raises(ConfigError, match="--all-lines needs --format jsonl"):
            WalkOptions(all_lines=True)

    def test_no_rules_given(self) -> None:
        """A group without a file, --default or --key is empty (keys then shows the copy default)."""
        assert (RuleOptions().empty, RuleOptions(ignore_key_case=True).empty, RuleOptions(default="hide").empty) == (
            True, True, False,
        )  # fmt: skip
