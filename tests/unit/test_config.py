"""The option-file reader and the CLI overrides that build a Policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from logfilter.errors import ConfigError
from logfilter.rules.config import load_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "filter.ini"
    path.write_text(text)
    return path


class TestReading:
    def test_reads_default_and_rules(self, tmp_path: Path) -> None:
        """default-filter-type and each [log-filter-data] key become the Policy."""
        path = write(tmp_path, "# c\n[log-filter]\ndefault-filter-type=hide-first,3\n[log-filter-data]\n"
                               "PASSWORD=unhide-last,5\nEmail=tag(<!--,-->)\nRECORD_ID=\n; note\n")
        policy = load_policy(path)
        assert policy.default.text == "hide-first,3"
        assert {r.key: r.filter_type.text for r in policy.rules} == {
            "PASSWORD": "unhide-last,5", "Email": "tag(<!--,-->)", "RECORD_ID": "copy"}

    def test_overrides_win(self, tmp_path: Path) -> None:
        """--default and --key override the file."""
        path = write(tmp_path, "[log-filter]\ndefault-filter-type=hide\n[log-filter-data]\nPASSWORD=hide\n")
        policy = load_policy(path, "copy", ["PASSWORD=unhide-last,2", "Other=skip"])
        assert policy.default.text == "copy"
        assert {r.key: r.filter_type.text for r in policy.rules} == {"PASSWORD": "unhide-last,2", "Other": "skip"}

    def test_empty_default_is_copy(self, tmp_path: Path) -> None:
        """An empty or missing default-filter-type means copy."""
        assert load_policy(write(tmp_path, "[log-filter]\ndefault-filter-type=\n")).default.text == "copy"

    def test_a_file_that_sets_nothing_is_refused(self, tmp_path: Path) -> None:
        """A file with no default and no rule would mask nothing: refused unless flags say what to do."""
        for text in ("", "[log-filter]\n[log-filter-data]\n", "# only a comment\n"):
            with pytest.raises(ConfigError, match="filter.ini: sets no default-filter-type and no"):
                load_policy(write(tmp_path, text))
        assert load_policy(write(tmp_path, ""), "copy").default.text == "copy"

    def test_crlf_and_bom(self, tmp_path: Path) -> None:
        """Files saved on Windows (BOM, CRLF) are read the same."""
        path = tmp_path / "w.ini"
        path.write_bytes(b"\xef\xbb\xbf[log-filter-data]\r\nPASSWORD=hide\r\n")
        assert [r.key for r in load_policy(path).rules] == ["PASSWORD"]


ERRORS = [
    ("[log-filter]\ndefault-filter-type=hdie\n", "filter.ini:2: \\[log-filter\\] default-filter-type: unknown filter type; expected one of: copy, hide"),
    ("[log-filter-data]\nPASSWORD=hdie\n", "filter.ini:2: \\[log-filter-data\\] PASSWORD: unknown filter type"),
    ("[log-filter-data]\nPASSWORD=hide-first,0\n", "filter.ini:2: .*at least 1"),
    ("[log-filter]\ndefault-filter-type=tag(12345678901234567,x)\n", "filter.ini:2: .*prefix longer than 16"),
    ("[log-filtre]\n", "filter.ini:1: unknown section \\[log-filtre\\]; did you mean \\[log-filter\\]\\?"),
    ("[TServer]\n", "unknown section \\[TServer\\]"),
    ("PASSWORD=hide\n", "filter.ini:1: option outside a section"),
    ("[log-filter]\nfilter-type=hide\n", "unknown option filter-type"),
    ("[log-filter-data]\nPASSWORD\n", "filter.ini:2: .*expected OPTION=VALUE"),
    ("[log-filter-data]\nPASSWORD=hide\nPASSWORD=copy\n", "filter.ini:3: .*set twice \\(first on line 2\\)"),
    ("[log-filter\n", "filter.ini:1: a section header"),
]


class TestErrors:
    @pytest.mark.parametrize(("text", "message"), ERRORS)
    def test_bad_config(self, tmp_path: Path, text: str, message: str) -> None:
        """Each bad configuration is a ConfigError naming file, line, option and what is allowed."""
        with pytest.raises(ConfigError, match=message):
            load_policy(write(tmp_path, text))

    def test_nothing_configured(self) -> None:
        """No file, no --default and no --key: refuse rather than copy everything."""
        with pytest.raises(ConfigError, match="no filter configured"):
            load_policy()

    def test_missing_file(self, tmp_path: Path) -> None:
        """A config file that does not exist is an error, never 'no rules'."""
        with pytest.raises(ConfigError, match="cannot read the configuration file"):
            load_policy(tmp_path / "nope.ini")

    def test_bad_key_option(self) -> None:
        """--key needs KEY=TYPE."""
        with pytest.raises(ConfigError, match="expected KEY=FILTER-TYPE"):
            load_policy(None, None, ["PASSWORD"])

    def test_case_clash_when_ignoring_case(self, tmp_path: Path) -> None:
        """Two rules that differ only by case and disagree are refused under --ignore-key-case."""
        path = write(tmp_path, "[log-filter-data]\nPASSWORD=hide\npassword=copy\n")
        with pytest.raises(ConfigError, match="clashes with PASSWORD"):
            load_policy(path, ignore_key_case=True)
