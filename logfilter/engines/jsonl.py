"""JSON lines: each message of a log as one JSON object, its KV values filtered exactly as `run` prints them.

JsonHandler is a Walker's handler: the block logic is the one `run` uses, and each leaf pair
is rendered by rules/treatment.py as `run` renders it; the value text is filed under its key
instead of written. docs/jsonl-schema.json is the contract for the objects; docs/decisions.md
("JSON lines") says why they look the way they do.

A message starts at a line outside KV blocks that matches the grammar's MESSAGE_HEADER; the
C print's `message X` line under its event line (`... Trc 04541 RequestX received from ...`)
starts at that event line. It goes on over the lines that continue it
(events.continues_message) and ends at an empty line or any other line at column 0. A KV
block opened outside any message makes a message with no name. The other lines are written
as `{"file", "line", "text"}` objects with `all_lines`, and are dropped otherwise. With
[log-filter-sip] rules each SIP message is an object of its own (identity/jsonl.py), and an
attribute line a [log-filter-attributes] rule reads is in `attributes` as `run` writes it.
"""

from __future__ import annotations

import re

import orjson

from logfilter.engines.blocks import Block, Frame
from logfilter.engines.handler import Handler
from logfilter.identity.jsonl import SipObjects
from logfilter.identity.reader import SIP_KINDS, Found, render
from logfilter.names import printable
from logfilter.parsing.events import WHITESPACE, continues_message, message_header
from logfilter.parsing.model import KVLine, Opener, Pair
from logfilter.rules import treatment
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.stats import Stats

MAX_DEPTH = 32  # lists nested in one KV block, as JSON objects; deeper ones are flattened into the 32nd

# A time stamp at the start of a header line: `@10:26:01.5600`, `16:41:55.299`, `2016-04-20T09:22:09.969`.
TIME_STAMP = re.compile(rb"@?((?:\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)")
MESSAGE_NAME = re.compile(rb"(?:Event|Request)[A-Za-z]*")
# Attribute lines outside KV blocks: `→AttributeThisDN→'9001'` (C), `AttributeThisDN [str] = "2214"` (PSDK).
_PSDK_ATTRIBUTE = re.compile(rb"[ \t]*(Attribute[A-Za-z0-9_]*)[ \t]+\[[A-Za-z][A-Za-z0-9_]*\][ \t]*=[ \t]*(.*?)[ \t]*")
_C_ATTRIBUTE = re.compile(rb"[ \t]+(Attribute[A-Za-z0-9_]*)(?:[ \t]+(.*?))?[ \t]*")
PSDK_BOILERPLATE = b"message attributes:"
_MISSING = object()

Json = dict[str, object]


def _text(raw: bytes) -> str:
    """Bytes as JSON text: bytes that are not UTF-8 as `\\xNN` (lossy: a literal `\\xNN` reads alike)."""
    return raw.decode("utf-8", "backslashreplace")


def _str(value: str) -> str:
    """A value or key (str with surrogate escapes, as the engines read lines) as JSON text."""
    return value if value.isascii() else _text(value.encode("utf-8", "surrogateescape"))


