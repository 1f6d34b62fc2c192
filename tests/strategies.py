"""Hypothesis strategies for T-Library text: valid, near-valid and hostile KV lines and messages.

Lines are assembled from fragments of the real formats (quotes, tabs, `(list)`, PSDK types,
binary tokens, odd bytes), so most are close to something the grammar accepts and the rest
probe the edges where two parsers could disagree.
"""

from __future__ import annotations

from hypothesis import strategies as st

KEYS = ["PASSWORD", "CardNumber", "RTR", "Peg AG?:Skill1 > 1", "it's", "CUSTOMER", "NAME", "ACCOUNT", "x", ""]
FRAGMENTS = [
    "'", "\"", "\t", " ", "  ", "(list)", "(list) ", "(list", "[str]", "[int]", "[list]", "[bstr]", " = ", "=",
    "KVList:", "KVList: ", "[output suppressed]", "[8] 4a 42 37 01..", "[8]", " 4a", "..", "-", "12", "0",
    "AttributeUserData", "AttributeExtensions", "AttributeReason", "AttributeReasons", "AttributeConnID",
    "message EventRinging", "'EventRinging' ('2')", "\r", "\x00", "é", "\udcff", "word", "'PASSWORD'", "'v'",
]

fragment = st.sampled_from(FRAGMENTS) | st.text(alphabet=st.sampled_from("ab1' \t\"-[]().:="), max_size=4)
# Text of one line without its line ending (a lone CR may appear, as in damaged logs).
noise_line = st.lists(fragment, max_size=12).map("".join)

# Values some detector recognizes (detect.py), with near misses that none does.
DETECTABLE = [
    "4111111111111111", "4111 1111 1111 1111", "4111111111111112", "078-05-1120", "123-45-6789", "666-12-3456",
    "DE89 3704 0044 0532 0130 00", "DE89370400440532013001", "jane.roe@example.com", "x@y", "+1 415 555 0123",
    "+1 555 0100", "call +44 20 7946 0958 now",
]
key = st.sampled_from(KEYS) | st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="'\r\n"), max_size=6)
c_value = st.one_of(
    st.sampled_from(DETECTABLE).map(lambda t: f"'{t}'"),
    st.sampled_from(["4111111111111111", "5500005555555559"]),
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=12).map(lambda t: f"'{t}'"),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["[8] 4a 42 37 01..", "[0]", "[2] 00 ff", "[3] 0a 0b 0c.."]),
)
indent = st.sampled_from(["\t", "\t\t", "\t\t\t", " ", "    ", "        ", "\t ", " \t"])
blank = st.sampled_from(["", " ", "\t", "  "])


@st.composite
def c_line(draw: st.DrawFn) -> str:
    """A C-print KV line: a leaf or a chain of lists ending in a leaf or an empty list."""
    parts = [draw(indent)]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(f"'{draw(key)}'(list) ")
        if draw(st.booleans()) and len(parts) > 1:
            return "".join(parts)
    sep = draw(st.sampled_from(["\t", " ", "  "]))
    parts.append(f"'{draw(key)}'{sep}{draw(c_value)}{draw(blank)}")
    return "".join(parts)


psdk_value = st.one_of(
    st.sampled_from(DETECTABLE).map(lambda t: f'"{t}"'),
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=12).map(lambda t: f'"{t}"'),
    st.integers(-1000, 10**12).map(str),
    st.just("KVList: "),
)


@st.composite
def psdk_line(draw: st.DrawFn) -> str:
    """A PSDK-print KV line: typed value, nested KVList, or already suppressed."""
    head = f"{draw(indent)}'{draw(key)}' "
    if draw(st.integers(0, 9)) == 0:
        return head + "[output suppressed]" + draw(blank)
    value = draw(psdk_value)
    type_ = "[list]" if value.startswith("KVList") else draw(st.sampled_from(["[str]", "[int]", "[long]", "[bstr]"]))
    return f"{head}{type_} = {value}" + ("" if value.startswith("KVList") else draw(blank))


any_kv_line = st.one_of(c_line(), psdk_line(), noise_line)

