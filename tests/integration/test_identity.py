"""[log-filter-attributes] and [log-filter-sip] through every command, as real processes on real files."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import GOLDEN, SAMPLES, golden_cases, on_a_terminal, run_logfilter
from tests.integration import test_follow
from tests.integration.test_batch import batch
from tests.integration.test_follow import Follow, append, eventually, read
from tests.jsonl_oracle import objects

SIP_CASE = GOLDEN / "sip-invite-identities"
FAILING_CASE = GOLDEN / "sip-skip-tag-fail-closed"
tmp = test_follow.tmp  # the fixture: tmp/raw to follow


def identity_canaries() -> list[bytes]:
    return [line.encode() for line in (GOLDEN / "IDENTITY_CANARIES").read_text().splitlines() if line]


@pytest.mark.parametrize("case", [c for c in golden_cases() if any(x in (c / "input.log").read_bytes() for x in identity_canaries())],
                         ids=lambda path: path.name)  # fmt: skip
def test_identity_canaries_never_leak(case: Path) -> None:
    """No identity canary of a golden case reaches run's or jsonl's output or stderr under the case's rules."""
    planted = [c for c in identity_canaries() if c in (case / "input.log").read_bytes()]
    for args in ((), ("--format", "jsonl", "--all-lines")):
        result = run_logfilter("run", "-c", "filter.ini", *args, "--stats", "input.log", cwd=case)
        assert result.returncode == 0, result.stderr
        for canary in planted:
            assert canary not in result.stdout and canary.decode() not in result.stderr, (args, canary)


def test_identity_canaries_are_planted() -> None:
    """Every identity canary is in some golden input, so the test above is not empty."""
    inputs = b"".join((case / "input.log").read_bytes() for case in golden_cases())
    assert [c for c in identity_canaries() if c not in inputs] == []


def test_hash_is_one_token_in_userdata_attribute_and_sip() -> None:
    """The hash of +14155550123 is the same `h:` text as a UserData value, as AttributeANI (C and PSDK) and in SIP."""
    case = GOLDEN / "hash-userdata-attribute-sip"
    out = run_logfilter("run", "-c", "filter.ini", "input.log", cwd=case).stdout.decode()
    user_data = re.findall(r"'ANI'\s+(?:\[str\] = )?['\"](h:[0-9a-f]+)['\"]", out)
    attribute = re.findall(r"AttributeANI\s+(?:\[str\] = )?['\"](h:[0-9a-f]+)['\"]", out)
    sip = re.findall(r"<(?:sip|tel):(h:[0-9a-f]+)[@>]", out)
    assert len(user_data) == len(attribute) == len(sip) == 2
    assert len(set(user_data + attribute + sip)) == 1
    names = re.findall(r"(?:CallerName'\s+'|From: \")(h:[0-9a-f]+)", out)
    assert len(names) == 2 and names[0] == names[1]  # a display name hashes as the same name in UserData


def test_without_identity_rules_sip_and_attribute_lines_stay_as_they_are() -> None:
    """Under the vendor's sections alone, the samples' SIP messages and attribute lines come out byte for byte."""
    for sample in ("tserver.log", "sipserver-crlf.log", "workspace-psdk.log"):
        data = (SAMPLES / sample).read_bytes()
        out = run_logfilter("run", "-c", SAMPLES / "filter.ini", SAMPLES / sample).stdout
        for line in data.splitlines(keepends=True):
            if line.startswith((b"From:", b"To:", b"Contact:", b"INVITE ", b"INFO ")) or b"AttributeANI" in line:
                assert line in out, line


