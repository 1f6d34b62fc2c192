"""The compiled scanner: it is the one in use, it says so when it is missing, and its masks equal the walker's.

tests/unit/test_differential.py holds whole runs equal to the reference; here the pieces that
a silent fallback or a wrong character count would hide.
"""

from __future__ import annotations

import importlib.machinery
import io
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logfilter.audit.findings import Finding, ScanHandler
from logfilter.audit.keys import MAX_PATH, KeysHandler, Shapes
from logfilter.audit.preview import PreviewHandler
from logfilter.engines.handler import Handler
from logfilter.engines.registry import WalkChoice, collecting, compiled_scanner
from logfilter.engines.walker import Walker
from logfilter.errors import ConfigError, LogFilterError
from logfilter.pipeline import walk_input
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy
from logfilter.sinks.streams import NullSink
from logfilter.sources.files import StreamSource
from logfilter.sources.sniff import SNIFF_SIZE, sniff
from logfilter.stats import Stats
from tests.conftest import GOLDEN, ROOT, golden_cases, load_keyed_policy
from tests.strategies import log_text, policy_args
from tests.unit.test_differential import _benchmark_corpus, blocks_text, mask

PARTIALS = ("hide-first,3", "hide-last,3", "unhide-first,2", "unhide-last,4", "hide", "tag(<!--,-->)", "skip")


def _mask(data: bytes, default: str, engine: str) -> tuple:
    return mask(data, compile_policy(load_policy(None, default)), engine, 1 << 20)


class TestInUse:
    def test_the_extension_is_compiled_and_chosen(self) -> None:
        """The scanner imports as a compiled extension module here, and `run` walks with it."""
        scanner = compiled_scanner()
        assert scanner is not None, "logfilter.engines.scanner is not built: pip install -e . compiles it"
        module = sys.modules[scanner.__module__]
        assert module.__file__ is not None
        assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), module.__file__
        rules = compile_policy(load_policy(None, "hide"))
        assert type(WalkChoice().build("x", rules, Stats(), lambda *_: None)) is scanner

    def test_jsonl_is_written_by_the_compiled_handler(self) -> None:
        """`--format jsonl` walks with the scanner and its compiled JSON handler; with identity rules,
        with the Walker and JsonHandler (SIP objects are theirs)."""
        from logfilter.engines.json_messages import JsonMessages

        from logfilter.engines.walker import Walker

        module = sys.modules[JsonMessages.__module__]
        assert module.__file__ is not None and module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
        choice = WalkChoice(output_format="jsonl")
        walk = choice.build("x", compile_policy(load_policy(None, "hide")), Stats(), lambda *_: None)
        assert type(walk) is compiled_scanner()
        walk.feed(b"message EventX\n\tAttributeThisDN\t'9001'\n", 1, [])
        assert walk.flush(True).startswith(b'{"file":"x","line":1,')
        identity = compile_policy(load_policy(GOLDEN / "sip-compact-headers" / "filter.ini"))
        assert identity.identity
        walk = choice.build("x", identity, Stats(), lambda *_: None)
        assert type(walk) is Walker  # with JsonHandler: registry.py

    def test_a_missing_extension_is_said_once(self) -> None:
        """Without the extension, run masks alike with the Python walker and says so once on stderr."""
        program = (
            "import io, sys\n"
            "sys.modules['logfilter.engines.scanner'] = None  # as if it was never built\n"
            "from logfilter.pipeline import run\n"
            "from logfilter.rules.compiled import compile_policy\n"
            "from logfilter.rules.config import load_policy\n"
            "from logfilter.sinks.streams import StreamSink\n"
            "from logfilter.sources.files import FileSource\n"
            "from pathlib import Path\n"
            "rules = compile_policy(load_policy(None, 'hide'))\n"
            "for _ in range(2):\n"
            "    run([FileSource(Path('samples/tserver.log'))], rules, StreamSink(sys.stdout.buffer, '<stdout>'))\n"
        )
        done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr
        said = done.stderr.decode().splitlines()
        assert len(said) == 1 and "compiled scanner cannot be imported" in said[0] and "Python walker" in said[0]
        expected = _mask((ROOT / "samples" / "tserver.log").read_bytes(), "hide", "reference")[0]
        assert done.stdout == expected * 2