def _unquoted(value: str, quote: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == quote and value[-1] == quote else value


def _put(container: Json, key: str, value: object) -> None:
    """Add `key`; a key already there holds an array of its values, in order (JSON keys are unique)."""
    old = container.get(key, _MISSING)
    if old is _MISSING:
        container[key] = value
    elif type(old) is list:
        old.append(value)
    else:
        container[key] = [old, value]


class JsonHandler(Handler):
    """Writes one JSON object per message of one input (and per other line, with `all_lines`).

    `flush(ended)` writes the message in progress: follow calls it at each record boundary
    (ended) and when a file goes quiet (not ended: the lines that then continue the message
    make a second object, marked `"continued": true`).
    """

    def __init__(self, rules: Rules, stats: Stats, name: str, all_lines: bool = False) -> None:
        self._rules, self._stats = rules, stats
        self._file = printable(name)
        self._all_lines = all_lines
        self._out: list[bytes] = []
        self._lineno = 0
        self._message: Json | None = None
        self._pending: tuple[int, bytes] | None = None  # the last free line: maybe a message's event line
        self._continuing: Json | None = None  # a message written before its end (flush not ended)
        self._block: Block | None = None  # the open KV block
        self._root: Json | None = None  # its object
        self._lists: list[tuple[Frame, Json, str]] = []  # its open lists: frame, object, key
        self._sip = SipObjects(self._file)
        self._in_sip = False  # the free line told next is a SIP message's, already in its object

    @property
    def holding(self) -> bool:
        return self._message is not None or self._pending is not None or self._continuing is not None or self._sip.open

    def identity_line(self, found: Found, lineno: int) -> bytes | None:
        self._lineno = lineno
        out = render(found, self._rules, self._stats)
        if found.kind in SIP_KINDS:
            if found.kind == "intro":  # a column-0 line: the message before it has ended
                self._end_message()
                self._continuing = None
                self._write_pending()
            self._write_sip(self._sip.take(found, out, lineno))
            self._in_sip = out is not None
            return out
        if found.failed is not None:
            self._ensure_message()["failed_closed"] += 1  # type: ignore[operator]
            return None  # left out, as a KV line that fails closed
        return out  # free_line files the attribute as run writes it

    def _write_sip(self, item: Json | None) -> None:
        if item is not None:
            self._write(item)

    def free_line(self, body: bytes, lineno: int, opener: Opener | None) -> None:
        self._lineno = lineno
        if self._in_sip:
            self._in_sip = False
            return
        self._write_sip(self._sip.end())  # a line that is not part of a SIP message ends it
        if self._message is not None or self._continuing is not None:
            if continues_message(body):
                self._ensure_message()
                self._body_line(body, opener)
                return
            self._end_message()
            self._continuing = None
        self._outside(body, opener)

    def flush(self, ended: bool) -> bytes:
        if self._message is not None:
            if not ended:
                self._continuing = {name: self._message[name] for name in ("file", "time", "header", "message")}
            self._end_message()
        if ended:
            self._continuing = None
        self._write_sip(self._sip.end() if ended else self._sip.pause())
        self._write_pending()
        return self.emit(b"")

    # -- messages -----------------------------------------------------------------------------
    def _outside(self, body: bytes, opener: Opener | None) -> None:
        """A line while no message is open: it starts one, opens a block, or is a free line."""
        header = message_header(body)
        if header is not None:
            event = self._pending if body.startswith(b"message ") else None
            if event is None:
                self._write_pending()
            self._pending = None
            lines = [event[1], body] if event is not None else [body]
            time = TIME_STAMP.match(lines[0])
            name = MESSAGE_NAME.search(header.group())
            self._start(
                event[0] if event is not None else self._lineno,
                _text(time.group(1)) if time else None,
                [_text(text) for text in lines],
                _text(name.group()) if name else None,
            )
            return  # a header line could open a block too: block_opened follows
        self._write_pending()
        if opener is None:  # else a block opens: a message with no name
            if body:
                self._pending = (self._lineno, body)
            elif self._all_lines:
                self._write({"file": self._file, "line": self._lineno, "text": ""})
    def _start(self, lineno: int, time: str | None, header: list[str], name: str | None) -> Json:
        message: Json = {
            "file": self._file, "line": lineno, "time": time, "header": header, "message": name,
            "attributes": {}, "kv": {}, "kv_headers": {}, "failed_closed": 0,
        }  # fmt: skip
        self._message = message
        return message

    def _ensure_message(self) -> Json:
        """The open message; after a flush that was not its end, a new object that continues it."""
        if self._message is not None:
            return self._message
        template = self._continuing
        if template is None:
            message = self._start(self._lineno, None, [], None)
        else:
            message = self._start(self._lineno, template["time"], list(template["header"]), template["message"])  # type: ignore[arg-type,call-overload]
            message["continued"] = True
        if self._block is not None and self._root is not None:  # the open block and lists go on in the new object
            self._root = root = {}
            _put(message["kv"], self._block.attribute, root)  # type: ignore[arg-type]
            for index, (frame, _old, key) in enumerate(self._lists):
                if index >= MAX_DEPTH:  # flattened into the list at the limit, as list_opened does
                    message["flattened"] = message.get("flattened", 0) + 1  # type: ignore[operator]
                    self._lists[index] = (frame, root, key)
                    continue
                inner: Json = {}
                _put(root, key, inner)
                self._lists[index] = (frame, inner, key)
                root = inner
        return message

    def _body_line(self, body: bytes, opener: Opener | None) -> None:
        """A line that continues the message outside a KV block: an attribute, an opener, or other text."""
        message = self._message
        assert message is not None
        if opener is not None or not body.strip(WHITESPACE):
            return
        plain = _PSDK_ATTRIBUTE.fullmatch(body)
        quote = '"'
        if plain is None:
            plain, quote = _C_ATTRIBUTE.fullmatch(body), "'"
        if plain is not None:
            _put(message["attributes"], _text(plain.group(1)), _unquoted(_text(plain.group(2) or b""), quote))  # type: ignore[arg-type]
        elif body.rstrip(WHITESPACE) == PSDK_BOILERPLATE and self._lineno == message["line"] + len(message["header"]):  # type: ignore[operator,arg-type]
            # right under the header lines: part of the PSDK header
            message["header"].append(_text(body))  # type: ignore[attr-defined]
        else:
            message.setdefault("other", []).append({"line": self._lineno, "text": _text(body)})  # type: ignore[attr-defined]

    def block_opened(self, block: Block, body: bytes) -> None:
        self._block = block
        self._root = None  # a new block: no root to carry into a new object
        message = self._ensure_message()
        self._root = {}
        self._lists.clear()
        _put(message["kv"], block.attribute, self._root)  # type: ignore[arg-type]
        text = _text(body).strip(" \t\r\v\f")
        at = text.find(block.attribute) if block.attribute != "KVList" else -1
        _put(message["kv_headers"], block.attribute, text[at + len(block.attribute) :].lstrip(" \t") if at >= 0 else text)  # type: ignore[arg-type]

    def _end_message(self) -> None:
        if self._message is not None:
            self._write(self._message)
            self._message = None

    # -- KV blocks --------------------------------------------------------------------------------
    def block_closed(self) -> None:
        self._block, self._root = None, None
        self._lists.clear()

    def kv_line(self, body: bytes, lineno: int, block: Block) -> bytes:
        self._lineno = lineno
        self._ensure_message()
        return body

    def continued(self, body: bytes, lineno: int, block: Block) -> None:
        # The text of a copied value printed over several lines: kept with its message.
        self._lineno = lineno
        self._ensure_message().setdefault("other", []).append({"line": lineno, "text": _text(body)})  # type: ignore[attr-defined]

    def failed(self, lineno: int, attribute: str) -> None:
        # Every line that fails closed is reported here: it counts in the message it is in.
        self._lineno = lineno
        self._ensure_message()["failed_closed"] += 1  # type: ignore[operator]

    def list_opened(self, pair: Pair, frame: Frame, block: Block) -> None:
        parent = self._container()
        key = _str(pair.key)
        if len(self._lists) >= MAX_DEPTH:
            # JSON readers (orjson among them) refuse deeper nesting: the pairs of a deeper
            # list go into the list at the limit, filtered as ever, and the message says so.
            message = self._ensure_message()
            message["flattened"] = message.get("flattened", 0) + 1  # type: ignore[operator]
            self._lists.append((frame, parent, key))
            return
        inner: Json = {}
        _put(parent, key, inner)
        self._lists.append((frame, inner, key))

    def list_skipped(self, pair: Pair, rule: FilterType, block: Block) -> None:
        treatment.count(self._stats, treatment.SKIP, rule, pair.key_raw)

    def leaf(self, kv: KVLine, pair: Pair, chosen: FilterType, block: Block) -> str | None:
        text = treatment.treat(self._rules, self._stats, kv, pair, chosen)
        if text is None:
            return None  # skipped: absent from the JSON too
        prefix = pair.key_raw + pair.sep
        if pair.value is None or not text.startswith(prefix):
            value = treatment.SUPPRESSED  # the PSDK's own, or the form hide takes in the PSDK print
        else:
            value = text[len(prefix) :]
            if pair.value.kind == "str":
                value = _unquoted(value, pair.value.raw[0])
            elif pair.value.kind == "int" and value[:1] in ("'", '"'):
                value = _unquoted(value, value[0])  # hashed, an integer is quoted: the same token as its text
        _put(self._container(), _str(pair.key), _str(value))
        return text

    def long_line(self, head: bytes, lineno: int, free: bool) -> None:
        """A line longer than the framer holds: no part of it goes into the JSON.

        Inside a KV block, or a value left open, it fails closed and counts in its message;
        any other such line ends the message, and with --all-lines is said by a line object
        with empty text and `left_out`, its length (long_line_end).
        """
        self._lineno = lineno
        if free:
            self.block_closed()
            self._write_sip(self._sip.end())
            self._end_message()
            self._continuing = None
            self._write_pending()

    def long_line_end(self, lineno: int, free: bool, size: int) -> None:
        if free and self._all_lines:
            self._write({"file": self._file, "line": self._lineno, "text": "", "left_out": size})

    def _container(self) -> Json:
        """The object the next pair goes into: the innermost list still open, or the block."""
        frames = self._block.frames if self._block is not None else []
        lists = self._lists
        kept = 0
        while kept < len(lists) and kept < len(frames) and lists[kept][0] is frames[kept]:
            kept += 1
        del lists[kept:]
        if lists:
            return lists[-1][1]
        assert self._root is not None, "a KV line outside a block"
        return self._root

    # -- output ---------------------------------------------------------------------------------
    def _write_pending(self) -> None:
        if self._pending is not None:
            lineno, body = self._pending
            self._pending = None
            if self._all_lines:
                self._write({"file": self._file, "line": lineno, "text": _text(body)})

    def _write(self, item: Json) -> None:
        self._out.append(orjson.dumps(item) + b"\n")

    def emit(self, out: bytes) -> bytes:
        """The JSON written since the last call; `out`, the log text, is not JSON."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

