"""How a name is shown: `printable`, the one function every message, listing and report uses for one.

A name (a file, an archive member, a followed pattern, a KV key, an option text) comes from
the file system, an archive or a log, and may hold any byte. Printed raw, `ESC[2J` clears the
screen, a CR or LF starts a line of its own ("clean: 0 findings"), a bidirectional override
reorders what the reader sees. So every name is shown with its bytes that are not UTF-8 as
`\\xNN` and those characters as escapes (`\\x1b`, `\\r`, `\\n`, `\\u202e`); what is left
cannot act on a terminal. The command line also passes every line it writes on stderr through
`printable` (cli/printing.py), so a name that reached a message raw is escaped there.
"""

from __future__ import annotations

import os
import re

# C0 controls (TAB, LF, CR, ESC, BEL, ...), DEL, C1 controls (0x9b is an 8-bit CSI), the
# Unicode line and paragraph separators, and the bidirectional marks, embeddings, overrides
# and isolates.
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\x00-\x1f{_OTHERS}]")
_CONTROLS_BUT_TAB = re.compile(f"[\x00-\x08\x0a-\x1f{_OTHERS}]")


def printable(name: str | bytes | os.PathLike[str]) -> str:
    """A name as text safe to print and to put in a report: bytes that are not UTF-8 as `\\xNN`,
    control and direction characters as escapes. Text that is already printable comes back as it is."""
    if isinstance(name, bytes):
        raw = name
    else:
        text = os.fspath(name)
        try:
            raw = os.fsencode(text)  # a name read from the file system holds its odd bytes as surrogates
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "backslashreplace")
    return escape_controls(raw.decode("utf-8", "backslashreplace"))


def escape_controls(text: str, keep_tabs: bool = False) -> str:
    """Text for a terminal: control and direction characters as escapes (`\\x1b`), so none acts on it.

    `keep_tabs`: a TAB stays a TAB (log lines shown by `run --preview`, whose layout is tabs).
    """
    if text.isprintable():
        return text  # (every character the patterns escape is one str.isprintable refuses)
    pattern = _CONTROLS_BUT_TAB if keep_tabs else _CONTROLS
    return pattern.sub(lambda hit: hit.group().encode("unicode_escape").decode(), text)
