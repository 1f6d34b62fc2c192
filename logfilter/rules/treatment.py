"""What a filter type does to a whole KV pair: the one place every walk, the fast path and untag ask.

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
that goes on with its value come out as it is?); `row_renderer` compiles the same
decisions into a bytes renderer per rule for the fast path's runs of leaf lines; `in_clear`
is scan's reading (is a value not in the form its rule leaves it?); untag applies `effect`
and `value_bytes` to the values it finds. `treat_value` and `value_in_clear` do the same for
one value outside KV blocks (identity/reader.py: a listed attribute's, a SIP identity).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

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
_SUPPRESSED = SUPPRESSED.encode()
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
    # watched(), inline: this runs for every pair the fast path leaves to the walker.
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
    """The new text of value token `raw` under a tag or mask rule (untag, the fast path)."""
    return rule.apply(Value(value_kind(raw), raw.decode(*_ENCODING)), layout).encode(*_ENCODING)


# A leaf line as regex_parser.row_tuple_regex splits it: indent, key, gap, sep, value, trail, eol.
Row = tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes]
Render = Callable[[Row], bytes]


def row_renderer(rules: Rules, rule: FilterType, stats: Stats) -> Render:
    """A leaf line under `rule` as `treat` renders it (net included), counted; for the fast path."""
    render = _rows(rule, stats)
    if watched(rules, rule):
        # Counted as caught, not under the detect rule: that renderer counts elsewhere.
        render = _caught_by(rules, render, _rows(rules.detect_rule, Stats()), stats)
    return render


def _rows(rule: FilterType, stats: Stats) -> Render:
    what = effect(rule, "c")
    key_count = partial(stats.count_change, rule.text)  # per key, for reports
    if what == COPY:

        def copy(row: Row) -> bytes:
            stats.copied += 1
            return b"".join(row)

        return copy
    if what == SKIP:

        def skip(row: Row) -> bytes:
            stats.skipped += 1
            key_count(row[1])
            return b""

        return skip
    if what == TAG:
        prefix, postfix = rule.prefix.encode(*_ENCODING), rule.postfix.encode(*_ENCODING)

        def tag(row: Row) -> bytes:
            stats.tagged += 1
            indent, key, gap, sep, value, trail, eol = row
            key_count(key)
            return b"".join((indent, key, gap, sep, prefix, value, postfix, trail, eol))

        return tag
    if effect(rule, "psdk") == SUPPRESS:
        # `hide` does not depend on the value, only on its kind and quote: work it out once.
        hidden = {quote: value_bytes(rule, quote) for quote in (b"'", b'"', b"[", b"0")}

        def hide(row: Row) -> bytes:
            stats.masked += 1
            indent, key, gap, sep, value, trail, eol = row
            key_count(key)
            if gap:  # only the PSDK print has a gap between key and type
                return b"".join((indent, key, gap, _SUPPRESSED, trail, eol))
            return b"".join((indent, key, gap, sep, hidden.get(value[:1], hidden[b"0"]), trail, eol))

        return hide

    apply = rule.apply

    def mask(row: Row) -> bytes:
        stats.masked += 1
        indent, key, gap, sep, value, trail, eol = row
        key_count(key)
        # value_bytes(), inline; only the PSDK print has a gap between key and type.
        new = apply(Value(value_kind(value), value.decode(*_ENCODING)), "psdk" if gap else "c").encode(*_ENCODING)
        return b"".join((indent, key, gap, sep, new, trail, eol))

    return mask


def _caught_by(rules: Rules, render: Render, instead: Render, stats: Stats) -> Render:
    """`render`, except for a row whose value a detector recognizes: that one `instead`."""
    first = rules.detectors.first  # type: ignore[union-attr]

    def guarded(row: Row) -> bytes:
        value = row[4]
        if value[:1] != b"[":  # binary values print hex; the walker does not search them either
            caught = first(value)
            if caught is not None:
                stats.count_detection(caught, row[1])
                return instead(row)
        return render(row)

    return guarded
