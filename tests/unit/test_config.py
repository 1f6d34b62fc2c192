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
    ("[log-filter]\ndefault-filter-type=hdie\n", 'filter.ini:2: \\[log-filter\\] default-filter-type: unknown filter type "hdie" \\(did you mean hide\\?\\); expected one of: copy, hide'),
    ("[log-filter-data]\nPASSWORD=hdie\n", "filter.ini:2: \\[log-filter-data\\] PASSWORD: unknown filter type"),
    ("[log-filter-data]\nPASSWORD=hide-first,0\n", "filter.ini:2: .*at least 1"),
    ("[log-filter]\ndefault-filter-type=tag(12345678901234567,x)\n", "filter.ini:2: .*prefix longer than 16"),
    ("[log-filtre]\n", "filter.ini:1: unknown section \\[log-filtre\\]; did you mean \\[log-filter\\]\\?"),
    ("[TServer]\n", "sets no default-filter-type .* \\(the sections it has are not logfilter's: \\[TServer\\] \\(line 1\\)\\)"),
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


# Issue 20, item 8: a filter type that is not one names the option (file:line, or the flag), quotes
# the text, and suggests the nearest valid spelling.
FILTER_TYPE_HINTS = [
    ("[log-filter-data]\nPASSWORD=unhide-last 4\n",
     'filter.ini:2: \\[log-filter-data\\] PASSWORD: unknown filter type "unhide-last 4" \\(did you mean unhide-last,4\\?\\)'),
    ("[log-filter-data]\nPASSWORD=hdie\n", 'PASSWORD: unknown filter type "hdie" \\(did you mean hide\\?\\)'),
    ("[log-filter-data]\nName=tag(<,>\n", 'filter.ini:2: .* Name: unknown filter type "tag\\(<,>": missing "\\)" \\(did you mean tag\\(<,>\\)\\?\\)'),
    ("[log-filter]\ndefault-filter-type=HIDE\n", 'default-filter-type: unknown filter type "HIDE" \\(did you mean hide\\?\\)'),
    ("[log-filter-data]\nPIN=unhide-last\n", '"unhide-last": unhide-last needs a count N, as in unhide-last,4'),
    ("[log-filter-data]\nPIN=hide_frist:2\n", '"hide_frist:2" \\(did you mean hide-first,2\\?\\)'),
    ("[log-filter-data]\nPIN=hide-first,0\n", 'filter.ini:2: .* PIN: filter type "hide-first,0": .*at least 1'),
]


class TestFilterTypeHints:
    @pytest.mark.parametrize(("text", "message"), FILTER_TYPE_HINTS)
    def test_in_the_file(self, tmp_path: Path, text: str, message: str) -> None:
        """A bad filter type in the file is quoted, with file:line, key and the nearest valid spelling."""
        with pytest.raises(ConfigError, match=message):
            load_policy(write(tmp_path, text))

    @pytest.mark.parametrize(
        ("default", "key", "message"),
        [
            ("unhide-last 4", None, '--default: default-filter-type: unknown filter type "unhide-last 4" \\(did you mean unhide-last,4\\?\\)'),
            (None, "PASSWORD=hdie", '--key: PASSWORD: unknown filter type "hdie" \\(did you mean hide\\?\\)'),
            (None, "Name=tag(<,>", '--key: Name: unknown filter type "tag\\(<,>": missing "\\)"'),
        ],
    )
    def test_in_flags(self, default: str | None, key: str | None, message: str) -> None:
        """--default and --key name the flag and suggest the same way."""
        with pytest.raises(ConfigError, match=message):
            load_policy(None, default, [key] if key else [])


# Issue 20, item 4: a server's whole option export is read: other programs' sections are ignored.
EXPORT = """[TServer]
; the server's own options, any text at all
dn-scope = switch
password=secret-of-the-server
[log]
verbose = all
all = /genesys/logs/SIPServer
[log-extended]
level-reassign-14005 = alarm
[log-filter]
default-filter-type=copy
[log-filter-data]
PASSWORD=hide
[agent-reservation]
request-collection-time=100 msec
"""


class TestOptionExport:
    def test_other_sections_are_ignored_and_listed(self, tmp_path: Path) -> None:
        """[TServer], [log], [log-extended]... are ignored, whatever they hold, and listed for --verbose."""
        policy = load_policy(write(tmp_path, EXPORT))
        assert (policy.default.text, [(r.key, r.filter_type.text, r.origin) for r in policy.rules]) == (
            "copy", [("PASSWORD", "hide", f"{tmp_path}/filter.ini:13")])
        assert policy.ignored_sections == (
            "[TServer] (line 1)", "[log] (line 5)", "[log-extended] (line 8)", "[agent-reservation] (line 14)")

    @pytest.mark.parametrize(
        ("section", "message"),
        [
            ("log-filtre", "filter.ini:1: unknown section \\[log-filtre\\]; did you mean \\[log-filter\\]\\?"),
            ("Log-Filter", "unknown section \\[Log-Filter\\]; did you mean \\[log-filter\\]\\?"),
            ("LOG_FILTER_DATA", "unknown section \\[LOG_FILTER_DATA\\]; did you mean \\[log-filter-data\\]\\?"),
            ("log-filter-datas", "unknown section \\[log-filter-datas\\]; did you mean \\[log-filter-data\\]\\?"),
            ("logfilter", "did you mean \\[log-filter\\]\\?"),
            ("log-filter-attributs", "unknown section \\[log-filter-attributs\\]"),
        ],
    )
    def test_near_misses_are_refused(self, tmp_path: Path, section: str, message: str) -> None:
        """A section that looks meant for logfilter is refused with a did-you-mean, never ignored."""
        with pytest.raises(ConfigError, match=message):
            load_policy(write(tmp_path, f"[{section}]\nPASSWORD=hide\n[log-filter]\ndefault-filter-type=copy\n"))

    def test_a_malformed_header_is_refused_in_any_section(self, tmp_path: Path) -> None:
        """A header missing its bracket is refused even after another program's section: it may be ours."""
        with pytest.raises(ConfigError, match="filter.ini:3: a section header must look like"):
            load_policy(write(tmp_path, "[TServer]\nx=1\n[log-filter-data\nPASSWORD=hide\n"))
