"""The key inventory (`logfilter keys`): every key of the KV blocks, where it sits, its values' shape, its rule.

Logs are read with the engines' block logic (LineEngine, regex_parser.py's parser), so nesting
paths and rule inheritance (a rule on a list key covers everything in it) are those of
masking. A value's shape is counts, lengths, character classes and kinds; never a value,
never a prefix of one. Inputs are walked as scan walks them (files, folders, archives).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from logfilter.audit.scan import InputResult, Scanner
from logfilter.engines.walker import IN_CLEAR, LineEngine
from logfilter.parsing import regex_parser
from logfilter.parsing.model import KVLine, Pair
from logfilter.rules.compiled import Chain
from logfilter.rules.filters import FilterType
from logfilter.sources.archives import escape_controls
from logfilter.sources.files import CHUNK, LineFramer
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


class InventoryEngine(LineEngine):
    """Walks a log with the engines' block logic and records every key instead of writing."""

    parse_kv_line = staticmethod(regex_parser.parse_kv_line)
    parse_opener = staticmethod(regex_parser.parse_opener)

    def __init__(self, chain: Chain, stats: Stats, shapes: dict[tuple[str, tuple[str, ...], str], KeyShape]) -> None:
        super().__init__(chain, stats, self._unparsable)
        self._shapes = shapes
        self.unparsable = 0

    def _unparsable(self, lineno: int, attribute: str) -> None:
        self.unparsable += 1

    def _render(
        self, kv: KVLine, inherited: FilterType | None, column: int, step: int, frames: list
    ) -> str | None:
        # The list keys of this line, as the base class will open them (it records the leaves).
        given, path, source = inherited, _path(frames), _source(frames)
        pair: Pair | None = kv.pair
        while pair is not None and pair.is_list:
            own = self._chain.rule_for(pair.key)
            rule = inherited if inherited is not None else own
            if inherited is not None:
                why = f"list {_text(source)}"
            else:
                why, source = ("rule", pair.key) if own is not None else ("each key by its own rule", source)
            self._shape(path, pair.key, rule.text if rule is not None else "-", why).add("list", None)
            if rule is not None and rule.action == "skip":
                break  # what the list holds is dropped unread
            path = (*path, pair.key) if len(path) < MAX_PATH else path  # deeper: one row for the rest
            inherited, pair = rule, pair.sub
        return super()._render(kv, given, column, step, frames)

    def _leaf(self, kv: KVLine, pair: Pair, chosen: FilterType) -> str | None:
        frames = self._block.frames  # type: ignore[union-attr]
        path = _path(frames)
        top = frames[-1] if frames else None
        if top is not None and top.inherited is not None:
            why = f"list {_text(_source(frames) or '')}"
        elif self._chain.rule_for(pair.key) is not None:
            why = "rule"
        else:
            why = "default"
        if self._chain.detectors is not None and chosen.action in IN_CLEAR and not kv.suppressed:
            why += f"; detect {','.join(self._chain.detectors.names)} -> {self._chain.detect_rule.text}"
        shape = self._shape(path, pair.key, chosen.text, why)
        value = pair.value
        if kv.suppressed or value is None:
            shape.add("suppressed", None)
        elif value.kind == "str":
            shape.add("str", value.raw[1:-1])
        elif value.kind == "int":
            shape.add("int", value.raw)
        else:
            shape.add("bin", None)
        return None

    def _shape(self, path: tuple[str, ...], key: str, filter_type: str, why: str) -> KeyShape:
        attribute = self._block.attribute  # type: ignore[union-attr]
        shape = self._shapes.get((attribute, path, key))
        if shape is None:
            shape = self._shapes[attribute, path, key] = KeyShape(attribute, path, key, filter_type, why)
        return shape


def _source(frames: list) -> str | None:
    """The list key whose rule the innermost frame inherits: the outermost list with a rule."""
    return next((frame.key for frame in frames if frame.inherited is not None), None)


class KeyInventory(Scanner):
    """Reads inputs as scan does (files, folders, archives, stdin) and collects the shapes of their keys."""

    def __init__(self, chain: Chain, spool_dir: Path | None = None) -> None:
        super().__init__(chain, False, lambda finding: None, spool_dir)
        self.shapes: dict[tuple[str, tuple[str, ...], str], KeyShape] = {}
        self.unparsable = 0

    def _scan_text(self, stream, name: str) -> None:  # type: ignore[no-untyped-def]
        result = InputResult(name)
        self.inputs.append(result)
        engine = InventoryEngine(self._chain, result.stats, self.shapes)
        framer, lineno, out = LineFramer(), 1, []
        try:
            while chunk := stream.read(CHUNK):
                result.stats.bytes_in += len(chunk)
                lineno += engine.feed(framer.feed_lines(chunk), lineno, out)
                out.clear()
            rest = framer.finish()
            if rest:
                engine.process(rest, lineno)
        finally:
            self.unparsable += engine.unparsable

    def sorted_shapes(self) -> list[KeyShape]:
        """Attribute by attribute; what a list holds right after the list."""
        return [self.shapes[where] for where in sorted(self.shapes, key=lambda w: (w[0], (*w[1], w[2])))]

    def report(self, config: dict[str, object]) -> dict[str, object]:  # type: ignore[override]
        """The JSON inventory: settings, inputs, every key's shape; counts, never values."""
        return {
            "config": config,
            "inputs": [
                {"input": r.name, "status": r.status, **({"reason": r.reason} if r.reason else {}), "lines": r.stats.lines}
                for r in self.inputs
            ],
            "keys": [shape.as_dict() for shape in self.sorted_shapes()],
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


def _path(frames: list) -> tuple[str, ...]:
    """The nesting path of the open lists, cut at MAX_PATH keys (where deeper keys are counted)."""
    return tuple(frame.key for frame in frames[:MAX_PATH])


def _json_text(key: str) -> str:
    return key.encode(*_ENCODING).decode("utf-8", "backslashreplace")


def _text(key: str) -> str:
    """A key for the terminal: undecodable bytes and control characters escaped."""
    return escape_controls(_json_text(key))
