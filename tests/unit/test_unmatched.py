"""Issue 20, item 1: rules that match nothing are found, with the keys they probably meant, on every path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from logfilter.pipeline import run
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from logfilter.rules.unmatched import MAX_KEYS_SEEN, SAMPLE_BYTES
from logfilter.sinks.streams import StreamSink
from logfilter.stats import Stats
from tests.conftest import SAMPLES

OPEN = b"\tAttributeUserData\t[561] 00 14 00 00..\n"


def message(*pairs: bytes) -> bytes:
    return b"message RequestAttachUserData\n" + OPEN + b"".join(b"\t\t" + pair + b"\n" for pair in pairs) + b"\tAttributeConnID\t006c\n"


LOG = message(b"'PASSWORD'\t'Pw-1'", b"'CardNumber'\t'4111111111111111'", b"'CUSTOMER'(list) 'NAME'\t'Jane'",
              b"\t'ZIP'\t'12345'", b"'RECORD_ID'\t'7'")  # fmt: skip


def unmatched(log: bytes, *keys: str, engine: str = "fast", default: str = "copy", ignore_case: bool = False, chunk: int = 1 << 20) -> list[tuple[str, tuple[str, ...]]]:
    rules = compile_policy(load_policy(None, default, keys, ignore_case))
    stats = run([_Chunks(log, chunk)], rules, StreamSink(io.BytesIO(), "<memory>"), engine=engine)  # type: ignore[arg-type]
    return [(rule.key, rule.likely) for rule in stats.unmatched_rules(rules)]


class _Chunks:
    def __init__(self, data: bytes, size: int) -> None:
        self.name, self._data, self._size = "<test>", data, size

    def chunks(self):  # type: ignore[no-untyped-def]
        for start in range(0, len(self._data), self._size):
            yield self._data[start : start + self._size]


# (rules, what matched nothing and what it probably meant)
CASES = [
    (("Password=hide",), [("Password", ("PASSWORD",))]),  # the same key in another case
    (("PASSWORD=hide", "CardNumbr=unhide-last,4"), [("CardNumbr", ("CardNumber",))]),  # one letter left out
    (("PASWORD=hide",), [("PASWORD", ("PASSWORD",))]),
    (("CardNubmer=hide",), [("CardNubmer", ("CardNumber",))]),  # two letters swapped
    (("SSN=hide", "PASSWORD=hide"), [("SSN", ())]),  # nothing near it
    (("RECORD_ID=", "CUSTOMER=hide", "ZIP=hide", "NAME=hide"), []),  # a copy rule, a list key, keys inside a list
    (("Customer=skip",), [("Customer", ("CUSTOMER",))]),
    (("password=hide", "Password=hide"), [("password", ("PASSWORD",)), ("Password", ("PASSWORD",))]),
]


class TestWhichRules:
    @pytest.mark.parametrize(("keys", "expected"), CASES, ids=lambda value: str(value))
    @pytest.mark.parametrize("engine", ["fast", "reference"])
    @pytest.mark.parametrize("default", ["copy", "hide"])
    def test_rules_that_match_nothing(self, keys: tuple[str, ...], expected: list, engine: str, default: str) -> None:
        """Each rule that met no key is named with the keys met it probably meant, by both engines, under any default."""
        assert unmatched(LOG, *keys, engine=engine, default=default) == expected

    def test_keys_stay_case_sensitive(self) -> None:
        """Password=hide masks nothing in a log that says PASSWORD: reported, not guessed at."""
        rules = compile_policy(load_policy(None, "copy", ["Password=hide"]))
        out = io.BytesIO()
        run([_Chunks(LOG, 1 << 20)], rules, StreamSink(out, "<memory>"))
        assert b"Pw-1" in out.getvalue()

    def test_ignoring_case_it_matches(self) -> None:
        """Under --ignore-key-case a rule in another case matches (fast and reference)."""
        for engine in ("fast", "reference"):
            assert unmatched(LOG, "password=hide", "Zip=hide", "Nope=hide", engine=engine, ignore_case=True) == [("Nope", ())]

    def test_no_pair_read_no_report(self) -> None:
        """An input without KV pairs says nothing about the rules: none could have matched."""
        assert unmatched(b"free text only\n", "PASSWORD=hide") == []

    def test_across_inputs_and_chunks(self) -> None:
        """A rule met in any input of the run, or in any chunk, matched; chunk sizes change nothing."""
        log = LOG * 50 + message(b"'LATE'\t'x'")
        for chunk in (7, 61, 4096, 1 << 20):
            assert unmatched(log, "LATE=hide", "Late=hide", chunk=chunk) == [("Late", ("LATE",))]

    def test_the_samples_under_their_rules(self) -> None:
        """samples/filter.ini matches a key in every sample log read together."""
        rules = compile_policy(load_policy(SAMPLES / "filter.ini"))
        stats = Stats()
        for path in sorted(SAMPLES.glob("*.log")):
            run([_Chunks(path.read_bytes(), 1 << 20)], rules, StreamSink(io.BytesIO(), "<memory>"), stats=stats)
        assert stats.unmatched_rules(rules) == []


class TestBounds:
    def test_many_distinct_keys(self) -> None:
        """Past MAX_KEYS_SEEN distinct keys no more are kept, but a rule met after them still matched."""
        many = [message(*(b"'K%d'\t'v'" % (n * 10 + i) for i in range(10))) for n in range(MAX_KEYS_SEEN // 10 + 50)]
        log = b"".join(many) + message(b"'PASSWORD'\t'x'")
        for engine in ("fast", "reference"):
            rules = compile_policy(load_policy(None, "copy", ["PASSWORD=hide", "Nope=hide"]))
            stats = run([_Chunks(log, 1 << 20)], rules, StreamSink(io.BytesIO(), "<memory>"), engine=engine)  # type: ignore[arg-type]
            assert len(stats.keys_seen) <= MAX_KEYS_SEEN + 10 and stats.rules_met == {"PASSWORD"}

    def test_suggestions_after_the_sampled_start(self) -> None:
        """Past the first SAMPLE_BYTES rules still match exactly, and the same key in another case is
        still suggested however rare; a key one edit away may only be sampled (one chunk in SAMPLE_EVERY)."""
        filler = message(b"'ANI'\t'555'", b"'DNIS'\t'8410'") * (SAMPLE_BYTES // 60)
        log = filler + message(b"'PASSWORD'\t'x'") * 3
        for chunk in (1 << 16, 1 << 20):
            assert unmatched(log, "PASSWORD=hide", "ANI=copy", chunk=chunk) == []
            found = unmatched(log, "Password=hide", "PASSWROD=hide", chunk=chunk)
            assert found[0] == ("Password", ("PASSWORD",)) and [rule for rule, _ in found] == ["Password", "PASSWROD"]

    def test_stats_add_merges(self) -> None:
        """Summed counts (batch, follow) keep every rule met and a bounded set of keys."""
        one, two = Stats(pairs=1, rules_met={"A"}, keys_seen={b"'A'"}), Stats(pairs=1, rules_met={"B"}, keys_seen={b"'B'"})
        one.add(two)
        assert (one.rules_met, one.keys_seen, one.pairs) == ({"A", "B"}, {b"'A'", b"'B'"}, 2)
        big = Stats(keys_seen={b"'%d'" % n for n in range(MAX_KEYS_SEEN)})
        big.add(two)
        assert len(big.keys_seen) == MAX_KEYS_SEEN and big.rules_met == {"B"}


class TestMessages:
    def test_message_and_report(self, tmp_path: Path) -> None:
        """The message names where the rule is written, the rule and the keys it probably meant; the report entry too."""
        ini = tmp_path / "filter.ini"
        ini.write_text("[log-filter]\ndefault-filter-type=copy\n[log-filter-data]\nPassword=hide\n")
        rules = compile_policy(load_policy(ini))
        stats = run([_Chunks(LOG, 1 << 20)], rules, StreamSink(io.BytesIO(), "<memory>"))
        (rule,) = stats.unmatched_rules(rules)
        assert rule.message() == (
            f"{ini}:4: the rule Password=hide matched no key in the logs read; did you mean PASSWORD? "
            "(keys match case and spelling exactly)"
        )
        assert rule.as_dict() == {"key": "Password", "filter_type": "hide", "origin": f"{ini}:4", "likely": ["PASSWORD"]}