class TestBuild:
    def test_the_sdist_carries_the_pyx_and_every_package(self, tmp_path: Path) -> None:
        """A source distribution compiles the scanner from its .pyx (no generated C in it) and holds every package."""
        done = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path)], cwd=ROOT,
                              capture_output=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        (archive,) = tmp_path.glob("*.tar.gz")
        with tarfile.open(archive) as tar:
            names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
        assert {"setup.py", "pyproject.toml", "logfilter/engines/scanner.pyx", "logfilter/engines/json_messages.pyx",
                "logfilter/engines/json_messages.pxd", "grammars/tlib.lark"} <= names
        assert not any(name.endswith(".c") for name in names)
        packages = {init.relative_to(ROOT).as_posix() for init in (ROOT / "logfilter").rglob("__init__.py")}
        assert packages <= names


value_bytes = st.one_of(
    st.binary(max_size=24),
    st.text(max_size=12).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from([b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xe2\x82", b"\xed\xa0\x80", b"\xff",
                              b"\xc0\xaf", b"\xf4\x90\x80\x80", b"a", b"7", b"*"]), max_size=10).map(b"".join),
)  # fmt: skip


class TestMasks:
    @settings(max_examples=300, deadline=None)
    @given(value_bytes, st.sampled_from(PARTIALS), st.sampled_from([b"'", b""]))
    def test_counts_characters_as_the_walker_does(self, value: bytes, default: str, quote: bytes) -> None:
        """Any value bytes (undecodable ones count one character each) mask alike in C and in the walker."""
        value = value.translate(None, b"\n\r\x00'")  # no line end, no binary, no closing quote
        data = b"message EventRinging\n\tAttributeUserData\t[1] 00..\n\t\t'K'\t" + quote + value + quote + b"\n"
        assert _mask(data, default, "fast") == _mask(data, default, "reference")

    def test_an_outer_list_rule_wins_over_an_inner_lists_own(self) -> None:
        """`'CUSTOMER'(list) 'INNER'(list) 'NAME' ...` under CUSTOMER=hide, INNER=copy: the outer list's
        rule wins over every rule inside it, in C as in the walker (a sub-list's own copy rule would leak)."""
        data = (b"message EventRinging\n\tAttributeUserData\t[1] 00 02 00 00..\n"
                b"\t\t'CUSTOMER'(list) 'INNER'(list) 'NAME'\t'Jane Roe'\n\t\t\t\t'ACCOUNT'\t'4012888888881881'\n"
                b"\t\t'RTR'\t115\n")  # fmt: skip
        rules = compile_policy(load_policy(None, "copy", ("CUSTOMER=hide", "INNER=copy", "NAME=copy", "ACCOUNT=copy")))
        fast, reference = mask(data, rules, "fast", 1 << 20), mask(data, rules, "reference", 1 << 20)
        assert fast == reference
        assert b"Jane Roe" not in fast[0] and b"4012888888881881" not in fast[0]

    def test_a_nul_byte_is_the_walkers_to_judge(self) -> None:
        """A line holding a NUL (inside a block or outside one) masks as the walker says, in C as in Python."""
        for line in (b"\t\t'K'\t'ab\x00cd'\n", b"\t\t'K'\t\x00\n", b"free \x00 text\n"):
            data = b"message EventRinging\n\tAttributeUserData\t[1] 00..\n" + line + b"\t\t'P'\t'secret'\n"
            for default in ("hide", "copy"):
                assert _mask(data, default, "fast") == _mask(data, default, "reference")


# Lines a block may hold, for the doubtful-line property below: every kind the scanner reads in C
# (leaves, lists, a skipped list and its lines), doubtful lines (a column-0 line that is no event,
# an indented line that is no pair, an empty one, typographic quotes) and the lines that end a block.
BLOCK_LINES = [
    b"\t\t'PASSWORD'\t'Pw-1'\n", b"\t\t'K'\t'v'\n", b"\t\t'N'\t42\n", b"\t\t'CardNumber'\t'4111111111111111'\n",
    b"\t\t'CUSTOMER'(list) 'NAME'\t'Jane'\n", b"\t\t'L'(list)\n", b"\t\t\t'ACCOUNT'\t'4012888888881881'\n",
    b"\t\t'CUSTOMER'(list)\n", b"\t\t\t'K'\t'x'\n", b"at 5pm'\n", b"call me back\n", b"\n", b"\tgoes on\n",
    b"  more text\n", b"\xe2\x80\x98RTR\xe2\x80\x99 \xe2\x80\x98115\xe2\x80\x99\n", b"\tAttributeConnID\t0001\n",
    b"10:26:01.560 Trc 04541 Next event\n", b"\t\t'Notes'\t'said \n", b"\t\t'PASSWORD'\t'x'\r\r\n",
]
OPENERS = [b"\tAttributeUserData\t[561] 00 02 00 00..\n", b"\tAttributeUserData\t[561] 00 00 00 00..\n",
           b"\tAttributeUserData\n", b"\tAttributeExtensions\t[9] 00 05 00 00..\n"]
