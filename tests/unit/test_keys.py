"""The key inventory: counts, paths, shapes and filter types, checked against logs generated with known keys."""

from __future__ import annotations

import io
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logfilter.audit.keys import KeyInventory
from logfilter.rules.compiled import compile_policy
from logfilter.rules.config import load_policy
from tests.strategies import FREE_LINES

LEAF_KEYS = ["PASSWORD", "PIN", "Note", "x y", "RTR"]
LIST_KEYS = ["CUSTOMER", "ADDRESS"]
# Value text with every character class; no quote characters, so the value is unambiguous.
_text = st.text(alphabet=st.sampled_from("ab9 \t.-é"), max_size=8)
_value = st.one_of(
    _text.map(lambda t: ("str", t)), st.integers(-(10**6), 10**6).map(lambda n: ("int", str(n))),
    st.just(("bin", "[8] 4a 42 37 01..")),
)  # fmt: skip


def _c_lines(draw: st.DrawFn, depth: int, path: tuple[str, ...], seen: Counter, shapes: dict) -> list[str]:
    """KV lines of one level (C layout), recording each key's count and value texts under its path."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        indent = "\t" * (depth + 2)
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            name = draw(st.sampled_from(LIST_KEYS))
            seen[(path, name, "list")] += 1
            inner = _c_lines(draw, depth + 1, (*path, name), seen, shapes)
            # The first sub-pair sits on the list key's line.
            lines.append(f"{indent}'{name}'(list) {inner[0].lstrip(chr(9))}")
            lines += inner[1:]
            continue
        name = draw(st.sampled_from(LEAF_KEYS))
        kind, text = draw(_value)
        seen[(path, name, kind)] += 1
        shapes.setdefault((path, name), []).append(text if kind != "bin" else None)
        shown = f"'{text}'" if kind == "str" else text
        lines.append(f"{indent}'{name}'\t{shown}")
    return lines


@st.composite
def c_log(draw: st.DrawFn) -> tuple[bytes, Counter, dict]:
    seen: Counter = Counter()
    shapes: dict = {}
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        lines += [draw(st.sampled_from(FREE_LINES[:3])), "\tAttributeUserData\t[561] 00 14 00 00.."]
        lines += _c_lines(draw, 0, (), seen, shapes)
        lines.append("\tAttributeConnID\t006c029a6685d004")
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return "".join(line + end for line in lines).encode(), seen, shapes


def inventory_of(data: bytes, *keys: str) -> KeyInventory:
    inventory = KeyInventory(compile_policy(load_policy(None, "copy", keys)))
    inventory.scan_stream(io.BytesIO(data), "<test>")
    return inventory


class TestCounts:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(c_log())
    def test_counts_paths_and_shapes_match_what_was_generated(self, generated: tuple[bytes, Counter, dict]) -> None:
        """Every key at every path is counted as often as it was written, with its kinds, lengths and classes."""
        data, seen, values = generated
        inventory = inventory_of(data)
        expected: Counter = Counter()
        for (path, key, _kind), count in seen.items():
            expected[(path, key)] += count
        assert {(s.path, s.key): s.count for s in inventory.shapes.values()} == dict(expected)
        assert all(s.attribute == "AttributeUserData" for s in inventory.shapes.values())
        for (path, key), texts in values.items():
            shape = inventory.shapes["AttributeUserData", path, key]
            assert shape.kinds == {kind for (p, k, kind) in seen if (p, k) == (path, key)}
            lengths = [len(text) for text in texts if text is not None]
            assert (shape.shortest, shape.longest) == ((min(lengths), max(lengths)) if lengths else (None, None))
            chars = "".join(text for text in texts if text is not None)
            assert ("digits" in shape.classes) == any(c.isdigit() for c in chars)
            assert ("space" in shape.classes) == any(c.isspace() for c in chars)
            assert ("letters" in shape.classes) == any(c.isalpha() for c in chars)

    @settings(max_examples=50, deadline=None)
    @given(c_log())
    def test_never_a_value(self, generated: tuple[bytes, Counter, dict]) -> None:
        """No value text of 3+ characters appears in the table or the JSON report."""
        data, _seen, values = generated
        inventory = inventory_of(data)
        out = "\n".join(inventory.table()) + repr(inventory.report({}))
        for texts in values.values():
            for text in texts:
                if text is not None and len(text.strip()) >= 3 and not text.strip().isdigit():
                    assert text not in out


LOG = (
    b"message EventRinging\n"
    b"\tAttributeUserData\t[561] 00 14 00 00..\n"
    b"\t\t'PIN'\t'1234'\n"
    b"\t\t'CUSTOMER'(list) 'NAME'\t'Jane Roe'\n"
    b"\t\t\t'PIN'\t4321\n"
    b"\t\t\t'ADDRESS'(list) 'CITY'\t'Springfield'\n"
    b"\t\t'GONE'(list) 'A'\t'a'\n"
    b"\t\t\t'B'\t'b'\n"
    b"\t\t'Note'\t''\n"
    b"\tAttributeConnID\t006c029a6685d004\n"
)


class TestFilterTypes:
    def test_why_each_filter_type_applies(self) -> None:
        """Own rule, inherited from a list key, default; a skipped list's content is not read."""
        inventory = inventory_of(LOG, "PIN=hide", "CUSTOMER=unhide-last,2", "GONE=skip")
        got = {(s.path, s.key): (s.filter_type, s.why, s.count) for s in inventory.shapes.values()}
        assert got == {
            ((), "PIN"): ("hide", "rule", 1),
            ((), "CUSTOMER"): ("unhide-last,2", "rule", 1),
            (("CUSTOMER",), "NAME"): ("unhide-last,2", "list CUSTOMER", 1),
            (("CUSTOMER",), "PIN"): ("unhide-last,2", "list CUSTOMER", 1),
            (("CUSTOMER",), "ADDRESS"): ("unhide-last,2", "list CUSTOMER", 1),
            (("CUSTOMER", "ADDRESS"), "CITY"): ("unhide-last,2", "list CUSTOMER", 1),
            ((), "GONE"): ("skip", "rule", 1),
            ((), "Note"): ("copy", "default", 1),
        }

    def test_list_without_rule_and_detector_net(self) -> None:
        """A list key without a rule says its keys go by their own rules; a detector net is named where it acts."""
        inventory = KeyInventory(compile_policy(load_policy(None, "copy", ["PIN=hide"], detect="pan")))
        inventory.scan_stream(io.BytesIO(LOG), "<test>")
        shapes = {(s.path, s.key): s for s in inventory.shapes.values()}
        assert (shapes[(), "CUSTOMER"].filter_type, shapes[(), "CUSTOMER"].why) == ("-", "each key by its own rule")
        assert shapes[("CUSTOMER",), "PIN"].why == "rule"
        assert shapes[("CUSTOMER",), "NAME"].why == "default; detect pan -> hide"
        assert shapes[(), "Note"].shortest == 0 and shapes[(), "Note"].classes == set()

    def test_psdk_and_suppressed(self) -> None:
        """PSDK blocks are read too; a value the PSDK already hid counts as `suppressed`, without a length."""
        data = (
            b"'RequestAttachUserData' ('30')\nmessage attributes:\nAttributeUserData [bstr] = KVList: \n"
            b"\t\t'Tries' [int] = 3\n\t\t'SSN' [output suppressed]\n\t\t'CUSTOMER' [list] = KVList: \n"
            b"\t\t\t'NAME' [str] = \"Jane Roe\"\nAttributeReferenceID [int] = 30\n"
        )
        rows = {(s.path, s.key): (sorted(s.kinds), s.shortest) for s in inventory_of(data).shapes.values()}
        assert rows == {
            ((), "Tries"): (["int"], 1), ((), "SSN"): (["suppressed"], None),
            ((), "CUSTOMER"): (["list"], None), (("CUSTOMER",), "NAME"): (["str"], 8),
        }  # fmt: skip

    def test_control_characters_in_keys_are_escaped_in_the_table(self) -> None:
        """A key with an escape character cannot drive the terminal."""
        data = b"message X\n\tAttributeUserData\t[1] 00..\n\t\t'a\x1bb'\t'v'\n"
        table = "\n".join(inventory_of(data).table())
        assert "\x1b" not in table and "a\\x1bb" in table
