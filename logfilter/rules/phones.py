"""libphonenumber's validity of a `+` and digits, at regex speed: the phone detector's validator.

`phonenumbers.is_valid_number(phonenumbers.parse(text, None))` costs 30-40 µs a number, most
of it in generic parsing and in recompiling (through re's cache) the same patterns for each
region a country code shares (25 for +1). A detector asks that of every candidate and of each
of its shorter prefixes, so on a log dense with caller numbers it was most of the run.

`valid(text)` answers the same question from the same metadata, with each region's patterns
compiled once:

- the country code and national number: for the common shape (a `+`, then digits and nothing
  else) the country code is the shortest of the first 1-3 digits that is one (as parse takes
  it) and the national number the rest; when that starts with a 0, or with the main region's
  national prefix for parsing (which parse may strip), or is shorter than 2 or longer than 17
  digits, and for any other shape, phonenumbers.parse says what they are;
- the number's region is the first of its country code's regions whose leading digits match,
  or, for a region without them, whose number types match (region_code_for_number); it is
  valid when a number type of that region matches (is_valid_number_for_region), a type being
  the general description and one of the specific ones, each a length check and a full match
  (_number_type_helper).

tests/unit/test_phones.py holds it equal to phonenumbers on numbers of every country code.
"""

from __future__ import annotations

import re
from functools import cache

# The specific number types _number_type_helper tries, in its order (mobile last: it is
# tried only where its pattern is not the fixed line's).
_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail", "fixed_line",
)  # fmt: skip
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' bounds on a national significant number


class _Region:
    """One region's leading digits and number types; `source(size)` is _number_type_helper != UNKNOWN as a regex."""

    __slots__ = ("_types", "general", "leading")

    def __init__(self, metadata: object) -> None:
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None  # type: ignore[attr-defined]
        self.general = _desc(metadata.general_desc)  # type: ignore[attr-defined]
        names = _TYPES if metadata.same_mobile_and_fixed_line_pattern else (*_TYPES, "mobile")  # type: ignore[attr-defined]
        self._types = [
            desc for desc in (_desc(getattr(metadata, name)) for name in names) if desc is not None
        ]

    def source(self, size: int) -> str | None:
        """A pattern, matched at the start of a national number of `size` digits, that matches when
        the general description and one of the types do (each a length it has and a full match of
        its pattern); None where none can."""
        fits = [pattern.pattern for lengths, pattern in self._types if not lengths or size in lengths]
        if self.general is None or (self.general[0] and size not in self.general[0]) or not fits:
            return None
        return f"(?=(?:{self.general[1].pattern})\\Z)(?:{'|'.join(f'(?:{one})' for one in fits)})\\Z"


_Desc = tuple[frozenset[int], re.Pattern[str]]


def _desc(desc: object) -> _Desc | None:
    """A number description's possible lengths and pattern, or None where it can match nothing."""
    if desc is None or not desc.national_number_pattern:  # type: ignore[attr-defined]
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)  # type: ignore[attr-defined]


