"""The key inventory (`logfilter keys`): every key of the KV blocks, where it sits, its values' shape, its rule.

Logs are read by the one loop and the compiled scanner, which tells a KeysHandler every list
and leaf it reads and hands it the other lines through its Walker, so nesting paths and rule
inheritance (a rule on a list key covers everything in it) are those of masking. A value's shape is counts, lengths, character classes and kinds; never a
value, never a prefix of one. Inputs are read as scan reads them (audit/inputs.py). With
[log-filter-attributes] / [log-filter-sip] rules, each attribute and header they name is a
key too, under `[log-filter-attributes]` or `[log-filter-sip]`, its identities its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from logfilter.audit.inputs import InputResult, Inputs, collect
from logfilter.engines.blocks import Block, Frame, inherited_from
from logfilter.engines.handler import Handler
from logfilter.identity.reader import Found
from logfilter.names import printable
from logfilter.parsing.model import KVLine, Pair
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.rules.identity_rules import ATTRIBUTES_SECTION, SIP_SECTION
from logfilter.rules.unmatched import Unmatched
from logfilter.sources.files import StreamSource
from logfilter.stats import Stats

CLASSES = ("digits", "letters", "space", "other")
_ENCODING = ("utf-8", "surrogateescape")


# Nesting paths keep this many list keys (as jsonl nests 32): deeper pairs count under the
# 32-key path, so lists nested thousands deep cost no more than a path each.
MAX_PATH = 32


@dataclass(slots=True)
class KeyShape:
    """What is known of one key at one place: how often, which kinds, lengths and character classes."""

    attribute: str
    path: tuple[str, ...]
    key: str
    filter_type: str
    why: str
    count: int = 0
    kinds: set[str] = field(default_factory=set)
    shortest: int | None = None
    longest: int | None = None
    classes: set[str] = field(default_factory=set)

    def add(self, kind: str, text: str | None) -> None:
        """Count one occurrence; `text` is the value text (inside the quotes), None for lists and hidden values."""
        self.count += 1
        self.kinds.add(kind)
        if text is None:
            return
        size = len(text)
        self.shortest = size if self.shortest is None else min(self.shortest, size)
        self.longest = size if self.longest is None else max(self.longest, size)
        self.classes.update(_classes(text))

    def as_dict(self) -> dict[str, object]:
        return {
            "attribute": self.attribute,
            "path": [_json_text(key) for key in self.path],
            "key": _json_text(self.key),
            "count": self.count,
            "kinds": sorted(self.kinds),
            "length": None if self.shortest is None else {"min": self.shortest, "max": self.longest},
            "chars": [name for name in CLASSES if name in self.classes],
            "filter_type": self.filter_type,
            "why": self.why,
        }


def _classes(text: str) -> set[str]:
    found = set()
    for char in text:
        found.add("digits" if char.isdigit() else "letters" if char.isalpha() else "space" if char.isspace() else "other")
        if len(found) == len(CLASSES):
            break
    return found


Shapes = dict[tuple[str, tuple[str, ...], str], KeyShape]


class KeysHandler(Handler):
    """Records every key of the walk, lists and leaves, where it sits and which rule applies, instead of writing.

    The compiled scanner reads most KV lines itself and tells `seen_list` and `seen_leaf` what
    `list_opened`, `list_skipped` and `leaf` would find (engines/registry.collecting); the lines it
    hands over come through those, from its Walker.
    """

    reads_free_lines = False  # keys live in blocks only
    inventory = True  # the scanner tells it every pair it reads (seen_list, seen_leaf)

    def __init__(self, rules: Rules, shapes: Shapes) -> None:
        self._rules = rules
        self._shapes = shapes
        self.unparsable = 0

    def failed(self, lineno: int, attribute: str) -> None:
        self.unparsable += 1

    def list_opened(self, pair: Pair, frame: Frame, block: Block) -> None:
        self._list(pair, frame.inherited, block.frames[:-1], block)

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        self._list(pair, rule, block.frames, block)  # what the list holds is dropped unread

    def _list(self, pair: Pair, rule: FilterType | None, outer: list[Frame], block: Block) -> None:
        """A list key under `rule`, in the lists `outer` (the innermost last)."""
        carried = (inherited_from(outer) or "") if outer and outer[-1].inherited is not None else None
        own = self._rules.rule_for(pair.key) is not None
        self.seen_list(block.attribute, tuple(frame.key for frame in outer), pair.key, rule, carried, own)

    def seen_list(
        self, attribute: str, path: tuple[str, ...], key: str, rule: FilterType | None, carried: str | None, own: bool
    ) -> None:
        """A list `key` inside the lists `path`, carrying `rule`; `carried`: the list whose rule the
        list around it carries (None: it carries none); `own`: whether a rule names the key."""
        if carried is not None:
            why = f"list {_text(carried)}"
        else:
            why = "rule" if own else "each key by its own rule"
        self._shape(attribute, path[:MAX_PATH], key, rule.text if rule is not None else "-", why).add("list", None)

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        value = pair.value
        if kv.suppressed or value is None:
            kind, text = "suppressed", None
        elif value.kind == "str":
            kind, text = "str", value.raw[1:-1]
        elif value.kind == "int":
            kind, text = "int", value.raw
        else:
            kind, text = "bin", None
        carried = (block.inherited_from or "") if block.inherited is not None else None
        own = self._rules.rule_for(pair.key) is not None
        watched = treatment.watched(self._rules, chosen, kv.suppressed)
        self.seen_leaf(block.attribute, tuple(frame.key for frame in block.frames), pair.key, chosen, carried, own,
                       watched, kind, text)  # fmt: skip
        return None

    def seen_leaf(
        self, attribute: str, path: tuple[str, ...], key: str, chosen: FilterType, carried: str | None, own: bool,
        watched: bool, kind: str, text: str | None,
    ) -> None:
        """A leaf `key` inside the lists `path`, under the rule `chosen`: a list's (`carried`, the
        list it comes from), its own (`own`) or the default; `watched`: the detectors look at its
        value. `kind`: str, int, bin or suppressed; `text`: the value (inside a string's quotes)."""
        if carried is not None:
            why = f"list {_text(carried)}"
        elif own:
            why = "rule"
        else:
            why = "default"
        if watched:
            detectors = self._rules.detectors
            why += f"; detect {','.join(detectors.names)} -> {self._rules.detect_rule.text}"  # type: ignore[union-attr]
        self._shape(attribute, path[:MAX_PATH], key, chosen.text, why).add(kind, text)

    def identity_line(self, found: Found, lineno: int) -> bytes | None:
        """An attribute or SIP line an identity rule names: its identities are the values of that key."""
        rule = found.rule
        if found.failed is not None:
            self.unparsable += 1
        if rule is None or found.failed is not None or found.kind not in ("attribute", "start", "header"):
            return found.body
        section = ATTRIBUTES_SECTION if found.kind == "attribute" else SIP_SECTION
        where = (f"[{section}]", (), found.label.removeprefix("sip:"))
        shape = self._shapes.get(where)
        if shape is None:
            shape = self._shapes[where] = KeyShape(*where, rule.text, "rule")
        if rule.action == "skip":
            shape.add("line", None)
        for span in found.spans:
            text = found.body[span.start : span.end].decode(*_ENCODING)
            kind = span.kind if span.kind != "value" else "str" if span.quoted and text[:1] in "'\"" else "int"
            shape.add(kind, text[1:-1] if kind == "str" or span.quoted else text)
        return found.body

    def emit(self, out: bytes) -> bytes:
        return b""  # keys writes no log

    def _shape(self, attribute: str, path: tuple[str, ...], key: str, filter_type: str, why: str) -> KeyShape:
        shape = self._shapes.get((attribute, path, key))
        if shape is None:
            shape = self._shapes[attribute, path, key] = KeyShape(attribute, path, key, filter_type, why)
        return shape


class KeyInventory:
    """Reads inputs as scan does (files, folders, archives, stdin) and collects the shapes of their keys."""

    def __init__(self, rules: Rules, spool_dir: Path | None = None) -> None:
        self._rules = rules
        self.reader = Inputs(self._walk, spool_dir=spool_dir)
        self.shapes: Shapes = {}
        self.unparsable = 0

    def scan_stream(self, reader: BinaryIO, name: str) -> None:
        """Read one input (text, compressed or an archive)."""
        self.reader.stream(reader, name)

    @property
    def inputs(self) -> list[InputResult]:
        """Every input read, or not read, in order."""
        return self.reader.results

    def _walk(self, source: StreamSource, result: InputResult) -> None:
        handler = KeysHandler(self._rules, self.shapes)
        try:
            collect(source, self._rules, handler, result.stats)
        finally:
            self.unparsable += handler.unparsable

    def unmatched_rules(self) -> list[Unmatched]:
        """The rules that matched no key in the inputs read, with the keys each probably meant."""
        totals = Stats()
        for result in self.inputs:
            totals.add(result.stats)
        return totals.unmatched_rules(self._rules)

    def sorted_shapes(self) -> list[KeyShape]:
        """Attribute by attribute; what a list holds right after the list."""
        return [self.shapes[where] for where in sorted(self.shapes, key=lambda w: (w[0], (*w[1], w[2])))]

    def report(self, config: dict[str, object]) -> dict[str, object]:
        """The JSON inventory: settings, inputs, every key's shape; counts, never values."""
        return {
            "config": config,
            "inputs": [
                {"input": r.name, "status": r.status, **({"reason": r.reason} if r.reason else {}), "lines": r.stats.lines}
                for r in self.inputs
            ],
            "keys": [shape.as_dict() for shape in self.sorted_shapes()],
            "unmatched_rules": [rule.as_dict() for rule in self.unmatched_rules()],
            "unparsable_lines": self.unparsable,
        }

    def table(self) -> list[str]:
        """The inventory as text lines: a header and one aligned row per key."""
        rows = [("ATTRIBUTE", "KEY", "COUNT", "KIND", "LENGTH", "CHARS", "FILTER TYPE (WHY)")]
        for shape in self.sorted_shapes():
            length = "-" if shape.shortest is None else (
                str(shape.shortest) if shape.shortest == shape.longest else f"{shape.shortest}-{shape.longest}"
            )
            rows.append((
                shape.attribute, " > ".join(_text(key) for key in (*shape.path, shape.key)), str(shape.count),
                ",".join(sorted(shape.kinds)), length, ",".join(n for n in CLASSES if n in shape.classes) or "-",
                f"{shape.filter_type} ({shape.why})",
            ))  # fmt: skip
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        return [
            "  ".join(cell.rjust(w) if i == 2 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))) + "  " + row[-1]
            for row in rows
        ]


def _json_text(key: str) -> str:
    return key.encode(*_ENCODING).decode("utf-8", "backslashreplace")


def _text(key: str) -> str:
    """A key for the terminal: undecodable bytes and control characters escaped."""
    return printable(key.encode(*_ENCODING))