DOUBTFUL_POLICIES = [
    ("copy", ("PASSWORD=hide", "CUSTOMER=skip")),
    ("copy", ("CardNumber=unhide-last,4", "CUSTOMER=hide")),
    ("hide", ("K=copy", "N=copy")),
    ("copy", ()),
]


# Pieces of values a detector may catch: card numbers, SSNs, IBANs, e-mail addresses, phone
# numbers, and their near misses (glued to letters, one digit short, odd separators).
_CANDIDATES = st.sampled_from([
    b"4111111111111111", b"4111 1111 1111 1111", b"4111-1111-1111-1111", b"411111111111111", b"x4111111111111111",
    b"536-22-8726", b"536 22 8726", b"536-22-872", b"078-05-1120", b"DE89370400440532013000", b"DE89 3704 0044 0532 0130 00",
    b"de89370400440532013000", b"xDE89370400440532013000", b"GB82WEST12345698765432", b"a@b.co", b"@",
    b"+12025550143", b"+1 202 555 0143", b"+44 20 7946 0018", b"+0123456789", b"+1-202-555", b"12025550143",
])
_FILLER = st.binary(max_size=6).map(lambda piece: piece.translate(None, b"\n\r\x00'"))


class TestDetectorGate:
    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(_CANDIDATES, _FILLER, st.sampled_from([b" ", b"-", b"+", b"@"])), max_size=6),
           st.sampled_from(["all", "pan", "ssn", "iban", "email", "phone", "pan,phone"]))
    def test_the_c_gate_lets_through_every_value_a_detector_catches(self, pieces: list[bytes], detect: str) -> None:
        """The scanner asks the detectors only of values its gate lets through: it catches what the walker catches."""
        value = b"".join(pieces)
        data = b"message EventRinging\n\tAttributeUserData\t[1] 00..\n\t\t'K'\t'" + value + b"'\n"
        chain = compile_policy(load_keyed_policy(None, "copy", (), detect=detect))
        assert mask(data, chain, "fast", 1 << 20) == mask(data, chain, "reference", 1 << 20)

    def test_the_gates_bits_are_the_detectors(self) -> None:
        """The scanner tells Detectors.first which detectors its gates let through, by KINDS' bits."""
        from logfilter.engines import scanner
        from logfilter.rules.detect import KINDS

        assert scanner.GATES == {kind.name: 1 << at for at, kind in enumerate(KINDS)}

    def test_caught_in_c_as_in_the_walker(self) -> None:
        values = [b"4111111111111111", b"536-22-8726", b"DE89 3704 0044 0532 0130 00", b"a@b.co", b"+12025550143"]
        data = b"message EventRinging\n\tAttributeUserData\t[5] 00..\n" + b"".join(
            b"\t\t'K%d'\t'x %s y'\n" % (at, value) for at, value in enumerate(values))
        chain = compile_policy(load_keyed_policy(None, "copy", (), detect="all"))
        fast = mask(data, chain, "fast", 1 << 20)
        assert fast == mask(data, chain, "reference", 1 << 20)
        assert fast[1]["detected"] == len(values)


class TestDoubtfulLines:
    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(OPENERS), st.lists(st.sampled_from(BLOCK_LINES), max_size=8)), min_size=1, max_size=4),
           st.sampled_from(DOUBTFUL_POLICIES), st.sampled_from([1 << 20, 23, 5]))  # fmt: skip
    def test_a_doubtful_line_after_any_line_read_in_c_is_the_walkers(self, blocks: list, policy: tuple, chunk: int) -> None:
        """What the header counted, what the last line read in C held and where a block ends decide
        a doubtful line alike in C and in the reference walk, at any chunk size."""
        data = b"".join(b"message EventRinging\n" + opener + b"".join(lines) for opener, lines in blocks)
        default, keys = policy
        rules = compile_policy(load_keyed_policy(None, default, keys, False))
        assert mask(data, rules, "fast", chunk) == mask(data, rules, "reference", 1 << 20)


