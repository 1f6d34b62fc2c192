"""`logfilter scan` as a real process: findings, exit codes, the report, and no value in any of it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_logfilter

CANARY_PAN = "4012888888881881"
CANARY_MAIL = "canary.person@example.net"
CANARY_PASSWORD = "Hunter2Canary"

# Fields that carry numbers but no customer data: none may be flagged, even --everywhere.
DIAGNOSTIC = (
    "@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n"
    "\tAttributeEventSequenceNumber\t0000000000001234\n"
    "\tAttributeEventSequenceNumber\t4111111111111111\n"
    "\tAttributeTimeinSecs\t1479123456\n"
    "\tAttributeTimeinuSecs\t560000\n"
    "\tAttributeConnID\t4012888888881881\n"
    "\tAttributeConnID\t006c029a6685d004\n"
    "\tAttributeTransferConnID\t0000000000000abc\n"
    "\tAttributeCallUUID\t'AB12CD34EF56GH78IJ90KL12MN'\n"
    "\tAttributeThisDN\t'+14155550123'\n"
    "\tAttributeOtherDN\t'+442079460958'\n"
    "\tAttributeThisQueue\t'7001'\n"
    "\tAttributeUserData\t[61] 00 02 00 00..\n"
    "\t\t'GSIP_REC_FN'\t'006c029a6685d004_2026-11-23'\n"
    "\t\t'RTargetAgentSelected'\t'7005'\n"
    "\t\t'Timestamp'\t1479123456\n"
    "2026-11-23T10:26:01.560 Trc 04541 RequestAttachUserData received from 'sip_01@+4389' ref 0000000000001234\n"
    "13:03:08.417: SIPTR: Received [0,UDP] 1071 bytes from 10.0.0.1:5060 <<<<<\n"
    "AttributeConnID [long] = 4012888888881881\n"
)


def log(*pairs: tuple[str, str]) -> str:
    lines = "".join(f"\t\t'{key}'\t{value}\n" for key, value in pairs)
    return f"@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n\tAttributeUserData\t[5] 00\n{lines}"


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    path = tmp_path / "leaky.log"
    path.write_text(
        log(("PASSWORD", f"'{CANARY_PASSWORD}'"), ("Note", f"'pay with {CANARY_PAN}'"), ("Mail", f"'{CANARY_MAIL}'"))
        + f"12:00:00.000 Std 00000 mail from {CANARY_MAIL}\n"
    )
    return path


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    path = tmp_path / "filter.ini"
    path.write_text("[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPASSWORD=hide\nCardNumber=unhide-last,4\n")
    return path


def assert_no_canary(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for canary in (CANARY_PAN, CANARY_MAIL, CANARY_PASSWORD):
            assert canary.encode() not in data


def test_diagnostic_fields_are_not_flagged(tmp_path: Path) -> None:
    """Sequence numbers, times, ConnIDs, DNs and ids pass even --everywhere; exit 0."""
    path = tmp_path / "diag.log"
    path.write_text(DIAGNOSTIC)
    result = run_logfilter("scan", "--everywhere", path)
    assert (result.returncode, result.stdout) == (0, b""), result.stdout
    assert "clean: 1 inputs, 19 lines" in result.stderr


def test_findings_name_file_line_key_detector_never_the_value(leaky: Path, ini: Path, tmp_path: Path) -> None:
    """Each finding names file, line, key, attribute and detector or rule, with `****` or a masked preview, never the value."""
    report = tmp_path / "scan.json"
    result = run_logfilter("scan", "-c", ini, "--everywhere", "--report", report, leaky)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines == [
        f"{leaky}:3: rule hide: key 'PASSWORD' in AttributeUserData: ****",
        f"{leaky}:4: pan: key 'Note' in AttributeUserData: ************1881",
        f"{leaky}:5: email: key 'Mail' in AttributeUserData: *********************.net",
        f"{leaky}:6: email: outside KV blocks: *********************.net",
    ]
    content = json.loads(report.read_bytes())
    assert content["totals"]["findings"] == 4
    assert content["totals"]["by_detector"] == {"email": 2, "pan": 1, "rule": 1}
    assert content["totals"]["by_key"] == {"Mail": {"email": 1}, "Note": {"pan": 1}, "PASSWORD": {"rule": 1}}
    assert content["findings"][0] == {
        "file": str(leaky), "line": 3, "detector": "rule", "preview": "****",
        "key": "PASSWORD", "attribute": "AttributeUserData", "rule": "hide",
    }  # fmt: skip
    assert content["config"]["detect"] == ["pan", "ssn", "iban", "email", "phone"]
    assert_no_canary(result.stdout, result.stderr, report.read_bytes())


def test_without_everywhere_only_blocks(leaky: Path) -> None:
    """Without --everywhere only values inside KV blocks are searched: the e-mail on a free line is not a finding."""
    result = run_logfilter("scan", "--detect", "email", leaky)
    assert result.returncode == 1
    assert [line.split(": ")[1] for line in result.stdout.decode().splitlines()] == ["email"]


def test_output_of_run_scans_clean(ini: Path, tmp_path: Path) -> None:
    """What `run` writes under a config passes `scan` under it: masked values are recognized as masked."""
    config = tmp_path / "all.ini"
    config.write_text(
        "[log-filter]\ndefault-filter-type=copy\ndetect=all\n[log-filter-data]\n"
        "PASSWORD=hide\nCardNumber=unhide-last,4\nPIN=hide\nCUSTOMER=skip\nACCOUNT=hide-first,3\n"
    )
    for sample in sorted(SAMPLES.glob("*.log")):
        masked = run_logfilter("run", "-c", config, sample)
        assert masked.returncode == 0
        raw = run_logfilter("scan", "-c", config, sample)
        assert raw.returncode == 1, f"{sample.name}: the raw sample has nothing to find?"
        result = run_logfilter("scan", "-c", config, "-", stdin=masked.stdout)
        assert (result.returncode, result.stdout) == (0, b""), (sample.name, result.stdout)


def test_a_pair_a_skip_rule_removes_is_a_finding(tmp_path: Path) -> None:
    """A leaf pair or a list under a skip rule, still in the log, is a rule finding; run's output scans clean."""
    config = tmp_path / "skip.ini"
    config.write_text("[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nNAME=skip\nCUSTOMER=skip\n")
    path = tmp_path / "skip.log"
    path.write_text(log(("NAME", f"'{CANARY_PASSWORD}'"), ("K", "'v'")) + "\t\t'CUSTOMER'(list) 'X'\t'y'\n")
    result = run_logfilter("scan", "-c", config, path)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"{path}:3: rule skip: key 'NAME' in AttributeUserData: ****",
        f"{path}:5: rule skip: key 'CUSTOMER' in AttributeUserData: ****",
    ]
    assert_no_canary(result.stdout, result.stderr)
    masked = run_logfilter("run", "-c", config, path)
    assert masked.stdout == log(("K", "'v'")).encode()
    clean = run_logfilter("scan", "-c", config, "-", stdin=masked.stdout)
    assert (clean.returncode, clean.stdout) == (0, b"")