@pytest.mark.parametrize(("text", "message"), [
    ("[log-filter-attributes]\nAttributeUserData=hide\n",
     "f.ini:2: [log-filter-attributes] AttributeUserData: a KV attribute; its pairs are filtered by [log-filter] and [log-filter-data]"),
    ("[log-filter-attributes]\n\nAttributeReasons=hide\n", "f.ini:3: [log-filter-attributes] AttributeReasons: a KV attribute"),
    ("[log-filter-attributes]\nANI=hide\n", "f.ini:2: [log-filter-attributes] ANI: expected a T-Library attribute name, such as AttributeANI"),
    ("[log-filter-attributes]\nAttributeAni=hide\n", "f.ini:2: [log-filter-attributes] AttributeAni: did you mean AttributeANI? (attribute names are exact)"),
    ("[log-filter-attributes]\nAttributeANI=hidden\n", "f.ini:2: [log-filter-attributes] AttributeANI: unknown filter type"),
    ("[log-filter-sip]\nP-Asserted-Identiy=hide\n", "f.ini:2: [log-filter-sip] P-Asserted-Identiy: did you mean P-Asserted-Identity?"),
    ("[log-filter-sip]\nForm=hide\n", "f.ini:2: [log-filter-sip] Form: did you mean From?"),
    ("[log-filter-sip]\nCall-ID=hash\n", "f.ini:2: [log-filter-sip] Call-ID: carries no identity"),
    ("[log-filter-sip]\nFrom=hide\nf=skip\n", "f.ini:3: [log-filter-sip] f: the same header as From (f.ini:2)"),
    ("[log-filter-sip]\nTO=hide\nto=hide\n", "f.ini:3: [log-filter-sip] to: the same header as To (f.ini:2)"),
    ("[log-filter-sip]\nFrom: hide\n", "f.ini:2: [log-filter-sip]: expected OPTION=VALUE"),
    ("[log-filter-sipp]\nFrom=hide\n", "f.ini:1: unknown section [log-filter-sipp]; did you mean [log-filter-sip]?"),
    ("[log-filter-sip]\nFrom=hash\n", "a hash filter type needs a key"),
])  # fmt: skip
def test_configuration_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    """Each mistake in the two sections is refused (exit 2) in one line that names file:line, before any input is read."""
    (tmp_path / "f.ini").write_text(text)
    result = run_logfilter("run", "-c", "f.ini", "-", stdin=b"x\n", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.startswith("error: ") and message in result.stderr and result.stderr.count("\n") == 1


def test_stats_count_by_attribute_and_header(tmp_path: Path) -> None:
    """--stats and the batch report count each listed attribute and header as a key: AttributeANI, sip:From."""
    summary = run_logfilter("run", "-c", "filter.ini", "--stats", "input.log", cwd=SIP_CASE).stderr
    assert summary.endswith("masked, 0 tagged, 0 skipped, 0 lines failed closed\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.log").write_bytes((SIP_CASE / "input.log").read_bytes())
    code, stderr, report = batch("-c", SIP_CASE / "filter.ini", "in", "-o", "out", cwd=tmp_path)
    assert code == 0, stderr
    assert (tmp_path / "out/in/a.log").read_bytes() == (SIP_CASE / "expected.log").read_bytes()
    assert report["totals"]["changed_by_key"] == {
        "AttributeANI": {"unhide-last,4": 1}, "PASSWORD": {"hide": 1}, "sip:Contact": {"unhide-last,4": 1},
        "sip:From": {"unhide-last,4": 4}, "sip:P-Asserted-Identity": {"hide": 2}, "sip:Request-URI": {"unhide-last,4": 1},
        "sip:To": {"unhide-last,4": 2},
    }  # fmt: skip
    assert report["config"]["log-filter-sip"]["P-Asserted-Identity"] == "hide"
    assert report["config"]["log-filter-attributes"] == {"AttributeANI": "unhide-last,4"}


def test_batch_redoes_outputs_when_an_identity_rule_changes(tmp_path: Path) -> None:
    """An output made before a SIP rule was added is not up to date: the next batch masks the header."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.log").write_bytes((SIP_CASE / "input.log").read_bytes())
    (tmp_path / "f.ini").write_text("[log-filter-data]\nPASSWORD=hide\n")
    assert batch("-c", "f.ini", "in", "-o", "out", cwd=tmp_path)[0] == 0
    assert b"Ada Quillfeather" in (tmp_path / "out/in/a.log").read_bytes()
    (tmp_path / "f.ini").write_text("[log-filter-data]\nPASSWORD=hide\n[log-filter-sip]\nFrom=hide\nP-Asserted-Identity=hide\n")
    assert batch("-c", "f.ini", "in", "-o", "out", cwd=tmp_path)[0] == 0
    assert b"Ada Quillfeather" not in (tmp_path / "out/in/a.log").read_bytes()


def test_on_error_fail_stops_at_an_unreadable_header() -> None:
    """--on-error fail stops (exit 3) at the first listed line that cannot be read, named by file:line, the lines before written."""
    result = run_logfilter("run", "-c", "filter.ini", "--on-error", "fail", "input.log", cwd=FAILING_CASE)
    assert result.returncode == 3
    assert result.stderr == "error: input.log:8: unparsable SIP To header (folded); stopped (--on-error fail)\n"
    assert result.stdout == b"".join((FAILING_CASE / "expected.log").read_bytes().splitlines(keepends=True)[:5])


def test_scan_finds_identities_in_clear_and_none_in_run_output(tmp_path: Path) -> None:
    """scan reports each identity a rule would mask that is in clear, by key and line; run's output scans clean."""
    report = tmp_path / "scan.json"
    raw = run_logfilter("scan", "-c", "filter.ini", "--detect", "none", "--report", report, "input.log", cwd=SIP_CASE)
    assert raw.returncode == 1
    lines = raw.stdout.decode().splitlines()
    assert lines[:3] == [
        "input.log:7: rule unhide-last,4: key 'sip:Request-URI' in a SIP message: ****",
        "input.log:10: rule unhide-last,4: key 'sip:From' in a SIP message: ****",
        "input.log:10: rule unhide-last,4: key 'sip:From' in a SIP message: ****",
    ]
    assert "input.log:40: rule unhide-last,4: key 'AttributeANI' in an attribute line: ****" in lines
    totals = json.loads(report.read_bytes())["totals"]
    assert totals["by_key"]["sip:P-Asserted-Identity"] == {"rule": 2} and totals["findings"] == len(lines)
    assert b"Quillfeather" not in raw.stdout + report.read_bytes()
    clean = run_logfilter("scan", "-c", "filter.ini", "--detect", "none", "expected.log", cwd=SIP_CASE)
    assert (clean.returncode, clean.stdout) == (0, b"")
    failing = run_logfilter("scan", "-c", "filter.ini", "--detect", "none", "expected.log", cwd=FAILING_CASE)
    assert b"unparsable" not in failing.stdout  # what run failed closed is not unreadable again
    broken = run_logfilter("scan", "-c", "filter.ini", "--detect", "none", "input.log", cwd=FAILING_CASE)
    assert "input.log:9: unparsable: key 'sip:P-Asserted-Identity' in a SIP message: cannot read this line" in broken.stdout.decode()


def test_jsonl_attributes_and_sip_messages() -> None:
    """jsonl files listed attributes as run writes them and each SIP message as a schema-valid object of its own."""
    result = run_logfilter("run", "-c", "filter.ini", "--format", "jsonl", "input.log", cwd=SIP_CASE)
    items = objects(result.stdout)
    invite, trying, ringing = items
    assert invite == {
        "file": "input.log", "line": 6, "time": "13:54:59.884", "failed_closed": 0,
        "sip": {
            "introducer": "13:54:59.884: Received [0,UDP] 812 bytes from 10.0.0.5:5060 <<<<<",
            "start": "INVITE sip:********0177@sipsrv01.example.com:5060;user=phone SIP/2.0",
            "headers": {
                "Via": "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-7f3a-0001", "Max-Forwards": "70",
                "From": '"************ther" <sip:********0177@10.0.0.5>;tag=gw-11a2', "To": "<sip:8410@sipsrv01.example.com>",
                "P-Asserted-Identity": '"****" <tel:****;phone-context=+1>', "Call-ID": "8c1f2a90-0001@10.0.0.5",
                "CSeq": "1 INVITE", "Contact": "<sip:********0177@10.0.0.5:5060;transport=udp>",
                "X-Genesys-CallUUID": "3V8I1BM8CH7U5AKB01LIANOEUS00000K", "Content-Type": "application/sdp",
                "Content-Length": "151",
            },
        },
    }  # fmt: skip
    assert trying["sip"]["start"] == "SIP/2.0 100 Trying" and trying["line"] == 29
    assert ringing["attributes"] == {"AttributeThisDN": "8410", "AttributeANI": "********0177"}
    failing = objects(run_logfilter("run", "-c", "filter.ini", "--format", "jsonl", "input.log", cwd=FAILING_CASE).stdout)
    first = failing[0]
    assert first["failed_closed"] == 3 and "Remote-Party-ID" not in first["sip"]["headers"]
    assert first["sip"]["headers"]["To"] == "<sip:****@10.0.0.10>,"  # its folded line failed closed: left out
    assert failing[1]["failed_closed"] == 1 and failing[1]["sip"]["start"] is None


def test_keys_and_preview_show_them(tmp_path: Path) -> None:
    """keys lists each named attribute and header under its section; --preview shows their lines before and after."""
    table = run_logfilter("keys", "-c", "filter.ini", "input.log", cwd=SIP_CASE).stdout.decode()
    rows = {tuple(line.split()[:3]) for line in table.splitlines()}
    assert {("[log-filter-sip]", "From", "4"), ("[log-filter-sip]", "Request-URI", "1"),
            ("[log-filter-attributes]", "AttributeANI", "1")} <= rows  # fmt: skip
    assert "Quillfeather" not in table
    code, text = on_a_terminal("run", "-c", "filter.ini", "--preview", "--preview-count", "1", "input.log", cwd=SIP_CASE)
    assert code == 0
    assert text.splitlines()[:4] == [
        "input.log:7:", "  [log-filter-sip]",
        "- INVITE sip:+16505550177@sipsrv01.example.com:5060;user=phone SIP/2.0",
        "+ INVITE sip:********0177@sipsrv01.example.com:5060;user=phone SIP/2.0",
    ]  # fmt: skip


def test_follow_masks_a_sip_message_written_in_parts_and_resumed(tmp: Path) -> None:
    """A SIP message cut inside its headers, with a pause and a restart there, comes out as run writes it: the
    checkpoint is never inside it, so the restarted follower reads its later headers as headers."""
    config = tmp / "f.ini"
    config.write_bytes((SIP_CASE / "filter.ini").read_bytes())
    data = (SIP_CASE / "input.log").read_bytes()
    cut = data.index(b"P-Asserted-Identity")
    log = tmp / "raw/a.log"
    log.write_bytes(data[:cut])
    follow = Follow(tmp, "-c", str(config))
    eventually(lambda: b"From: " in read(tmp / "clean/a.log"), what="the headers before the cut")
    time.sleep(0.7)  # longer than the hold: the lines before the cut have gone out
    assert follow.stop() == 0
    again = Follow(tmp, "-c", str(config))
    append(log, data[cut:])
    expected = (SIP_CASE / "expected.log").read_bytes()
    eventually(lambda: read(tmp / "clean/a.log") == expected, what="the whole output")
    assert again.stop() == 0