FREE_LINES = [
    "@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging",
    "16:41:55.299 Int 04543 Interaction message \"EventRouteRequest\" received from 65200",
    "2016-04-20T09:22:09.969 Trc 04541 Message EventAgentNotReady received from 'sip_01@+4389'",
    "'RequestAttachUserData' ('30')",
    "message attributes:",
    "\tAttributeConnID\t006c029a6685d004",
    "\tAttributeThisDN\t'9001'",
    "AttributeConnID [long] = 00890",
    "RLIB: refid(1)\t1",
    "\t'PASSWORD'\t'decoy-outside-a-block'",
    "Sending  [0,UDP] 812 bytes to 10.0.0.5:5060 >>>>>",
    "12:01:02.345 Trc 04541 RequestAttachUserData received from 'x' message EventX",
    "",
]
OPENERS = [
    "\tAttributeUserData\t[561] 00 14 00 00..",
    "\tAttributeExtensions\t[111] 00 27 01 00",
    "  AttributeReason   [14] 00 00 00 00",
    "\tAttributeReasons",
    "AttributeUserData [bstr] = KVList: ",
    "\tKVList:",
    "x AttributeUserData KVList:",
    "\tAttributeUserData\tKVList: x",
]
free_line = st.sampled_from(FREE_LINES) | noise_line
# Lines longer than the smaller line bound of the fuzz property (64 bytes), which the engine
# gets in parts (logfilter/framing.py): KV lines with long values, a KV line that leaves its
# value open, and long text such as the later lines of a value printed over several lines.
_long_text = st.text(alphabet=st.sampled_from("ab9 '\"\t:-"), min_size=65, max_size=140)
long_line = st.one_of(
    st.tuples(indent, key, _long_text).map(lambda parts: f"{parts[0]}'{parts[1]}'\t'{parts[2]}'"),
    st.tuples(indent, key, _long_text).map(lambda parts: f"{parts[0]}'{parts[1]}'\t'{parts[2]}"),
    _long_text,
    st.tuples(indent, _long_text).map("".join),
)
log_line = st.one_of(
    free_line, st.sampled_from(OPENERS), c_line(), c_line(), psdk_line(), noise_line, blank,
)
eol = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r\r\n"])


@st.composite
def block(draw: st.DrawFn) -> list[str]:
    """An opener and the lines after it: mostly KV lines of its layout, sometimes anything."""
    opener = draw(st.sampled_from(OPENERS))
    kv = psdk_line() if "KVList" in opener else c_line()
    return [opener, *draw(st.lists(st.one_of(kv, kv, kv, log_line), min_size=1, max_size=8))]


@st.composite
def log_text(draw: st.DrawFn) -> bytes:
    """A log of blocks and stray lines in any order, with mixed line endings.

    Undecodable bytes appear through surrogate escapes; the last line may lack its line
    ending.
    """
    pieces = draw(st.lists(st.one_of(block(), log_line.map(lambda line: [line])), max_size=12))
    lines = [(line, draw(eol)) for piece in pieces for line in piece]
    text = "".join(line + end for line, end in lines)
    if lines and draw(st.booleans()):
        text = text[: -len(lines[-1][1])]
    return text.encode("utf-8", "surrogateescape")


FILTER_TYPES = [
    "copy", "hide", "skip", "tag", "tag(<!--,-->)", "hide-first,3", "hide-last,2", "unhide-first,1",
    "unhide-last,4", "", "hash", "hash(8)",
]


@st.composite
def policy_args(draw: st.DrawFn) -> tuple[str, tuple[str, ...], bool]:
    """(default filter type, KEY=TYPE rules, ignore key case) for load_policy."""
    default = draw(st.sampled_from(FILTER_TYPES))
    keys = draw(st.lists(st.sampled_from(["PASSWORD", "CardNumber", "CUSTOMER", "NAME", "x", "it's", "password"]),
                         unique=True, max_size=4))
    rules = tuple(f"{key}={draw(st.sampled_from(FILTER_TYPES))}" for key in keys)
    return default or "copy", rules, draw(st.booleans())


# ---------------------------------------------------------------- whole logs of valid KV blocks