def _golden_lines(*cases: str) -> list[bytes]:
    return sorted({line for case in cases for line in (ROOT / "tests" / "golden" / case / "input.log").read_bytes().splitlines(keepends=True)})


IDENTITY_CASES = ("sip-invite-identities", "attribute-lines-both-prints", "sip-compact-headers", "sip-skip-tag-fail-closed")
IDENTITY_LINES = _golden_lines(*IDENTITY_CASES) + BLOCK_LINES + OPENERS


class TestIdentityLines:
    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from(IDENTITY_LINES), max_size=40), st.sampled_from(IDENTITY_CASES), st.sampled_from([1 << 20, 29, 3]))
    def test_identity_lines_are_the_walkers(self, lines: list[bytes], case: str, chunk: int) -> None:
        """Under identity rules, attribute lines and SIP messages among KV blocks mask alike in C and in the reference walk."""
        rules = compile_policy(load_policy(ROOT / "tests" / "golden" / case / "filter.ini"))
        data = b"".join(lines)
        assert mask(data, rules, "fast", chunk) == mask(data, rules, "reference", 1 << 20)


def _walk(data: bytes, rules: Rules, stats: Stats, handler: Handler, compiled: bool) -> None:
    """Walk `data` with a collecting handler: its compiled walk, or the Walker alone (the reference)."""
    walk = collecting(rules, stats, handler) if compiled else Walker(rules, stats, handler)
    assert isinstance(walk, compiled_scanner()) == compiled
    for _written in walk_input(StreamSource("in.log", io.BytesIO(data)), walk, NullSink(), stats):
        pass


def _agree(walked: Callable[[bytes, Rules, bool], object], data: bytes, rules: Rules) -> None:
    """The compiled walk gives what the Walker gives, or raises what it raises."""
    try:
        expected = walked(data, rules, False)
    except LogFilterError as exc:
        with pytest.raises(type(exc)):
            walked(data, rules, True)
        return
    assert walked(data, rules, True) == expected


def _generated_rules(policy: tuple, detect: str | None = None) -> Rules:
    """The rules of a generated policy (a clash that case-folding makes is not one to test)."""
    default, keys, ignore_case = policy
    try:
        return compile_policy(load_keyed_policy(None, default, keys, ignore_case, detect=detect or None))
    except ConfigError:
        assume(False)
        raise


def _case_rules(case: str, detect: str = "") -> Rules:
    """A golden case's rules (its own hash key, else the test key), with `detect`."""
    config = ROOT / "tests" / "golden" / case / "filter.ini"
    keyed = "hash-key-file" in config.read_text()
    return compile_policy((load_policy if keyed else load_keyed_policy)(config, detect=detect or None))


def _scan(data: bytes, rules: Rules, compiled: bool) -> tuple[list[dict[str, object]], int]:
    """scan's findings and lines read for `data`, walked by the compiled scanner or by the Walker alone."""
    found: list[Finding] = []
    handler = ScanHandler(rules, "in.log", found.append, everywhere=False)
    stats = Stats()
    _walk(data, rules, stats, handler, compiled)
    return [finding.as_dict() for finding in found], stats.lines, stats.pairs


def _keys(data: bytes, rules: Rules, compiled: bool) -> tuple[list[dict[str, object]], int, int, int]:
    """keys' shapes, unparsable lines, lines and pairs for `data`, walked by the compiled scanner
    (told every pair) or by the Walker alone."""
    shapes: Shapes = {}
    handler = KeysHandler(rules, shapes)
    stats = Stats()
    _walk(data, rules, stats, handler, compiled)
    return [shapes[where].as_dict() for where in sorted(shapes)], handler.unparsable, stats.lines, stats.pairs


def _preview(data: bytes, rules: Rules, compiled: bool) -> tuple[list[tuple[object, object]], dict[str, object]]:
    """--preview's KV lines (message number, before and after) and the counts, walked by the compiled
    scanner (telling it each line it reads) or by the Walker alone."""
    stats = Stats()
    handler = PreviewHandler(rules, stats)
    _walk(data, rules, stats, handler, compiled)
    return handler.seen, stats.as_dict()