class _Code:
    """A country code's regions in phonenumbers' order, and its main region's national prefix for parsing."""

    __slots__ = ("_by_length", "_shortest", "_transform", "lengths", "number", "prefix", "regions")

    def __init__(self, code: int) -> None:
        from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

        self.number = code
        names = COUNTRY_CODE_TO_REGION_CODE[code]
        main = PhoneMetadata.metadata_for_region_or_calling_code(code, names[0].upper())
        self.prefix = (
            re.compile(main.national_prefix_for_parsing)
            if main and main.national_prefix_for_parsing
            else None
        )
        if len(names) == 1:  # the only region is the number's (region_code_for_number)
            self.regions = [_Region(main)] if main is not None else []
            if self.regions:
                self.regions[0].leading = None
        else:
            found = (PhoneMetadata.metadata_for_region(name.upper(), None) for name in names)
            self.regions = [_Region(metadata) for metadata in found if metadata is not None]
        self._by_length: dict[int, re.Pattern[str] | None] = {}
        self._transform = (
            main.national_prefix_transform_rule if main and main.national_prefix_transform_rule else None
        )
        # The lengths a national number of this code can have to be valid (a region's general
        # description's), or None where one region's says none.
        general = [region.general for region in self.regions if region.general is not None]
        self.lengths = (
            frozenset().union(*(lengths for lengths, _ in general)) if all(g[0] for g in general) else None
        )
        self._shortest = min(self.lengths) if self.lengths else 0  # no reading of fewer digits has a length

    def readings(self, nsn: str) -> list[str] | None:
        """The national numbers parse may read from the digits `nsn` after this code: `nsn`, or
        where the main region's national prefix for parsing matches its head, also `nsn` without
        it and `nsn` transformed by the region's rule (_maybe_strip_national_prefix_carrier_code:
        which of them parse keeps depends on their lengths). None: parse refuses the number."""
        if len(nsn) < _MIN_NSN:
            return None
        found = self.prefix.match(nsn) if self.prefix is not None else None
        if found is None:
            return [nsn]
        read = [nsn, nsn[found.end() :]]
        if self._transform:
            read.append(self.prefix.sub(self._transform, nsn, count=1))  # type: ignore[union-attr]
        return read

    def too_long_or_short(self, nsn: str) -> bool:
        """Whether no reading of `nsn` has a length a region has: then it is invalid (a quick `verdict`)."""
        if self.lengths is None or self._transform is not None:
            return False
        if len(nsn) < self._shortest:
            return True  # (and so is every reading of it, which is shorter still)
        found = self.prefix.match(nsn) if self.prefix is not None else None
        return len(nsn) not in self.lengths and (found is None or len(nsn) - found.end() not in self.lengths)

    def verdict(self, nsn: str) -> bool | None:
        """is_valid_number of `+`, this code and the digits `nsn`, when each of its readings gets the
        same answer; None when which one parse reads decides it (valid asks parse then)."""
        read = self.readings(nsn)
        if read is None:
            return False
        if len(read) == 1 and self.lengths is not None and len(nsn) not in self.lengths:
            return False  # the common case, quickly: a length no region has
        verdicts = {_MIN_NSN <= len(one) <= _MAX_NSN and self.valid(one) for one in read}
        return verdicts.pop() if len(verdicts) == 1 else None

    def valid(self, nsn: str) -> bool:
        """is_valid_number of a number of this code read as `nsn`."""
        size = len(nsn)
        if self.lengths is not None and size not in self.lengths:
            return False  # no region's general description has its length
        pattern = self._by_length[size] if size in self._by_length else self._for_length(size)
        return pattern is not None and pattern.match(nsn) is not None

    def _for_length(self, size: int) -> re.Pattern[str] | None:
        """region_code_for_number and is_valid_number_for_region as one pattern, for `size` digits.

        The regions in order: the first whose leading digits match decides (its types match, or
        the number is invalid); a region without leading digits whose types match makes it valid;
        else the next one. Built from the last region back: `(?=L)T|(?!L)REST` for a region with
        leading digits L, `T|REST` for one without.
        """
        rest: str | None = None
        for region in reversed(self.regions):
            types = region.source(size)
            if region.leading is None:
                parts = [types, rest]
            else:
                leading = region.leading.pattern
                parts = [f"(?=(?:{leading})){types}" if types is not None else None,
                         f"(?!(?:{leading})){rest}" if rest is not None else None]  # fmt: skip
            found = [f"(?:{part})" for part in parts if part is not None]
            rest = f"(?:{'|'.join(found)})" if found else None
        pattern = re.compile(rest) if rest is not None else None
        self._by_length[size] = pattern
        return pattern


@cache
def _code(code: int) -> _Code | None:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return _Code(code) if code in COUNTRY_CODE_TO_REGION_CODE else None


@cache
def _codes() -> frozenset[int]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return frozenset(COUNTRY_CODE_TO_REGION_CODE)


def valid(text: bytes) -> bool:
    """Whether libphonenumber says `text` is a valid number (phonenumbers.is_valid_number of its parse)."""
    parts = split(text)
    if parts is not None:
        verdict = parts[0].verdict(parts[1])
        if verdict is not None:
            return verdict  # whichever reading parse takes, the answer is the same
    found_one = parse_reading(text)
    if found_one is None:
        return False
    code = _code(found_one[0])
    return code is not None and code.valid(found_one[1])


def longest_valid(text: bytes, least: int) -> int | None:
    """The end of the longest prefix of `text`, at least `least` bytes long and ending at a letter
    or digit, that is a valid number: `valid` of each prefix, longest first (the phone detector's
    candidates may run into other digits). For `+` and digits the country code is read once and
    each shorter national number is judged from it (a shorter prefix keeps its country code)."""
    parts = split(text)
    if parts is None:
        for end in range(len(text), least - 1, -1):
            if text[end - 1 : end].isalnum() and valid(text[:end]):
                return end
        return None
    code, nsn = parts
    head = len(text) - len(nsn)  # `+` and the country code
    for end in range(len(text), max(least, head + 1) - 1, -1):
        if code.too_long_or_short(nsn[: end - head]):
            continue  # (most shorter prefixes, quickly)
        verdict = code.verdict(nsn[: end - head])
        if verdict is None:
            verdict = valid(text[:end])
        if verdict:
            return end
    for end in range(min(head, len(text)), least - 1, -1):  # no national number left: parse's to say
        if text[end - 1 : end].isalnum() and valid(text[:end]):
            return end
    return None


def parse_reading(text: bytes) -> tuple[int, str] | None:
    """The country code and national significant number phonenumbers.parse reads from `text`, or None."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text.decode(), None)
    except phonenumbers.NumberParseException:
        return None
    return number.country_code, phonenumbers.national_significant_number(number)


def split(text: bytes) -> tuple[_Code, str] | None:
    """`+` and digits: the country code parse takes (the shortest of the first 1-3 digits that is
    one) and the digits after it; None for other text, or no country code."""
    digits = text[1:]
    if text[:1] != b"+" or not digits.isdigit() or not digits.isascii():  # (b"".isdigit() is False)
        return None
    number = digits.decode()
    if number[0] == "0":
        return None  # no country code starts with 0: parse raises
    codes = _codes()
    for size in (1, 2, 3):
        if size < len(number) and int(number[:size]) in codes:
            code = _code(int(number[:size]))
            return (code, number[size:]) if code is not None else None
    return None
