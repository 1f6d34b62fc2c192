"""[log-filter-attributes] and [log-filter-sip]: logfilter's own rules for the caller's identity outside KV blocks.

Genesys filters only the pairs of the three KV attributes; the caller's number also sits in
attribute lines (`AttributeANI`) and in the SIP messages SIP Server prints. These two sections
(Genesys ignores sections it does not know, so one option file serves both) name an attribute
or a SIP header and give it a filter type, as [log-filter-data] does for a key:

    [log-filter-attributes]          [log-filter-sip]
    AttributeANI=unhide-last,4       Request-URI=unhide-last,4
                                     From=hash

Attribute names are exact (T-Library names are); a KV attribute is refused (its pairs have
their own sections). Header names are case-insensitive, as SIP's are, and a compact form
(`f`, `t`, `m`, `r`, `b`) is its header; `Request-URI` names the request line's URI. A name
close to a known one but not it is refused with a did-you-mean (a typo would mask nothing),
and so are headers that carry no identity (Via, Call-ID ...). identity/reader.py applies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from logfilter.errors import ConfigError
from logfilter.rules.filters import FilterType
from logfilter.rules.rule import Rule

ATTRIBUTES_SECTION = "log-filter-attributes"
SIP_SECTION = "log-filter-sip"
SECTIONS = (ATTRIBUTES_SECTION, SIP_SECTION)
KV_ATTRIBUTES = ("AttributeUserData", "AttributeExtensions", "AttributeReason", "AttributeReasons")
# Attributes that carry the caller's or a party's number, for did-you-mean (formats.md §5).
KNOWN_ATTRIBUTES = (
    "AttributeANI", "AttributeDNIS", "AttributeThisDN", "AttributeOtherDN", "AttributeThirdPartyDN",
    "AttributeCollectedDigits", "AttributeAgentID", "AttributeCustomerID", "AttributeLocation",
)  # fmt: skip
REQUEST_URI = "Request-URI"
# RFC 3261 §7.3.3 (f, t, m) and the compact forms of RFC 3515 (r) and RFC 3892 (b): the ones with identities.
COMPACT = {"f": "From", "t": "To", "m": "Contact", "r": "Refer-To", "b": "Referred-By"}
IDENTITY_HEADERS = (
    "From", "To", "Contact", "P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID", "Diversion",
    "History-Info", "Referred-By", "Refer-To", "Reply-To", "P-Called-Party-ID", "P-Associated-URI",
)  # fmt: skip
# Headers with no display name and no URI user part: a rule on them would mask nothing or fail closed always.
NO_IDENTITY = ("Via", "v", "Call-ID", "i", "CSeq", "Content-Length", "l", "Content-Type", "c", "Max-Forwards")
_ATTRIBUTE_NAME = re.compile(r"Attribute[A-Za-z0-9_]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z|~]+")  # RFC 3261 token


@dataclass(frozen=True, slots=True)
class IdentityRules:
    """The rules of both sections; empty (false) when neither is configured, and then nothing reads these lines."""

    attributes: tuple[Rule, ...] = ()
    sip: tuple[Rule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.attributes or self.sip)

    def filter_types(self) -> list[FilterType]:
        return [rule.filter_type for rule in (*self.attributes, *self.sip)]

    def bound(self, bind: Callable[[FilterType], FilterType]) -> IdentityRules:
        """These rules with `bind` applied to each filter type (the hash key, config.with_hash_key)."""
        return IdentityRules(*(tuple(Rule(r.key, bind(r.filter_type), r.origin) for r in rules)
                               for rules in (self.attributes, self.sip)))  # fmt: skip

    def describe(self) -> dict[str, dict[str, str]]:
        """The sections as reports show them (rule texts, never values); nothing when neither is configured."""
        shown = {ATTRIBUTES_SECTION: self.attributes, SIP_SECTION: self.sip}
        return {
            section: {r.key: r.filter_type.text for r in rules} for section, rules in shown.items() if rules
        }


@dataclass(slots=True)
class Collector:
    """Reads the options of both sections as a configuration file gives them, refusing what would mask nothing."""

    attributes: list[Rule] = field(default_factory=list)
    sip: list[Rule] = field(default_factory=list)

    def add(self, section: str, name: str, filter_type: FilterType, where: str) -> None:
        """One `name=type` line of `section`; ConfigError names `where` (file:line)."""
        if section == ATTRIBUTES_SECTION:
            self.attributes.append(Rule(_attribute(name, where), filter_type, where))
            return
        canonical = header_name(name, where)
        for other in self.sip:
            if other.key == canonical:
                msg = f"{where}: [{SIP_SECTION}] {name}: the same header as {other.key} ({other.origin})"
                raise ConfigError(msg)
        self.sip.append(Rule(canonical, filter_type, where))

    def rules(self) -> IdentityRules:
        return IdentityRules(tuple(self.attributes), tuple(self.sip))


def _attribute(name: str, where: str) -> str:
    said = f"{where}: [{ATTRIBUTES_SECTION}] {name}"
    if name in KV_ATTRIBUTES:
        msg = f"{said}: a KV attribute; its pairs are filtered by [log-filter] and [log-filter-data]"
        raise ConfigError(msg)
    if _ATTRIBUTE_NAME.fullmatch(name) is None:
        msg = f"{said}: expected a T-Library attribute name, such as AttributeANI"
        raise ConfigError(msg)
    _refuse_near_miss(name, KNOWN_ATTRIBUTES, said, "attribute names are exact")
    return name


def header_name(name: str, where: str) -> str:
    """The canonical name of a header a rule names: `f` is From, `from` is From, `Request-URI` the request URI."""
    said = f"{where}: [{SIP_SECTION}] {name}"
    if _HEADER_NAME.fullmatch(name) is None:
        msg = f"{said}: expected a SIP header name, such as From or P-Asserted-Identity, or Request-URI"
        raise ConfigError(msg)
    folded = name.casefold()
    if any(folded == other.casefold() for other in NO_IDENTITY):
        msg = f"{said}: carries no identity (logfilter masks display names and URI user parts); leave it out"
        raise ConfigError(msg)
    if folded in COMPACT:
        return COMPACT[folded]
    known = (*IDENTITY_HEADERS, REQUEST_URI)
    for other in known:
        if folded == other.casefold():
            return other
    _refuse_near_miss(name, known, said, "a header logfilter does not know is read as any other")
    return name


def _refuse_near_miss(name: str, known: tuple[str, ...], said: str, note: str) -> None:
    """A name one slip (a letter's case, one letter more, less, other or swapped) away from a known
    one is refused: as written it would match nothing and mask nothing."""
    folded = name.casefold()
    for other in known:
        if other != name and _one_slip(folded, other.casefold()):
            msg = f"{said}: did you mean {other}? ({note})"
            raise ConfigError(msg)


def _one_slip(a: str, b: str) -> bool:
    """Whether `a` and `b` are equal, or one edit apart (insert, delete, substitute, swap neighbours)."""
    if abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    return a[1:] == b[1:] or a[1:] == b or a == b[1:] or (a[:2] == b[1::-1] and a[2:] == b[2:])
