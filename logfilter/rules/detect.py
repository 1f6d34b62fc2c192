"""Detectors: recognize card numbers, SSNs, IBANs, e-mail addresses and phone numbers in text.

Each detector is a candidate pattern (bytes, found by `re` at C speed) and a validator that
decides whether a candidate is the real thing: Luhn for cards, the SSA's ranges for SSNs,
mod-97 and the country's format for IBANs (python-stdnum), libphonenumber's metadata for
phone numbers (phonenumberslite). A text with no candidate at all costs one search.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType

_NOT_WORD = rb"(?<![0-9A-Za-z])"
_NOT_WORD_AFTER = rb"(?![0-9A-Za-z])"

# A run of digit groups, single blanks or dashes between them, holding 13 digits or more; the
# card number (13-19 digits) is looked for among its consecutive groups (_pan_spans).
_PAN = _NOT_WORD + rb"(?=(?:[ -]?[0-9]){13})[0-9]+(?:[ -][0-9]+)*" + _NOT_WORD_AFTER
# AAA-GG-SSSS, or with blanks; nine bare digits are too often something else.
_SSN = rb"(?<![0-9A-Za-z-])[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}(?![0-9A-Za-z-])"
# Country, check digits, then 11-30 letters or digits, printed whole or in blank-separated groups.
_IBAN = _NOT_WORD + rb"[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}" + _NOT_WORD_AFTER
_EMAIL = (
    rb"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    rb"[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
# International form: a plus, a country code and 6-14 more digits, with blanks, dots, dashes
# or parentheses between them.
_PHONE = rb"(?<![0-9A-Za-z+])\+[1-9](?:[ .()-]{0,2}[0-9]){6,14}(?![0-9])"


def _digits(text: bytes) -> str:
    return bytes(byte for byte in text if 48 <= byte <= 57).decode()


Spans = Iterator[tuple[int, int]]
_GROUPS = re.compile(rb"[0-9]+")


def _pan_spans(run: bytes) -> Spans:
    """Card numbers among the consecutive digit groups of a run, left to right, longest first.

    Other numbers may stand beside one (`cvv 123 4111...`, `4111... 12/25`, `...-01`). No
    issuer number starts with 0 (ISO/IEC 7812), which keeps zero-padded counters and ids out.
    """
    groups = [hit.span() for hit in _GROUPS.finditer(run)]
    first = 0
    while first < len(groups):
        for last in range(len(groups) - 1, first - 1, -1):
            start, end = groups[first][0], groups[last][1]
            digits = _digits(run[start:end])
            if 13 <= len(digits) <= 19 and digits[0] != "0" and _luhn(digits):
                yield start, end
                first = last
                break
        first += 1


def _whole(valid: Callable[[bytes], bool]) -> Callable[[bytes], Spans]:
    def spans(text: bytes) -> Spans:
        if valid(text):
            yield 0, len(text)

    return spans


def _shortened(valid: Callable[[bytes], bool], least: int) -> Callable[[bytes], Spans]:
    """The longest valid prefix of a candidate that ends at a letter or digit (words may follow it)."""

    def spans(text: bytes) -> Spans:
        for end in range(len(text), least - 1, -1):
            if text[end - 1 : end].isalnum() and valid(text[:end]):
                yield 0, end
                return

    return spans


# The validators' libraries are imported when a value first needs one (a start without
# detectors, or with few candidates, never pays for phonenumbers' metadata).
def _luhn(digits: str) -> bool:
    from stdnum import luhn

    return luhn.is_valid(digits)


def _ssn(text: bytes) -> bool:
    from stdnum.us import ssn

    return ssn.is_valid(_digits(text))


def _iban(text: bytes) -> bool:
    from stdnum import iban

    return iban.is_valid(text.decode())


_IBAN_LEAST = 15  # the shortest prefix of a candidate that is asked


def _iban_spans(text: bytes) -> Spans:
    """_shortened(_iban, 15), asking stdnum of one prefix only: an IBAN has its country's length
    (stdnum checks the BBAN against the country's structure, whole), and blanks are not counted
    in it, so one prefix ending at a letter or digit has that length. A country with no IBAN: none."""
    size = _iban_length(text[:2].upper())
    if size == 0:
        return
    if size is None:
        yield from _shortened(_iban, _IBAN_LEAST)(text)  # a structure not read here: every prefix, as ever
        return
    count = 0
    for end, byte in enumerate(text, 1):
        count += byte != 32
        if count == size:
            if end >= _IBAN_LEAST and text[end - 1 : end].isalnum() and _iban(text[:end]):
                yield 0, end
            return


_STRUCTURE = r"([1-9][0-9]*)!([nac])"  # stdnum's BBAN structure: `8!n10!n`


@cache
def _iban_length(country: bytes) -> int | None:
    """The length of the country's IBANs (its BBAN structure in stdnum's registry, and 4); 0 for a
    country stdnum has no IBAN for; None when the structure is not one this reads."""
    from stdnum import numdb

    info = numdb.get("iban").info(country.decode("ascii", "replace"))
    props = info[0][1] if info else {}
    if not props:
        return 0  # stdnum.iban.validate: InvalidComponent, whatever follows
    structure = props.get("bban", "")
    if not structure or re.sub(_STRUCTURE, "", structure):
        return None
    return 4 + sum(int(count) for count, _ in re.findall(_STRUCTURE, structure))


def _email(text: bytes) -> bool:
    local, _, domain = text.partition(b"@")
    return not (local.startswith(b".") or local.endswith(b".") or b".." in local) and b"--" not in domain[:4]


@cache
def _phones() -> ModuleType:
    from logfilter.rules import phones  # loaded when a number is first judged (and phonenumbers then)

    return phones


def _phone_spans(text: bytes) -> Spans:
    """The longest valid phone number a candidate starts with (_shortened(phones.valid, 8), quicker)."""
    end = _phones().longest_valid(text, 8)  # libphonenumber's is_valid_number, its patterns compiled once
    if end is not None:
        yield 0, end


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    pattern: bytes
    spans: Callable[[bytes], Spans]  # where in a candidate the real things are
    needs: bytes  # a byte every candidate holds: texts without it are not searched
    digits: int  # the digits every candidate holds at least: texts with fewer are not searched


# In the order a value's detector is named when several recognize it.
KINDS = (
    _Kind("pan", _PAN, _pan_spans, b"", 13),
    _Kind("ssn", _SSN, _whole(_ssn), b"", 9),
    _Kind("iban", _IBAN, _iban_spans, b"", 2),
    _Kind("email", _EMAIL, _whole(_email), b"@", 0),
    _Kind("phone", _PHONE, _phone_spans, b"+", 7),
)
_DIGITS = b"0123456789"
NAMES = tuple(kind.name for kind in KINDS)


class DetectorError(ValueError):
    """A detector list naming something that is not a detector."""


@dataclass(frozen=True, slots=True)
class Hit:
    """What a detector recognized: its name and where it is in the text searched."""

    detector: str
    start: int
    end: int


def parse_names(text: str) -> tuple[str, ...]:
    """`pan,email` → ("pan", "email"); `all` → every detector; `none` or empty → none. Raises DetectorError."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if "all" in names:
        return NAMES
    if names == ["none"]:
        return ()
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        msg = f"unknown detector {unknown[0]!r}; expected a comma-separated list of {', '.join(NAMES)} (or all, or none)"
        raise DetectorError(msg)
    return tuple(name for name in NAMES if name in names)