def test_partially_masked_value_is_not_a_finding(ini: Path, tmp_path: Path) -> None:
    """Values already in the form their rule gives are clean; one the rule would still change is a finding."""
    path = tmp_path / "masked.log"
    path.write_text(log(("CardNumber", "'************1111'"), ("PASSWORD", "'****'"), ("CardNumber", "************1111")))
    clean = run_logfilter("scan", "-c", ini, path)
    assert (clean.returncode, clean.stdout) == (0, b"")
    assert clean.stderr == "logfilter: clean: 1 inputs, 5 lines, 3 KV pairs\n"
    path.write_text(log(("CardNumber", "'4111111111111112'")))  # not Luhn-valid, but the rule says mask it
    result = run_logfilter("scan", "-c", ini, "--detect", "none", path)
    assert result.returncode == 1 and b"rule unhide-last,4: key 'CardNumber'" in result.stdout
    assert b"4111111111111112" not in result.stdout


def test_archives_and_folders(leaky: Path, tmp_path: Path) -> None:
    """A tar.gz member and a gzip file are read; a binary file is a finding (it cannot be vouched for)."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(leaky, arcname="logs/tserver.log")
    (folder / "logs.tgz").write_bytes(buffer.getvalue())
    (folder / "old.log.gz").write_bytes(gzip.compress(leaky.read_bytes()))
    (folder / "core").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    result = run_logfilter("scan", "--detect", "pan", folder)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"{folder}/core: not-scanned: binary data, not a text log",
        f"{folder}/logs.tgz!logs/tserver.log:4: pan: key 'Note' in AttributeUserData: ************1881",
        f"{folder}/old.log.gz:4: pan: key 'Note' in AttributeUserData: ************1881",
    ]


def test_damaged_archive_is_not_clean(leaky: Path, tmp_path: Path) -> None:
    """A truncated gzip file is a not-scanned finding that says why (exit 1), never clean."""
    path = tmp_path / "cut.log.gz"
    path.write_bytes(gzip.compress(leaky.read_bytes() * 50)[:-20])
    result = run_logfilter("scan", "--detect", "ssn", path)
    assert result.returncode == 1 and b"not-scanned" in result.stdout and b"truncated" in result.stdout


def test_unparsable_block_line_is_a_finding(tmp_path: Path) -> None:
    """A KV line scan cannot read is a finding without its text; a line run failed closed is not."""
    path = tmp_path / "odd.log"
    path.write_text(log(("Note", f"'unterminated {CANARY_PAN}")) + log(("X", "'****'")).replace("'X'\t'****'", "'****'"))
    result = run_logfilter("scan", path)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"{path}:3: unparsable: a line in an AttributeUserData block: cannot read this line of a KV block; check it by hand"
    ]  # the `'****'` line logfilter writes for a line it failed closed is not a finding
    assert_no_canary(result.stdout, result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--detect", "visa"], "--detect: unknown detector 'visa'"),
        (["missing.log"], "missing.log: no such input file or folder"),
        (["-c", "nowhere.ini"], "nowhere.ini: cannot read the configuration file"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    """An unknown detector, a missing input or configuration file is a usage error with exit 2."""
    result = run_logfilter("scan", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_stdin_and_report_to_stdout(leaky: Path) -> None:
    """stdin is scanned as <stdin>, and --report - puts the JSON report alone on stdout."""
    result = run_logfilter("scan", "--detect", "pan", "--report", "-", stdin=leaky.read_bytes())
    assert result.returncode == 1
    report = json.loads(result.stdout)  # the report alone: no finding lines before it
    assert report["inputs"] == [{"input": "<stdin>", "status": "scanned", "lines": 6, "findings": 1}]


def test_tagged_values(tmp_path: Path) -> None:
    """Tags are stripped before a line is read: a tag rule is met by them, a masking rule is not."""
    config = tmp_path / "tags.ini"
    config.write_text("[log-filter-data]\nNAME=tag(<!--,-->)\nPASSWORD=hide\n")
    path = tmp_path / "tagged.log"
    path.write_text(log(("NAME", "<!--'Jane Roe'-->"), ("PASSWORD", "<#'S3cret'#>"), ("Mail", f"<#'{CANARY_MAIL}'#>")))
    result = run_logfilter("scan", "-c", config, path)
    assert result.returncode == 1
    assert [line.split(": ", 1)[1] for line in result.stdout.decode().splitlines()] == [
        "rule hide: key 'PASSWORD' in AttributeUserData: ****",
        "email: key 'Mail' in AttributeUserData: *********************.net",
    ]
    assert_no_canary(result.stdout, result.stderr)
    masked = run_logfilter("run", "-c", SAMPLES / "filter.ini", SAMPLES / "tserver.log")
    assert b"<!--" in masked.stdout  # the sample config tags CustomerName
    clean = run_logfilter("scan", "-c", SAMPLES / "filter.ini", "-", stdin=masked.stdout)
    assert (clean.returncode, clean.stdout) == (0, b"")


def test_batch_report_counts_detector_catches(tmp_path: Path) -> None:
    """The safety net under batch: values caught are masked, and counted by detector and key in the report."""
    config = tmp_path / "net.ini"
    config.write_text("[log-filter]\ndefault-filter-type=copy\ndetect=pan,email\n[log-filter-data]\nPASSWORD=hide\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.log").write_text(log(("Note", f"'{CANARY_PAN}'"), ("Mail", f"'{CANARY_MAIL}'"), ("X", "'1'")))
    (tmp_path / "in" / "b.log.gz").write_bytes(gzip.compress(log(("Note", f"'{CANARY_PAN}'")).encode()))
    result = run_logfilter("batch", "-c", config, "in", "-o", "out", "--report", "report.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_bytes())
    totals = report["totals"]
    assert (totals["detected"], totals["copied"], totals["masked"]) == (3, 1, 0)
    assert totals["detected_by_detector"] == {"email": 1, "pan": 2}
    assert totals["detected_by_key"] == {"Mail": {"email": 1}, "Note": {"pan": 2}}
    assert report["config"]["detect"] == ["pan", "email"]
    outputs = (tmp_path / "out/in/a.log").read_bytes() + gzip.decompress((tmp_path / "out/in/b.log.gz").read_bytes())
    assert outputs.count(b"'****'") == 3
    assert_no_canary(outputs, result.stderr, (tmp_path / "report.json").read_bytes())


def test_unclosed_tag_in_a_block_is_unparsable(tmp_path: Path) -> None:
    """A tag that never closes could hide anything: the line is not vouched for."""
    path = tmp_path / "unclosed.log"
    path.write_text(log(("K", f"<#{CANARY_PAN}"), ("PASSWORD", "<#hunter2secret")))
    result = run_logfilter("scan", "--key", "PASSWORD=hide", path)
    assert result.returncode == 1
    assert [line.split(": ")[1] for line in result.stdout.decode().splitlines()] == ["unparsable", "unparsable"]
    assert_no_canary(result.stdout, result.stderr)


def test_everywhere_finds_plain_card_numbers_that_look_like_ids(tmp_path: Path) -> None:
    """Sixteen digits from 1-9 on are not set aside as a ConnID; a key with a control character is escaped."""
    path = tmp_path / "free.log"
    path.write_text(f"12:00:00.000 Std 00000 customer paid with card {CANARY_PAN} today\n"
                    + log(("\x1b[31mRED", f"'{CANARY_PAN}'")))  # fmt: skip
    result = run_logfilter("scan", "--everywhere", path)
    assert result.stdout.decode().splitlines() == [
        f"{path}:1: pan: outside KV blocks: ************1881",
        f"{path}:4: pan: key '\\x1b[31mRED' in AttributeUserData: ************1881",
    ]


def test_what_a_folder_holds_and_cannot_be_scanned_is_a_finding(leaky: Path, tmp_path: Path) -> None:
    """In a folder, links to nothing and to folders are not-scanned findings; a link to a file is scanned."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "file-link.log").symlink_to(leaky)
    (folder / "dir-link").symlink_to(tmp_path)
    (folder / "broken").symlink_to(tmp_path / "nowhere")
    result = run_logfilter("scan", "--detect", "pan", folder)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"{folder}/broken: not-scanned: a link to nothing",
        f"{folder}/dir-link: not-scanned: a link to a folder; not followed",
        f"{folder}/file-link.log:4: pan: key 'Note' in AttributeUserData: ************1881",
    ]