class TestPreviewTold:
    """--preview's walk is the compiled scanner's, telling the PreviewHandler each KV line and its
    output: the same lines, in the same messages, as the Walker's."""

    @pytest.mark.parametrize("case", [path.name for path in golden_cases()])
    def test_golden_inputs(self, case: str) -> None:
        _agree(_preview, (ROOT / "tests" / "golden" / case / "input.log").read_bytes(), _case_rules(case))

    @pytest.mark.parametrize(("default", "keys"), [("copy", ("PASSWORD=hide", "CUSTOMER=skip", "RTR=hash")), ("hide", ())])
    def test_the_benchmark_corpus_and_samples(self, default: str, keys: tuple[str, ...]) -> None:
        data = _benchmark_corpus(200_000) + b"".join(path.read_bytes() for path in sorted((ROOT / "samples").glob("*.log")))
        rules = compile_policy(load_keyed_policy(None, default, keys))
        compiled = _preview(data, rules, True)
        assert compiled == _preview(data, rules, False)
        assert any(change.after != change.before for _message, change in compiled[0])
        assert (default == "copy") == any(change.after is None for _message, change in compiled[0])  # skip removes

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(log_text(), blocks_text()), policy_args())
    def test_generated_logs(self, data: bytes, policy: tuple) -> None:
        assume(sniff(data[:SNIFF_SIZE]) != "binary")
        _agree(_preview, data, _generated_rules(policy))


EXTRA_KEYS = [("copy", ("PASSWORD=hide", "CUSTOMER=skip", "RTR=hash")), ("hide", ("CUSTOMER=copy",)), ("tag", ())]


class TestKeysTold:
    """keys' walk is the compiled scanner's, telling the KeysHandler each pair: the same shapes as the Walker's."""

    @pytest.mark.parametrize("case", [path.name for path in golden_cases()])
    @pytest.mark.parametrize("detect", ["", "all"])
    def test_golden_inputs(self, case: str, detect: str) -> None:
        _agree(_keys, (ROOT / "tests" / "golden" / case / "input.log").read_bytes(), _case_rules(case, detect))

    @pytest.mark.parametrize(("default", "keys"), EXTRA_KEYS)
    def test_the_benchmark_corpus_and_samples(self, default: str, keys: tuple[str, ...]) -> None:
        data = _benchmark_corpus(300_000) + b"".join(path.read_bytes() for path in sorted((ROOT / "samples").glob("*.log")))
        rules = compile_policy(load_keyed_policy(None, default, keys, detect="all"))
        compiled = _keys(data, rules, True)
        assert compiled == _keys(data, rules, False)
        assert any(shape["path"] for shape in compiled[0])  # nested lists were read

    def test_lists_carry_their_rules_and_deep_paths_are_cut(self) -> None:
        """A rule on a list key (here under another list), a skipped list, lists deeper than MAX_PATH."""
        deep = b"".join(b"\t" * (2 + depth) + b"'L%d'(list)\n" % depth for depth in range(40))
        data = (b"message EventRinging\n\tAttributeUserData\t[3] 00..\n\t\t'A'(list)\n\t\t\t'N'(list)\n"
                b"\t\t\t\t'P'\t'x'\n\t\t\t\t'Q'\t12\n\t\t\t'S'(list)\n\t\t\t\t'R'\t'y'\n\t\t'Z'\t'z'\n"
                + deep + b"\t" * 42 + b"'K'\t'deep'\n")  # fmt: skip
        rules = compile_policy(load_keyed_policy(None, "copy", ("N=hide", "S=skip", "Q=hide"), detect="all"))
        compiled = _keys(data, rules, True)
        assert compiled == _keys(data, rules, False)
        whys = {(tuple(shape["path"]), shape["key"]): shape["why"] for shape in compiled[0]}
        assert whys[(("A", "N"), "P")].startswith("list N") and whys[(("A", "N"), "Q")].startswith("list N")
        assert whys[(("A",), "S")] == "rule" and whys[(("A",), "N")] == "rule"
        assert max(len(path) for path, _key in whys) == MAX_PATH

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(log_text(), blocks_text()), policy_args(), st.sampled_from(["", "all"]))
    def test_generated_logs(self, data: bytes, policy: tuple, detect: str) -> None:
        assume(sniff(data[:SNIFF_SIZE]) != "binary")
        _agree(_keys, data, _generated_rules(policy, detect))


