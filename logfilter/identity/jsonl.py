"""SIP messages as JSON objects, for `--format jsonl` when [log-filter-sip] rules are configured.

One object per SIP message (docs/jsonl-schema.json, `sip`): where its introducer line is, the
time stamp that starts it, and the message: the introducer as printed, the start line and the
headers as `run` writes them (the identities of listed headers masked), by name as printed; a
header printed twice holds an array. A skipped header is absent; a line that failed closed is
left out and counted in `failed_closed`; a folded line of a header no rule names is added to
its value after one blank. The body is not part of the message (engines/jsonl.py writes its
lines as other lines); the first line that is not part of it ends the message, which is then
written. JsonHandler (engines/jsonl.py) feeds it the lines the reader found.
"""

from __future__ import annotations

import re

from logfilter.identity.reader import Found
from logfilter.parsing.events import WHITESPACE

Json = dict[str, object]
_TIME = re.compile(rb"@?((?:\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)")


def _text(raw: bytes) -> str:
    """Bytes as JSON text: bytes that are not UTF-8 as `\\xNN`, as engines/jsonl.py writes them."""
    return raw.decode("utf-8", "backslashreplace")


class SipObjects:
    """The SIP message in progress in one input, and what a message paused by a flush goes on as."""

    def __init__(self, file: str) -> None:
        self._file = file
        self._current: Json | None = None
        self._paused: Json | None = None  # the first object of a message written before its end
        self._last: tuple[dict[str, object], str] | None = None  # the last header: its headers object and name

    @property
    def open(self) -> bool:
        """Whether a message is in progress (held until it ends), or may go on after a flush."""
        return self._current is not None or self._paused is not None

    def take(self, found: Found, out: bytes | None, lineno: int) -> Json | None:
        """A line of a SIP message, `out` as run writes it; return a message that ended before it."""
        ended = None
        if found.kind == "intro":
            ended, self._paused = self.end(), None
            time = _TIME.match(found.body)
            self._current = self._start(lineno, _text(time.group(1)) if time else None, _text(found.body))
            return ended
        sip = self._message(lineno)["sip"]
        assert isinstance(sip, dict)
        if found.failed is not None:
            self._current["failed_closed"] += 1  # type: ignore[index,operator]
        elif found.kind == "start":
            sip["start"] = _text(out) if out is not None else None
        elif found.kind == "header" and out is not None:
            name, value = found.name, _text(out[found.value :])  # masking changes nothing before the value
            headers = sip["headers"]
            old = headers.get(name)
            headers[name] = value if old is None else [*old, value] if isinstance(old, list) else [old, value]
            self._last = (headers, name)
        elif found.kind == "fold" and out is not None and self._last is not None:
            headers, name = self._last
            old = headers[name]
            more = " " + _text(out.strip(WHITESPACE))
            if isinstance(old, list):
                old[-1] += more
            else:
                headers[name] = old + more  # type: ignore[operator]
        return ended  # a blank line ends the headers; the next line that is not the message's ends it here

    def end(self) -> Json | None:
        """The message in progress, ended by a line that is not part of it (or the input's end)."""
        ended, self._current, self._paused = self._current, None, None
        return ended

    def pause(self) -> Json | None:
        """The message so far, written before its end (follow, on quiet): what comes next is `continued`."""
        if self._current is None:
            return None
        paused, self._current = self._current, None
        self._paused = paused
        return paused

    def _message(self, lineno: int) -> Json:
        if self._current is None:  # after a pause, or a message line with no introducer before it
            paused = self._paused
            if paused is None:
                self._current = self._start(lineno, None, "")
            else:
                sip: dict[str, object] = paused["sip"]  # type: ignore[assignment]
                self._current = self._start(lineno, paused["time"], sip["introducer"])  # type: ignore[arg-type]
                self._current["continued"] = True
            self._last = None
        return self._current

    def _start(self, lineno: int, time: str | None, introducer: str) -> Json:
        self._last = None
        return {"file": self._file, "line": lineno, "time": time,
                "sip": {"introducer": introducer, "start": None, "headers": {}}, "failed_closed": 0}  # fmt: skip
