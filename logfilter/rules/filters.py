"""The Genesys filter types, parsed from their option text, and applied to value tokens.

Each filter type exists here once; every engine and front door uses these functions.
Counts are characters of the decoded value text (an undecodable byte counts as one).
The option text is read by grammars/filter_type.lark; its plainest forms (`hide`,
`unhide-last,4`, `tag`, `hash`) by one regex of the same language first, so that a start
needs no Lark parser (tests/unit/test_filters.py holds the two equal).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from logfilter.errors import ConfigError
from logfilter.names import printable
from logfilter.parsing.grammar import build

if TYPE_CHECKING:
    from lark import Lark
from logfilter.parsing.model import Layout, Value
from logfilter.rules.hashing import DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, Secret, pseudonym, token_regex
from logfilter.rules.spelling import nearest

Mask = Callable[[str], str]
Action = Literal["copy", "mask", "skip", "tag"]

DEFAULT_PREFIX = "<#"
DEFAULT_POSTFIX = "#>"
MAX_TAG_LENGTH = 16
HIDDEN = "****"
EXPECTED = (
    "copy, hide, hide-first,N, hide-last,N, unhide-first,N, unhide-last,N, skip, "
    "tag, tag(), tag(prefix,postfix), hash, hash(N)"
)
_QUOTES: dict[Layout, str] = {"c": "'", "psdk": '"'}


@dataclass(frozen=True, slots=True)
class FilterType:
    """One compiled filter type: what it does to a pair, and its canonical option text."""

    text: str
    action: Action
    mask: Mask | None = None
    prefix: str = ""
    postfix: str = ""
    # hash(N): N, and the key once bound (hashing.read_key); the Secret's repr is redacted.
    length: int = 0
    secret: Secret | None = None

    def __reduce__(self) -> tuple[Callable[..., FilterType], tuple]:
        # Pickled as its option text (the masks are closures), for batch worker processes;
        # a keyed hash carries its key with it, in memory only.
        if self.secret is not None:
            return _keyed_hash, (self.text, self.secret)
        return parse_filter_type, (self.text,)

    @property
    def is_hash(self) -> bool:
        return self.length > 0

    def keyed(self, secret: Secret) -> FilterType:
        """This hash filter type bound to a key."""
        length = self.length

        def mask(text: str) -> str:
            return pseudonym(secret, length, text)

        return FilterType(self.text, "mask", mask, length=length, secret=secret)

    def is_applied(self, value: Value) -> bool:
        """Whether a value is already in the form this filter type gives (for scan).

        Masks are idempotent, so a masked value masks to itself; a hash token does not, so
        its shape says it. `****` (a hashed binary value) reveals nothing either.
        """
        if self.is_hash:
            if value.kind == "str":
                return token_regex(self.length).fullmatch(value.raw[1:-1]) is not None
            return value.raw == HIDDEN
        return self.apply(value) == value.raw

    @property
    def hides_whole_value(self) -> bool:
        """True for `hide`, which the PSDK prints as `[output suppressed]`."""
        return self.mask is hide

    def apply(self, value: Value, layout: Layout = "c") -> str:
        """Return the new text of a value token under this filter type (not for skip).

        `layout` picks the quotes of a hashed integer, which is no longer one.
        """
        if self.action == "copy":
            return value.raw
        if self.action == "tag":
            return f"{self.prefix}{value.raw}{self.postfix}"
        assert self.mask is not None
        if value.kind == "bin":
            return HIDDEN  # no partial view of bytes
        if value.kind == "int":
            if self.is_hash:
                # The same token as the text '1234' gives; quoted, as `h:...` is not an integer.
                quote = _QUOTES[layout]
                return f"{quote}{self.mask(value.raw)}{quote}"
            # Masked characters replace digits; a sign is not a digit.
            sign, digits = ("-", value.raw[1:]) if value.raw.startswith("-") else ("", value.raw)
            return HIDDEN if self.mask is hide else sign + self.mask(digits)
        quote = value.raw[0]
        return f"{quote}{self.mask(value.raw[1:-1])}{quote}"


def hide(text: str) -> str:
    """Replace the whole value with a fixed `****`: not even its length is revealed."""
    return HIDDEN


def hide_first(n: int) -> Mask:
    """Mask the first n characters (all of them when n >= length); keep the length."""

    def mask(text: str) -> str:
        k = min(n, len(text))
        return "*" * k + text[k:]

    return mask


def hide_last(n: int) -> Mask:
    """Mask the last n characters (all of them when n >= length); keep the length."""

    def mask(text: str) -> str:
        k = min(n, len(text))
        return text[: len(text) - k] + "*" * k

    return mask


def unhide_first(n: int) -> Mask:
    """Mask all but the first n characters; a value of n characters or fewer is unchanged."""

    def mask(text: str) -> str:
        k = min(n, len(text))
        return text[:k] + "*" * (len(text) - k)

    return mask


def unhide_last(n: int) -> Mask:
    """Mask all but the last n characters; a value of n characters or fewer is unchanged."""

    def mask(text: str) -> str:
        k = min(n, len(text))
        return "*" * (len(text) - k) + text[len(text) - k :]

    return mask


def _leave_empty(mask: Mask) -> Mask:
    # Partial masks leave an empty value as it is; only `hide` turns '' into '****'.
    def guarded(text: str) -> str:
        return mask(text) if text else text

    return guarded


_PARTIALS: dict[str, Callable[[int], Mask]] = {
    "hide-first": hide_first,
    "hide-last": hide_last,
    "unhide-first": unhide_first,
    "unhide-last": unhide_last,
}

def _needs_key(text: str) -> str:
    msg = "a hash filter type was used before its key was read"
    raise ConfigError(msg)


def _keyed_hash(text: str, secret: Secret) -> FilterType:
    return parse_filter_type(text).keyed(secret)


COPY = FilterType("copy", "copy")
HIDE = FilterType("hide", "mask", hide)
SKIP = FilterType("skip", "skip")


class FilterTypeError(ValueError):
    """An option value that is not a valid filter type; the message says what is allowed."""


def _simple(name: str) -> FilterType:
    return {"copy": COPY, "hide": HIDE, "skip": SKIP}[name]


def _partial(name: str, count: int) -> FilterType:
    if count < 1:
        msg = f"{name} needs a whole number N of at least 1, as in {name},4"
        raise FilterTypeError(msg)
    return FilterType(f"{name},{count}", "mask", _leave_empty(_PARTIALS[name](count)))


def _hash(length: int = DEFAULT_LENGTH) -> FilterType:
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        msg = f"hash(N) keeps N hex digits, from {MIN_LENGTH} to {MAX_LENGTH}, as in hash(16)"
        raise FilterTypeError(msg)
    return FilterType(f"hash({length})", "mask", _needs_key, length=length)


def _tag(prefix: str = DEFAULT_PREFIX, postfix: str = DEFAULT_POSTFIX) -> FilterType:
    for side, text in (("prefix", prefix), ("postfix", postfix)):
        if len(text) > MAX_TAG_LENGTH:
            msg = f"tag {side} longer than {MAX_TAG_LENGTH} characters"
            raise FilterTypeError(msg)
    return FilterType(f"tag({prefix},{postfix})", "tag", None, prefix, postfix)


# The plainest forms of filter_type.lark's language, read without Lark: groups simple, partial
# and count, or the bare words tag and hash (which the grammar takes with no blank after them).
_PLAIN = re.compile(
    r"[ \t]*(?:(?:(?P<simple>copy|hide|skip)|(?P<partial>hide-first|hide-last|unhide-first|unhide-last)"
    r"[ \t]*,[ \t]*(?P<count>[0-9]+))[ \t]*|(?P<word>tag|hash))"
)
# tag(prefix,postfix) with two tags of no blank, comma or parenthesis: read as the grammar reads it
# (a start-up need not build the grammar for the usual tag rule).
_PLAIN_TAG = re.compile(r"[ \t]*tag[ \t]*\([ \t]*(?P<prefix>[^,()\s]+)[ \t]*,[ \t]*(?P<postfix>[^,()\s]+)[ \t]*\)[ \t]*")


def _transformer() -> Any:
    from lark import Transformer

    class ToFilterType(Transformer):
        def start(self, children: list[FilterType]) -> FilterType:
            return children[0]

        def simple(self, children: list) -> FilterType:
            return _simple(str(children[0]))

        def partial(self, children: list) -> FilterType:
            return _partial(str(children[0]), int(children[1]))

        def hash(self, children: list) -> FilterType:
            return _hash(int(children[0])) if children else _hash()

        def prefix(self, children: list) -> tuple[str, str]:
            return ("prefix", str(children[0]))

        def postfix(self, children: list) -> tuple[str, str]:
            return ("postfix", str(children[0]))

        def tag(self, children: list) -> FilterType:
            given = dict(c for c in children if isinstance(c, tuple))
            if "prefix" in given and len(given) == len(children):
                msg = "tag takes two tags separated by a comma: tag(prefix,postfix)"
                raise FilterTypeError(msg)
            return _tag(given.get("prefix", DEFAULT_PREFIX), given.get("postfix", DEFAULT_POSTFIX))

    return ToFilterType()


@cache
def _parser() -> Lark:
    return build("filter_type", ("start",), _transformer())


@cache
def parse_filter_type(text: str) -> FilterType:
    """Parse option text such as `unhide-last,4` or `tag(<!--,-->)`; empty text is copy.

    Raises FilterTypeError with a message that quotes the text, says what is wrong and what
    is allowed, and suggests the nearest valid spelling when there is one.
    """
    if not text.strip():
        return COPY
    plain = _PLAIN.fullmatch(text) or _PLAIN_TAG.fullmatch(text)
    if plain is None:
        return read_with_grammar(text)
    try:
        if plain.re is _PLAIN_TAG:
            return _tag(plain["prefix"], plain["postfix"])
        if plain["simple"]:
            return _simple(plain["simple"])
        if plain["partial"]:
            return _partial(plain["partial"], int(plain["count"]))
        return _tag() if plain["word"] == "tag" else _hash()
    except FilterTypeError as exc:  # a count out of range: worded as the grammar's path words it
        raise FilterTypeError(_wrong(text, exc)) from None


def read_with_grammar(text: str) -> FilterType:
    """Parse option text with filter_type.lark; FilterTypeError names what is allowed."""
    from lark.exceptions import LarkError, VisitError

    try:
        return _parser().parse(text)
    except (FilterTypeError, VisitError) as exc:
        wrong = exc.orig_exc if isinstance(exc, VisitError) else exc
        if not isinstance(wrong, FilterTypeError):
            raise
        raise FilterTypeError(_wrong(text, wrong)) from None
    except LarkError:
        msg = f"unknown filter type {_quoted(text)}{_hint(text.strip())}; expected one of: {EXPECTED}"
        raise FilterTypeError(msg) from None


def _quoted(text: str) -> str:
    return f'"{printable(text.strip())}"'


def _wrong(text: str, error: FilterTypeError) -> str:
    """What is wrong with option text that reads as a filter type (a count out of range), quoting it."""
    return f"filter type {_quoted(text)}: {error}"


# Every filter type's name; the partial ones take `,N`.
_NAMES = ("copy", "hide", "skip", "tag", "hash", *_PARTIALS)
# A name, then what follows it: a count written otherwise than `,N` (`unhide-last 4`, `hide-first:2`)...
_NAME_AND_COUNT = re.compile(r"([A-Za-z_-]+?)[\s,:;=/._-]*([0-9]+)")
_NAME_AND_REST = re.compile(r"([A-Za-z_-]*)(.*)", re.DOTALL)


def _hint(text: str) -> str:
    """What is wrong with option text the grammar refused, and the nearest valid spelling:
    `: what` and/or ` (did you mean ...?)`, or ''."""
    if text.count("(") > text.count(")"):
        fixed = text + ")"
        return ': missing ")"' + (f" (did you mean {fixed}?)" if _parses(fixed) else "")
    counted = _NAME_AND_COUNT.fullmatch(text)
    if counted is not None:
        name = nearest(counted.group(1).replace("_", "-"), _PARTIALS)
        if name is not None:
            return f" (did you mean {name},{int(counted.group(2))}?)"
    head, rest = _NAME_AND_REST.fullmatch(text).groups()  # type: ignore[union-attr]  # always matches
    name = nearest(head.replace("_", "-"), _NAMES)
    if name in _PARTIALS and not rest:
        return f": {name} needs a count N, as in {name},4"
    if name is not None and _parses(name + rest):
        return f" (did you mean {name}{rest}?)"
    return ""


def _parses(text: str) -> bool:
    from lark.exceptions import LarkError, VisitError  # a hint is worked out only for a refused text

    try:
        _parser().parse(text)
    except (LarkError, VisitError, FilterTypeError):
        return False
    return True