TAG_KEYS = ["PASSWORD", "CardNumber", "NAME", "RTR", "it's", "Peg AG?:Skill1 > 1", "x"]
LIST_KEY = "CUSTOMER"
# The tags of tag() and tag(<!--,-->): kv_log values never contain them.
TAG_STRINGS = ("<#", "#>", "<!--", "-->")
# Value text: quotes, blanks, characters of tags and an undecodable byte (surrogate escape).
_value_text = st.text(alphabet=st.sampled_from("ab9 '\"<#>!-*[]\t\udcffé"), max_size=10).filter(
    lambda text: not any(tag in text for tag in TAG_STRINGS)
)
_c_kv_value = st.one_of(
    _value_text.map(lambda t: f"'{t}'"),
    st.integers(-10**12, 10**12).map(str),
    st.sampled_from(["[8] 4a 42 37 01..", "[0]", "[2] 00 ff"]),
)
_psdk_kv_value = st.one_of(
    _value_text.map(lambda t: f'"{t}"').map(lambda v: ("[str]", v)),
    st.integers(-1000, 10**12).map(lambda n: ("[int]", str(n))),
)
_kv_key = st.sampled_from(TAG_KEYS)


@st.composite
def _c_kv_lines(draw: st.DrawFn, indent: str) -> list[str]:
    """One C pair line, or a list pair line with deeper lines under it."""
    sep = draw(st.sampled_from(["\t", " ", "      "]))
    pair = f"'{draw(_kv_key)}'{sep}{draw(_c_kv_value)}{draw(blank)}"
    if not draw(st.integers(0, 4)) == 0:
        return [indent + pair]
    deeper = [f"{indent}\t'{draw(_kv_key)}'\t{draw(_c_kv_value)}" for _ in range(draw(st.integers(0, 2)))]
    return [f"{indent}'{LIST_KEY}'(list) {pair}", *deeper]


@st.composite
def _psdk_kv_lines(draw: st.DrawFn, indent: str) -> list[str]:
    """One PSDK pair line, or a KVList pair with deeper lines under it."""
    if not draw(st.integers(0, 4)) == 0:
        type_, value = draw(_psdk_kv_value)
        return [f"{indent}'{draw(_kv_key)}' {type_} = {value}{draw(blank)}"]
    lines = [f"{indent}'{LIST_KEY}' [list] = KVList: "]
    for _ in range(draw(st.integers(0, 2))):
        type_, value = draw(_psdk_kv_value)
        lines.append(f"{indent}\t'{draw(_kv_key)}' {type_} = {value}")
    return lines


@st.composite
def kv_block(draw: st.DrawFn) -> list[str]:
    """A message header, an AttributeUserData opener (C or PSDK) and valid KV lines under it."""
    if draw(st.booleans()):
        head = ["message RequestAttachUserData"]
        outer, inner = draw(st.sampled_from([("\t", "\t\t"), ("  ", "                           ")]))
        gap = draw(st.sampled_from(["\t", "         "]))
        opener = f"{outer}AttributeUserData{gap}[561] 00 14 00 00.."
        lines = draw(st.lists(_c_kv_lines(inner), min_size=1, max_size=5))
        tail = [f"{outer}AttributeConnID{outer}006c029a6685d004"]
    else:
        head = ["'RequestAttachUserData' ('30')", "message attributes:"]
        opener, indent = "AttributeUserData [bstr] = KVList: ", draw(st.sampled_from(["\t\t", "  "]))
        lines = draw(st.lists(_psdk_kv_lines(indent), min_size=1, max_size=5))
        tail = ["AttributeReferenceID [int] = 30"]
    return [*head, opener, *(line for group in lines for line in group), *tail]


@st.composite
def kv_log(draw: st.DrawFn) -> bytes:
    """A log of valid C and PSDK messages with KV blocks, LF or CRLF line endings."""
    end = draw(st.sampled_from(["\n", "\r\n"]))
    blocks = draw(st.lists(kv_block(), min_size=1, max_size=4))
    text = "".join(line + end for block in blocks for line in [draw(st.sampled_from(FREE_LINES[:3])), *block])
    return text.encode("utf-8", "surrogateescape")