class TestScanAttends:
    """scan's walk is the compiled scanner's, attending to the ScanHandler: same findings as the Walker's."""

    @pytest.mark.parametrize("case", [path.name for path in golden_cases()])
    @pytest.mark.parametrize("detect", ["", "all"])
    def test_golden_inputs(self, case: str, detect: str) -> None:
        for name in ("input.log", "expected.log"):  # and what run made of it: values in their masked form
            _agree(_scan, (ROOT / "tests" / "golden" / case / name).read_bytes(), _case_rules(case, detect))

    @pytest.mark.parametrize(("default", "keys"), [("copy", ("N=hide",)), ("hide", ("L=skip",)), ("copy", ())])
    @pytest.mark.parametrize("passed_over", [b"'****'", b"'****'  ", b"'<# abc'", b"'K'\t'<# abc #>'"])
    @pytest.mark.parametrize("detect", [None, "all"])
    def test_a_line_the_handler_passes_over_keeps_the_lists_open(
        self, default: str, keys: tuple[str, ...], passed_over: bytes, detect: str | None
    ) -> None:
        """A failed line's `'****'` or a line with a tag, at a list's column: the handler reads
        it untagged or not at all, so the walker's lists stay open, and the lines after it are
        read under the list's rule, in C as in the Walker (a review found them read without it)."""
        for opener in (b"'N'(list)", b"'L'(list)"):
            data = (b"message EventRinging\n\tAttributeUserData\t[3] 00..\n\t\t" + opener + b"\n\t\t\t'O'\t'****'\n"
                    b"\t\t" + passed_over + b"\n\t\t\t'P'\t'secret 4111111111111111'\n\t\t\t'K'\t'<# abc'\n")
            rules = compile_policy(load_keyed_policy(None, default, keys, detect=detect))
            assert _scan(data, rules, True) == _scan(data, rules, False), (opener, passed_over)

    def test_the_reviews_case_finds_the_value_under_the_lists_rule(self) -> None:
        data = (b"message EventRinging\n\tAttributeUserData\t[3] 00..\n\t\t'N'(list)\n\t\t\t'O'\t'****'\n"
                b"\t\t'****'\n\t\t\t'P'\t'secret'\n")
        rules = compile_policy(load_keyed_policy(None, "copy", ("N=hide",)))
        found, _lines, _pairs = _scan(data, rules, True)
        assert [(finding["line"], finding["key"], finding["rule"]) for finding in found] == [(6, "P", "hide")]

    @pytest.mark.parametrize("default", ["hide", "hide-first,3", "hide-last,2", "unhide-first,1", "unhide-last,4"])
    def test_masked_values_are_no_findings(self, default: str) -> None:
        """scan of run's output: every value in its masked form (masks are idempotent), C and PSDK."""
        data = _benchmark_corpus(100_000) + (ROOT / "samples" / "workspace-psdk.log").read_bytes()
        rules = compile_policy(load_keyed_policy(None, default, (), detect="all"))
        masked = mask(data, rules, "fast", 1 << 20)[0]
        assert b"****" in masked
        found = _scan(masked, rules, True)
        assert found == _scan(masked, rules, False)
        assert [finding for finding in found[0] if finding["detector"] == "rule"] == []

    def test_the_benchmark_corpus_finds_every_rule_and_detector_finding(self) -> None:
        data = _benchmark_corpus(300_000)
        keys = ("PASSWORD=hide", "PIN=hide", "CVV=hide", "DOB=hide", "NAME=hide", "ACCOUNT=unhide-last,4",
                "CardNumber=unhide-last,4", "SSN=unhide-last,4", "EMAIL=unhide-first,2")  # mask_full.ini's
        rules = compile_policy(load_keyed_policy(None, "copy", keys, detect="all"))
        compiled = _scan(data, rules, True)
        assert compiled == _scan(data, rules, False)
        kinds = {finding["detector"] for finding in compiled[0]}
        assert {"rule", "pan", "email"} <= kinds

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(log_text(), blocks_text()), policy_args(), st.sampled_from(["", "all", "pan,phone"]))
    def test_generated_logs(self, data: bytes, policy: tuple, detect: str) -> None:
        assume(sniff(data[:SNIFF_SIZE]) != "binary")
        _agree(_scan, data, _generated_rules(policy, detect))
