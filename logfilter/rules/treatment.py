"""What a filter type does to a whole KV pair: the one place every walk, the compiled scanner and untag ask.

A pair's treatment follows from the rule chosen for it (its list's, its own, or the default)
and the safety net: a detector that recognizes something in a value the rule would leave in
clear (copy, tag) hands the pair to the detect rule. The decision is an Effect:

- COPY: the pair as it is; so is a PSDK line the PSDK already suppressed (unless skipped);
- SKIP: the pair line is removed (a skipped first sub-pair leaves `'key'(list) ` on its
  list's line: the walker keeps what comes before the pair);
- TAG: the value token wrapped in the rule's tags;
- SUPPRESS: `hide` in the PSDK print, `'key' [output suppressed]`, as the PSDK prints it;
- MASK: the value masked by its kind (filters.FilterType.apply: a hashed integer is quoted
  as its layout quotes strings).
Each effect bumps one counter (copied, skipped, tagged, masked) and all but COPY count the
change by filter type and key; a pair the net caught counts as a detection instead.

`treat` renders a leaf pair as text for the walk's handlers (`goes_on_in_clear`: may a line
that goes on with its value come out as it is?); `plan` gives the same decisions
as data for the compiled scanner (engines/scanner.pyx), which applies them to bytes and is held
equal to `treat` by tests/unit/test_differential.py; `in_clear` is scan's reading (is a value
not in the form its rule leaves it?); untag applies `effect` and `value_bytes` to the values
it finds; `treat_value` and `value_in_clear` do the same for one
value outside KV blocks (identity/reader.py: a listed attribute's, a SIP identity).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from logfilter.parsing.model import KVLine, Layout, Pair, Value
from logfilter.parsing.regex_parser import value_kind
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import FilterType
from logfilter.stats import Stats

Effect = Literal["copy", "skip", "tag", "suppress", "mask"]
COPY: Effect = "copy"
SKIP: Effect = "skip"
TAG: Effect = "tag"
SUPPRESS: Effect = "suppress"
MASK: Effect = "mask"
SUPPRESSED = "[output suppressed]"
# The actions that print a value as it is, so the detectors look at it.
IN_CLEAR = ("copy", "tag")
_ENCODING = ("utf-8", "surrogateescape")


def effect(rule: FilterType, layout: Layout, suppressed: bool = False) -> Effect:
    """What `rule` does to a pair of this layout (`suppressed`: the PSDK already hid its value)."""
    action = rule.action
    if action == "copy" or suppressed and action != "skip":
        return COPY
    if action == "skip":
        return SKIP
    if action == "tag":
        return TAG
    return SUPPRESS if layout == "psdk" and rule.hides_whole_value else MASK


def watched(rules: Rules, rule: FilterType, suppressed: bool = False) -> bool:
    """Whether the detectors (if any) look at values under `rule`: those it leaves in clear."""
    return rules.detectors is not None and rule.action in IN_CLEAR and not suppressed


def count(stats: Stats, what: Effect, rule: FilterType, key_raw: str) -> None:
    """Count one pair (or skipped list) that `rule` treated as `what`."""
    if what == COPY:
        stats.copied += 1
        return
    stats.count_change(rule.text, key_raw.encode(*_ENCODING))
    if what == SKIP:
        stats.skipped += 1
    elif what == TAG:
        stats.tagged += 1
    else:
        stats.masked += 1


def treat(rules: Rules, stats: Stats, kv: KVLine, pair: Pair, chosen: FilterType) -> str | None:
    """The key, separator and value of leaf `pair` under `chosen` (or the net), counted; None: skipped."""
    caught = None
    value = pair.value
    # watched(), inline: this runs for every pair the walker reads (the scanner hands it many).
    if rules.detectors is not None and chosen.action in IN_CLEAR and not kv.suppressed and value is not None and value.kind != "bin":
        caught = rules.detectors.first(value.raw.encode(*_ENCODING))  # type: ignore[union-attr]
        if caught is not None:
            stats.count_detection(caught, pair.key_raw.encode(*_ENCODING))
            chosen = rules.detect_rule
    what = effect(chosen, kv.layout, kv.suppressed)
    if caught is None:
        count(stats, what, chosen, pair.key_raw)
    if what == COPY:
        return pair.key_raw + pair.sep + (value.raw if value is not None else "")
    if what == SKIP:
        return None
    if what == SUPPRESS:
        return pair.key_raw + pair.gap + SUPPRESSED
    return pair.key_raw + pair.sep + chosen.apply(value, kv.layout)  # type: ignore[arg-type]


def goes_on_in_clear(rules: Rules, kv: KVLine, pair: Pair, chosen: FilterType, more: bytes) -> bool:
    """Whether a line `more` that goes on with the value of leaf `pair` may come out as it is.

    Only when `treat` leaves the pair as it is (COPY), and the net catches nothing in its value
    or in `more`; under any rule that changes values, what goes on with one never comes out in clear.
    """
    if effect(chosen, kv.layout, kv.suppressed) != COPY:
        return False
    if not watched(rules, chosen, kv.suppressed):
        return True
    first = rules.detectors.first  # type: ignore[union-attr]
    value = pair.value
    if value is not None and value.kind != "bin" and first(value.raw.encode(*_ENCODING)) is not None:
        return False
    return first(more) is None


def treat_value(rules: Rules, stats: Stats, raw: str, rule: FilterType, counted_as: str, layout: Layout = "c",
                token: bool = True) -> str | None:  # fmt: skip
    """The new text of one value outside KV blocks (a listed attribute's, a SIP identity), counted;
    None: the detectors' net caught it and its rule is skip (the caller removes the line).

    `token`: a value token as printed (`'+1415'`, `"Jane"`, `115`), masked as a pair's value is;
    else a bare piece of text inside other syntax (a URI's user part, a display name without
    quotes), masked as the text between a value's quotes is, so `hash` gives one token for one
    number wherever it is. A skip rule is the caller's to apply. `hide` is `****` in either
    print: `[output suppressed]` is the PSDK's form for pairs only. `counted_as` is the key the
    counts show, quoted (`'AttributeANI'`, `'sip:From'`).
    """
    caught = None
    if watched(rules, rule):
        caught = rules.detectors.first(raw.encode(*_ENCODING))  # type: ignore[union-attr]
        if caught is not None:
            stats.count_detection(caught, counted_as.encode(*_ENCODING))
            rule = rules.detect_rule
    what = effect(rule, "c")  # never SUPPRESS
    if caught is None:
        count(stats, what, rule, counted_as)
    if what == COPY:
        return raw
    if what == SKIP:
        return None
    if token or what == TAG:
        return rule.apply(Value(value_kind(raw.encode(*_ENCODING)) if token else "str", raw), layout)
    return rule.apply(Value("str", f"'{raw}'"))[1:-1]  # the text between the quotes, masked


def in_clear(layout: Layout, pair: Pair, rule: FilterType) -> bool:
    """Whether a value is not in the form `rule` leaves it (scan): a rule's masks are idempotent."""
    what = effect(rule, layout)
    if what in (SKIP, SUPPRESS):
        return True  # the pair should not be there, or the PSDK prints `[output suppressed]`
    if what != MASK:
        return False  # copy keeps it; tag marks it for someone else to hide
    return not rule.is_applied(pair.value)  # type: ignore[arg-type]


def value_in_clear(raw: str, rule: FilterType, token: bool = True) -> bool:
    """`in_clear` for a value outside KV blocks, read as `treat_value` reads it."""
    value = Value(value_kind(raw.encode(*_ENCODING)), raw) if token else Value("str", f"'{raw}'")
    return in_clear("c", Pair("", "", value), rule)


def quoted_by_layout(rule: FilterType, raw: bytes) -> bool:
    """Whether the new text of value token `raw` depends on the layout: a hashed integer is quoted."""
    return rule.is_hash and value_kind(raw) == "int"


def value_bytes(rule: FilterType, raw: bytes, layout: Layout = "c") -> bytes:
    """The new text of value token `raw` under a tag or mask rule (untag, the compiled scanner)."""
    return rule.apply(Value(value_kind(raw), raw.decode(*_ENCODING)), layout).encode(*_ENCODING)


class Plan(NamedTuple):
    """What a rule does, as the compiled scanner applies it: `treat`'s decisions, as data."""

    c: Effect  # its effect on a pair of the C print
    psdk: Effect  # and of the PSDK print
    mask: str  # under MASK: "hide", "hash", or a partial mask's name ("unhide-last")
    n: int  # a partial mask's N
    prefix: bytes  # under TAG
    postfix: bytes
    watched: bool  # the detectors look at values it leaves in clear


def plan(rules: Rules, rule: FilterType) -> Plan:
    """`rule`'s Plan under `rules` (their detectors)."""
    name, _, count = rule.text.partition(",")  # `unhide-last,4` (a partial mask's text)
    partial = rule.action == "mask" and not rule.is_hash and not rule.hides_whole_value
    mask = "hash" if rule.is_hash else name if partial else "hide"
    return Plan(
        effect(rule, "c"), effect(rule, "psdk"), mask, int(count) if partial else 0,
        rule.prefix.encode(*_ENCODING), rule.postfix.encode(*_ENCODING), watched(rules, rule),
    )  # fmt: skip