class Detectors:
    """A chosen set of detectors, compiled once."""

    __slots__ = ("_any", "_kinds", "names")

    def __init__(self, names: Iterable[str]) -> None:
        chosen = set(names)
        kinds = [kind for kind in KINDS if kind.name in chosen]
        self.names = tuple(kind.name for kind in kinds)
        # Each with its bit in `among` (bit i: KINDS[i]).
        self._kinds = [(kind, re.compile(kind.pattern), 1 << KINDS.index(kind)) for kind in kinds]
        # Any candidate at all: most texts have none, and are done with this one search.
        self._any = re.compile(
            b"|".join(b"(?:" + kind.pattern.replace(b"\\1", b"[- ]") + b")" for kind in kinds)
        )

    def _nothing_in(self, text: bytes, among: int) -> bool:
        """Whether `text` surely holds no candidate: asked only when no compiled gate was (`among` -1)."""
        return among == -1 and (not self._kinds or self._hopeless(text) or self._any.search(text) is None)

    def _hopeless(self, text: bytes) -> bool:
        """Whether no chosen detector can have a candidate in `text`: each needs more digits, or a byte it lacks."""
        digits = len(text) - len(text.translate(None, _DIGITS))
        return all(
            digits < kind.digits or (kind.needs and kind.needs not in text) for kind, _, _ in self._kinds
        )

    def first(self, text: bytes, among: int = -1) -> str | None:
        """The name of the first detector (in KINDS order) that recognizes something in `text`.

        `among`: a compiled caller's gates (scanner.pyx) already ruled the others out: a bit for
        each of KINDS that may have a candidate there (bit i: KINDS[i]); -1 when none was asked.
        """
        if self._nothing_in(text, among):
            return None
        for kind, pattern, bit in self._kinds:
            if (
                among & bit
                and kind.needs in text
                and any(next(kind.spans(hit.group()), None) for hit in pattern.finditer(text))
            ):
                return kind.name
        return None

    def hits(self, text: bytes, among: int = -1) -> list[Hit]:
        """Everything recognized in `text`, by position; a span found by an earlier detector is not
        found again. `among`: as `first`'s."""
        if self._nothing_in(text, among):
            return []
        found: list[Hit] = []
        for kind, pattern, bit in self._kinds:
            if not among & bit or kind.needs not in text:
                continue
            for hit in pattern.finditer(text):
                for start, end in kind.spans(hit.group()):
                    start, end = start + hit.start(), end + hit.start()
                    if not any(h.start < end and start < h.end for h in found):
                        found.append(Hit(kind.name, start, end))
        return sorted(found, key=lambda hit: hit.start)


@cache
def detectors(names: tuple[str, ...]) -> Detectors:
    """The compiled Detectors for a tuple of names (shared: they hold no state)."""
    return Detectors(names)


def preview(text: str, reveal: bool = True) -> str:
    """A masked view of `text`: stars of its length, and its last four characters only when
    `reveal`, it has at least 12, and they are printable ASCII (PCI style: `************1111`)."""
    tail = text[-4:]
    if reveal and len(text) >= 12 and tail.isascii() and tail.isprintable():
        return "*" * (len(text) - 4) + tail
    return "*" * len(text)
