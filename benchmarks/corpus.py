"""A seeded generator of realistic Genesys T-Library log text, for throughput benchmarks.

The corpus is assembled from fragments (one T-Library message with its log events, a SIP
dump, a few one-line events, a few decoy lines). A pool of 4,096 fragments is rendered once
per seed, with `%s` slots for what varies: times, ConnIDs and the customer data, filled from
value pools at every use. Generating is then one `%` per fragment drawn at random: about
200-300 MB/s, so no block is ever repeated (there is no need to): a corpus of any size is
drawn fragment by fragment from the seed, the same bytes on every run, and a prefix of the
corpus of any larger size for the same seed.

Each fragment carries its own bookkeeping (lines per kind, values per sensitive key, the KV
pairs in print order), so `--describe` reports the mix, and the counts `logfilter run
--stats` should print under each benchmark configuration, without re-reading the output.

    python benchmarks/corpus.py --size 64M -o corpus.log        # stdout without -o
    python benchmarks/corpus.py --size 64M --describe           # no corpus written without -o

Sizes take K, M and G suffixes, binary as in `head -c` (1M = 2**20 bytes); "MB" in every
figure printed here is 2**20 bytes too.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MB = 1 << 20
CONFIGS = Path(__file__).resolve().parent / "configs"

# Lines by kind; `kv` is a key-value line inside an AttributeUserData, AttributeExtensions or
# AttributeReason(s) block (C print) or a KVList block (PSDK print).
LINE_KINDS = ("kv", "opener", "attribute", "message-header", "event", "sip", "decoy", "file-header")
SENSITIVE = ("PASSWORD", "CardNumber", "AccountNumber", "CustomerName", "Email", "SSN", "PIN")
CUSTOMER = "CUSTOMER"

# Shares of the fragment pool by kind: tuned so that about 35 % of the lines are KV lines
# and about 10 % of the messages are PSDK prints (see --describe).
POOL_SIZE = 4096
POOL_MIX = {
    "c-tab": 0.215,
    "c-space": 0.055,
    "c-plain": 0.085,
    "psdk": 0.04,
    "events": 0.345,
    "sip": 0.07,
    "decoys": 0.19,
}
# Share of the UserData blocks (tab or PSDK layout) that hold nested lists; Extensions,
# Reason and space-layout blocks hold none, so the share over all KV blocks is about 7 %.
P_NESTED = 0.125
# Chance of each sensitive key in a UserData block; tuned to about 2,000 values per MB
# masked under configs/perkey.ini (CustomerName is tagged there and PIN skipped). Keys
# rarer than RARE are spread evenly over the pool instead of drawn (see Chooser.share).
P_KEY = {
    "PASSWORD": 0.64,
    "CardNumber": 0.64,
    "AccountNumber": 0.62,
    "CustomerName": 0.5,
    "Email": 0.64,
    "PIN": 0.10,
    "SSN": 0.0055,
}
RARE = 0.2
BATCH = 4096


# ---------------------------------------------------------------- fragments


@dataclass(frozen=True, slots=True)
class Slot:
    """A place in a fragment, filled at each emission from the value pool named `kind`."""

    kind: str


Piece = str | Slot

TS = Slot("ts")  # 10:26:01.551
TSP = Slot("tsp")  # 2026-11-22 10:15:01,120 (PSDK logs run on their own clock)
CONNID = Slot("connid")
UUID = Slot("uuid")
ANI = Slot("ani")


@dataclass(frozen=True, slots=True)
class Value:
    """A KV value: quoted text unless `bare` (an integer, or a binary value if `binary`)."""

    piece: Piece
    bare: bool = False
    binary: bool = False


@dataclass(frozen=True, slots=True)
class Leaf:
    """One key-value pair."""

    key: str
    value: Value


@dataclass(frozen=True, slots=True)
class Nested:
    """A nested list; in the C print its first child (a Leaf) shares the list's line."""

    key: str
    children: tuple[Leaf | Nested, ...] = ()


Node = Leaf | Nested
# A KV pair as logfilter meets it, in print order: (kind, key, depth), kind one of
# "leaf", "list" or "suppressed" (a PSDK `'key' [output suppressed]` line).
PairRecord = tuple[str, str, int]


@dataclass(slots=True)
class Fragment:
    """Template text with `%s` slots, and the bookkeeping of what it holds."""

    text: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)
    tally: Counter[str] = field(default_factory=Counter)
    pairs: list[PairRecord] = field(default_factory=list)

    def line(self, kind: str, *pieces: Piece) -> None:
        """Append one line of the given kind (one of LINE_KINDS)."""
        for piece in pieces:
            if isinstance(piece, Slot):
                self.text.append("%s")
                self.slots.append(piece.kind)
            else:
                self.text.append(piece.replace("%", "%%"))
        self.text.append("\n")
        self.tally[kind] += 1

    def pair(self, kind: str, key: str, depth: int, under: str | None) -> None:
        """Record a KV pair and, for sensitive keys, the value it holds."""
        self.pairs.append((kind, key, depth))
        if kind == "list":
            if key == CUSTOMER and under is None:
                self.tally["value:CUSTOMER"] += 1
        elif under == CUSTOMER:
            self.tally["value:CUSTOMER/*"] += 1
        elif key in SENSITIVE:
            self.tally[f"value:{key}"] += 1

    def template(self, eol: str) -> bytes:
        """The `%`-template, with `eol` line endings."""
        return "".join(self.text).replace("\n", eol).encode()


# ---------------------------------------------------------------- random choices


class Chooser(random.Random):
    """The seeded random source fragments are built with; it can also spread rare features evenly."""

    def __init__(self, seed: int) -> None:
        self._owed: Counter[str] = Counter()
        super().__init__(seed)

    def share(self, name: str, fraction: float) -> bool:
        """True for `fraction` of the calls naming `name`, evenly spaced.

        Used for what only a few fragments of the pool hold (nested lists, SSN): random draws
        would let their share in the corpus swing with the seed.
        """
        self._owed[name] += fraction
        if self._owed[name] >= 1:
            self._owed[name] -= 1
            return True
        return False


# ---------------------------------------------------------------- value pools

_FIRST = (
    "Jane", "John", "Zoë", "Åsa", "Siobhán", "Chris", "Ana María", "Björn", "Noémie", "Kenji", "Priya",
    "Olu", "Mateus", "Dwayne", "Li", "Fatima", "Łukasz", "Ingrid", "Tomás", "Amara", "Yuki", "Pedro",
)
_LAST = (
    "Roe", "Doe", "Ångström", "O'Brien", "Núñez", "Example", "Sample", "Lefèvre", "Nakamura", "Okafor",
    "Silva", "Müller", "Kowalski", "Haddad", "Jensen", "Testperson", "Van der Berg", "Ní Bhriain",
)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PW_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#$&*-_.@"


def _times(rng: Chooser, count: int, form: str) -> list[str]:
    """`count` sorted times of one day, formatted; drawn in order they make a clock."""
    stamps = sorted(rng.randrange(86_400_000) for _ in range(count))
    return [
        form.format(h=ms // 3_600_000, m=ms // 60_000 % 60, s=ms // 1000 % 60, ms=ms % 1000) for ms in stamps
    ]


def _luhn(rng: Chooser) -> str:
    """A 16-digit card number with a valid check digit, from the public test ranges' prefixes."""
    digits = [int(c) for c in rng.choice(("4111", "4012", "5555", "5105", "6011", "4917"))]
    digits += [rng.randrange(10) for _ in range(11)]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str(-total % 10)


def _name(rng: Chooser) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _email(rng: Chooser) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    local = local.replace(" ", "").replace("'", "").replace("ł", "l").lower()
    return f"{local}{rng.choice(('', '+crm', str(rng.randrange(100))))}@example.com"


def _account(rng: Chooser) -> str:
    form = rng.randrange(4)
    if form == 0:
        return f"ACCT-{rng.randrange(10**8, 10**9)}"
    if form == 1:
        return f"AC-{rng.randrange(10, 10**5)}"
    if form == 2:
        return "".join(rng.choices("0123456789", k=rng.randrange(8, 21)))
    return f"DE89 3704 0044 {rng.randrange(1000, 10000)} {rng.randrange(1000, 10000)} 00"


def _password(rng: Chooser) -> str:
    return "".join(rng.choices(_PW_CHARS, k=rng.randrange(8, 18)))


def _pools(rng: Chooser) -> dict[str, list[str]]:
    """The values slots are filled from, each pool a different size so combinations vary."""
    return {
        "ts": _times(rng, 1 << 16, "{h:02}:{m:02}:{s:02}.{ms:03}"),
        "tsp": _times(rng, 1 << 14, "2026-11-22 {h:02}:{m:02}:{s:02},{ms:03}"),
        "connid": [f"00{rng.getrandbits(56):014x}" for _ in range(4093)],
        "uuid": ["".join(rng.choices(_ALNUM, k=32)) for _ in range(2039)],
        "seq": [f"{rng.getrandbits(24):016x}" for _ in range(1031)],
        "usecs": [str(rng.randrange(1_000_000)) for _ in range(1033)],
        "ani": [f"555{rng.randrange(10**7):07d}" for _ in range(2027)],
        "callid": [f"{rng.getrandbits(32):08X}-{rng.randrange(10**4):04d}@10.0.0.{rng.randrange(2, 250)}"
                   for _ in range(1019)],
        "password": [_password(rng) for _ in range(3001)],
        "card": [_luhn(rng) for _ in range(3011)],
        "account": [_account(rng) for _ in range(2999)],
        "accountnum": [str(rng.randrange(10**7, 10**12)) for _ in range(1021)],
        "name": [_name(rng) for _ in range(2003)],
        "email": [_email(rng) for _ in range(2011)],
        "ssn": [f"9{rng.randrange(10, 100)}-{rng.randrange(10, 100)}-{rng.randrange(1000, 10000)}"
                for _ in range(257)],
        "pin": [f"{rng.randrange(10**4):04d}" for _ in range(509)],
        "phone": [f"555-0100-{rng.randrange(10**4):04d}" for _ in range(1009)],
        "street": [f"{rng.randrange(1, 300)} {rng.choice(('Synthetic', 'Example', 'Sample'))} "
                   f"{rng.choice(('Lane', 'Road', 'Street', 'Allee'))}" for _ in range(503)],
        "city": [rng.choice(("Example", "Sample", "Test")) + rng.choice(("ville", "town", "burg", "stadt"))
                 for _ in range(61)],
        "zip": [f"{rng.randrange(10**5):05d}" for _ in range(499)],
        "int": [str(rng.randrange(1, 10**4)) for _ in range(997)],
    }


# ---------------------------------------------------------------- vocabulary

_DNS = ("8410", "8411", "8412", "9001", "9002", "9003", "2214", "7001")
_APPS = ("URS_750", "ORS_01", "WDE_Agent_9001", "WDE_Agent_9002", "StatServer_01", "ICON_main", "OCS_01")
_CLIENTS = (
    "[12] (00000003 URS_750 10.0.0.30:40212)", "[9] (00000007 ORS_01 10.0.1.40:51012)",
    "[13] (00000011 WDE_Agent_9001 10.0.0.21:51234)", "[14] (00000012 WDE_Agent_9002 10.0.1.22:50110)",
    "[17] (00000015 OCS_01 10.0.0.44:7100)",
)

# Non-sensitive UserData keys: each maps to the values it takes (str quoted, int bare, Slot quoted).
Choices = tuple[str | int | Slot, ...]
_USER_DATA: dict[str, Choices] = {
    "RTenant": ("Resources", "Environment"),
    "RTargetRuleSelected": ("", "Rule #2: 'VIP' > any", "Gold first"),
    "RTargetTypeSelected": ("0", "1", "2"),
    "RTargetObjectSelected": ("VQ_Billing_Gold", "VQ_Support", "SG_Sales_FR", ""),
    "RTargetAgentSelected": ("Agent9001", "Agent9002", "Agent7001"),
    "RTargetPlaceSelected": ("Place_9001", "Place_9002"),
    "RTargetObjSelDBID": (101, 117, 2041),
    "RStrategyName": ("Billing Gold > Skill(1)", "Main_Inbound", "Overflow at 80% load"),
    "RStrategyDBID": (1204, 1188, 99),
    "RVQID": ("VQ_Billing_Gold", "VQ_Support"),
    "RVQDBID": (311, 312, 409),
    "RTR": (115, 0, 2),
    "PegAG?:Skill1 > 1": (1, 0),
    "PegAG?:Skill2 > 3 & Lang=\"fr\"": (0, 1),
    "CBR-actual_volume": ("", "1"),
    "CBR-Interaction_cost": ("",),
    "CBR-IT-path_DBIDs": ("", "201,207"),
    "CBR-contract_DBIDs": ("",),
    "GSW_CALL_RESULT": (33, 28, 9),
    "GSW_RECORD_HANDLE": (Slot("int"),),
    "GSW_CAMPAIGN_NAME": ("Renewals_Q4", "Winback Gold"),
    "GSW_CALLING_LIST": ("CL_Renewals_01", "CL_Winback"),
    "GSW_APPLICATION_ID": (117, 220),
    "GSW_ATTEMPTS": (1, 2, 3),
    "GSW_PHONE": (ANI,),
    "GSW_CHAIN_ID": (Slot("int"),),
    "DNIS": _DNS[:3],
    "ANI": (ANI,),
    "ORIGINAL_ANI": (ANI,),
    "IW_CaseUid": (UUID,),
    "IW_BundleUid": (UUID,),
    "IW_OriginatingConnID": (CONNID,),
    "RECORD_ID": (Slot("int"),),
    "ServiceType": ("Billing", "Support", "Sales"),
    "Language": ("English", "Français", "Deutsch"),
    "Segment": ("Gold", "Silver", "Bronze"),
    "Disposition": ("Resolved - first contact", "Billing: card update (verified)", ""),
    "GDPR consent?": ("yes", "no"),
    "AgentNote": ("caller said 'call back' after 5pm", "ok; see 'wrap-up' tab", "Kundenkonto geprüft"),
    "LastAgent": ("Agent 9001 / Team Ä-Nord", "Agent 9002"),
    "WrapUpMinutes": (4, 2, 11),
    "Attempts": (1, 2),
    "ActivityID": ("1-XXXXXX", "1-XXXXXY", "1-4Z9QQ"),
}
_EXTENSIONS: dict[str, Choices] = {
    "BusinessCall": (1, 0),
    "CallHistory": ("ROUTEPOINT:8410", "ROUTEPOINT:8411;QUEUE:VQ_Support"),
    "OtherTrunkName": ("GW_Trunk_01", "GW_Trunk_02"),
    "MediaType": (0, 1),
    "ORIGINAL_ANI": (ANI,),
    "AgentSessionID": ("1A2B3C4D5E6F-ts", "F00D-0001"),
    "CallerIdDisplay": ("Support Line", "Billing"),
    "OtherDNSwitch": ("SIP_Switch", "SIP_Switch_B"),
    "AgentLogin": _DNS[3:6],
    "RetryCount": (0, 1),
    "sip-cti-call-id": (Slot("callid"),),
}
_REASON: dict[str, Choices] = {
    "ReasonCode": ("Break", "AfterCallWork", "Lunch", "Training"),
    "Supervisor note": ("ok; see 'wrap-up' tab", "approved"),
}
_BINARY = ("[8] 4a 42 37 01..", "[16] 00 1f 9c 42..", "[4] de ad be ef..")

# What each sensitive key's value is drawn from.
_SENSITIVE_SLOT = {
    "PASSWORD": Slot("password"),
    "CardNumber": Slot("card"),
    "AccountNumber": Slot("account"),
    "CustomerName": Slot("name"),
    "Email": Slot("email"),
    "SSN": Slot("ssn"),
    "PIN": Slot("pin"),
}

# Messages that carry KV blocks, and which: U(serData), E(xtensions), R(eason).
_KV_MESSAGES = (
    ("EventRinging", "UE"), ("EventEstablished", "UE"), ("EventRouteRequest", "UE"),
    ("EventAttachedDataChanged", "U"), ("EventReleased", "UE"), ("EventQueued", "U"),
    ("EventDiverted", "U"), ("EventPartyChanged", "UE"), ("EventRouteUsed", "U"), ("EventUserEvent", "U"),
    ("EventAgentNotReady", "RE"), ("EventAgentLogin", "E"),
    ("RequestAttachUserData", "U"), ("RequestUpdateUserData", "U"), ("RequestRouteCall", "UE"),
    ("RequestAgentNotReady", "RE"), ("RequestMakeCall", "UE"), ("RequestInitiateTransfer", "U"),
    ("RequestSetCallInfo", "U"), ("RequestDistributeUserEvent", "U"),
)
_PLAIN_MESSAGES = (
    "EventDialing", "EventACK", "EventAgentReady", "EventNetworkReached", "EventAbandoned", "EventHeld",
    "EventRetrieved", "EventDNBackInService", "RequestQueryAddress", "RequestAnswerCall",
    "RequestReleaseCall", "RequestRegisterAddress", "EventRegistered",
)
_REQUESTS = tuple(n for n, _ in _KV_MESSAGES if n.startswith("Request")) + (
    "RequestQueryAddress", "RequestAnswerCall", "RequestReleaseCall")
_EVENTS = tuple(n for n, _ in _KV_MESSAGES if n.startswith("Event")) + (
    "EventDialing", "EventAgentReady", "EventAbandoned", "EventHeld", "EventRetrieved")
_PSDK_IDS = {
    "EventRinging": 64, "EventEstablished": 65, "EventReleased": 66, "EventAttachedDataChanged": 91,
    "EventAgentNotReady": 75, "RequestAttachUserData": 30, "RequestUpdateUserData": 31,
    "RequestAgentNotReady": 26, "EventRouteRequest": 71, "EventPartyChanged": 84,
}


def _value(rng: Chooser, choices: Choices) -> Value:
    picked = rng.choice(choices)
    return Value(str(picked), bare=True) if isinstance(picked, int) else Value(picked)


def _sensitive(rng: Chooser, key: str, psdk: bool) -> Value:
    """A sensitive key's value: mostly quoted text, sometimes empty, an integer or binary."""
    roll = rng.random()
    if roll < 0.04:
        return Value("")
    if key == "PIN" and roll < 0.5:
        return Value(Slot("pin"), bare=True)
    if key == "AccountNumber" and roll < 0.09:
        return Value(Slot("accountnum"), bare=True)
    if key == "PASSWORD" and roll < 0.07 and not psdk:
        return Value(rng.choice(_BINARY), bare=True, binary=True)
    return Value(_SENSITIVE_SLOT[key])


def _customer(rng: Chooser) -> Nested:
    """The CUSTOMER list: personal data, sometimes an address or preferences list inside."""
    children: list[Node] = [Leaf("NAME", Value(Slot("name")))]
    for key, slot in (("ACCOUNT", "card"), ("PHONE", "phone"), ("EMAIL", "email")):
        if rng.random() < 0.7:
            children.append(Leaf(key, Value(Slot(slot))))
    if rng.random() < 0.45:  # a second level
        address = [Leaf("STREET", Value(Slot("street"))), Leaf("CITY", Value(Slot("city")))]
        if rng.random() < 0.5:
            address.append(Leaf("ZIP", Value(Slot("zip"))))
        children.append(Nested("ADDRESS", tuple(address)))
    if rng.random() < 0.2:
        children.append(Nested("PREFS", (Leaf("LANG", Value(rng.choice(("de-DE", "fr-FR", "en-GB")))),
                                         Leaf("NEWSLETTER", Value("0", bare=True)))))
    children.append(Leaf(rng.choice(("VIP", "TIER")), _value(rng, (0, 1, "Gold", "Silver"))))
    return Nested(CUSTOMER, tuple(children))


def _nested_lists(rng: Chooser) -> list[Node]:
    """The nested lists of one block: a CUSTOMER list, requested skills, or both."""
    roll = rng.random()
    lists: list[Node] = []
    if roll < 0.75:
        lists.append(_customer(rng))
    if roll >= 0.55:
        skills = () if rng.random() < 0.6 else (
            Leaf("Billing", Value("5", bare=True)), Leaf("Français", Value("7", bare=True)),
            Leaf("Kundenkonto Stufe", Value("Gold")))
        lists.append(Nested("RRequestedSkills", skills))
    return lists


def _kv_block(rng: Chooser, which: str, *, nested_ok: bool, psdk: bool) -> tuple[list[Node], bool]:
    """The pairs of one KV block, in print order, and whether it holds nested lists."""
    if which == "E":
        keys = rng.sample(sorted(_EXTENSIONS), rng.randrange(1, 5))
        nodes: list[Node] = [Leaf(k, _value(rng, _EXTENSIONS[k])) for k in keys]
        if rng.random() < 0.06:
            nodes.append(Leaf("Email", _sensitive(rng, "Email", psdk)))
        return nodes, False
    if which == "R":
        nodes = [Leaf("ReasonCode", _value(rng, _REASON["ReasonCode"]))]
        if rng.random() < 0.3:
            nodes.append(Leaf("PASSWORD", _sensitive(rng, "PASSWORD", psdk)))
        if rng.random() < 0.3:
            nodes.append(Leaf("Supervisor note", _value(rng, _REASON["Supervisor note"])))
        return nodes, False
    keys = rng.sample(sorted(_USER_DATA), rng.randrange(3, 14))
    nodes = [Leaf(k, _value(rng, _USER_DATA[k])) for k in keys]
    for key, chance in P_KEY.items():
        if rng.share(key, chance) if chance < RARE else rng.random() < chance:
            nodes.insert(rng.randrange(len(nodes) + 1), Leaf(key, _sensitive(rng, key, psdk)))
    if not psdk and rng.random() < 0.03:
        nodes.append(Leaf("BinToken", Value(rng.choice(_BINARY), bare=True, binary=True)))
    nested = nested_ok and rng.share("nested", P_NESTED)
    if nested:
        for node in _nested_lists(rng):
            nodes.insert(rng.randrange(len(nodes) + 1), node)
    return nodes, nested


# ---------------------------------------------------------------- rendering KV blocks


def _c_value(value: Value) -> tuple[Piece, ...]:
    return (value.piece,) if value.bare else ("'", value.piece, "'")


def _c_tab_pairs(frag: Fragment, nodes: Sequence[Node], depth: int = 0, under: str | None = None) -> None:
    indent = "\t" * (depth + 2)
    for node in nodes:
        if isinstance(node, Leaf):
            frag.line("kv", indent, f"'{node.key}'\t", *_c_value(node.value))
            frag.pair("leaf", node.key, depth, under)
            frag.tally["binary"] += node.value.binary
            continue
        frag.pair("list", node.key, depth, under)
        inner = under or node.key
        if not node.children:
            frag.line("kv", indent, f"'{node.key}'(list) ")
            continue
        first, *rest = node.children
        assert isinstance(first, Leaf), "a C list prints a leaf on its own line"
        frag.line("kv", indent, f"'{node.key}'(list) '{first.key}'\t", *_c_value(first.value))
        frag.pair("leaf", first.key, depth + 1, inner)
        _c_tab_pairs(frag, rest, depth + 1, inner)


def _c_space_pairs(frag: Fragment, nodes: Sequence[Node], indent: str) -> None:
    width = max(len(node.key) for node in nodes) + 4
    for node in nodes:
        assert isinstance(node, Leaf), "the space layout is printed without nested lists"
        frag.line("kv", indent, f"'{node.key}'".ljust(width), *_c_value(node.value))
        frag.pair("leaf", node.key, 0, None)
        frag.tally["binary"] += node.value.binary


def _psdk_pairs(frag: Fragment, nodes: Sequence[Node], depth: int = 0, under: str | None = None) -> None:
    indent = "\t" * (depth + 2)
    for node in nodes:
        if isinstance(node, Nested):
            frag.line("kv", indent, f"'{node.key}' [list] = KVList: ")
            frag.pair("list", node.key, depth, under)
            _psdk_pairs(frag, node.children, depth + 1, under or node.key)
        elif node.value.bare:
            frag.line("kv", indent, f"'{node.key}' [int] = ", node.value.piece)
            frag.pair("leaf", node.key, depth, under)
        else:
            frag.line("kv", indent, f"'{node.key}' [str] = \"", node.value.piece, '"')
            frag.pair("leaf", node.key, depth, under)


def _list_header(nodes: Sequence[Node], dots: bool) -> str:
    """The packed-list summary `[N] 00 0c 00 00..`: a plausible size, then the pair count."""
    size = 4 + sum(12 + len(n.key) + (16 if isinstance(n, Leaf) else 40) for n in nodes)
    return f"[{size}] 00 {len(nodes):02x} 00 00" + (".." if dots else "")


# ---------------------------------------------------------------- fragments by kind


Attribute = tuple[str, tuple[Piece, ...]]  # a non-KV attribute: name, printed value


def _c_attributes(rng: Chooser, is_event: bool, is_request: bool) -> list[Attribute]:
    """The non-KV attributes of a C message body, in print order (AttributeConnID last)."""
    dn = rng.choice(_DNS)
    pool: list[Attribute] = [
        ("AttributeThisDN", (f"'{dn}'",)),
        ("AttributeOtherDN", ("'", ANI, "'")),
        ("AttributeANI", ("'", ANI, "'")),
        ("AttributeDNIS", (f"'{rng.choice(_DNS[:3])}'",)),
        ("AttributeCallUUID", ("'", UUID, "'")),
        ("AttributeCallType", (str(rng.choice((1, 2, 3))),)),
        ("AttributeCallState", (str(rng.choice((0, 0, 1, 22))),)),
        ("AttributeThisDNRole", (str(rng.choice((1, 2))),)),
        ("AttributeAgentID", (f"'Agent{rng.choice(_DNS[3:6])}'",)),
        ("AttributeThisQueue", (f"'{rng.choice(_DNS[:3])}'",)),
        ("AttributeCustomerID", ("'Resources'",)),
        ("AttributePropagatedCallType", (str(rng.choice((1, 2))),)),
        ("AttributeCallID", (Slot("int"),)),
    ]
    attrs = rng.sample(pool, rng.randrange(1, 6))
    if is_event:
        attrs[:0] = [
            ("AttributeEventSequenceNumber", (Slot("seq"),)),
            ("AttributeTimeinuSecs", (Slot("usecs"),)),
            ("AttributeTimeinSecs", (str(1_700_000_000 + rng.randrange(10**5)),)),
        ]
    if is_request:
        attrs.insert(0, ("AttributeReferenceID", (str(rng.randrange(1, 400)),)))
    attrs.append(("AttributeConnID", (CONNID,)))
    return attrs


def _c_header(rng: Chooser, frag: Fragment, name: str, layout: str) -> None:
    """The lines that open a C message print: the six header forms of formats.md §2."""
    # Servers print events they distribute (0, 4) and requests they receive (1); clients
    # print what they send (2) and receive (3, 5). The space layout is shown with 0, 1 and 4.
    if name.startswith("Event"):
        form = rng.choice((0, 4) if layout == "space" else (0, 0, 3, 4, 5))
    else:
        form = 1 if layout == "space" else rng.choice((1, 1, 2))
    if form == 0:
        frag.line("message-header", "@", TS, f"0 [0] 8.1.103.74 distribute_event: message {name}")
    elif form == 1:
        frag.line("event", TS, f" Trc 04541 {name} received from {rng.choice(_CLIENTS)}")
        frag.line("message-header", f"message {name}")
    elif form == 2:
        frag.line("message-header", f"request to 65200(TServer) message {name}")
    elif form == 3:
        frag.line("message-header", f"received from 65200(SIPTS750)host:7007(fd=) message {name}")
    elif form == 4:
        direction = rng.choice(("received from 65200 (\"SIPTS750@3020\")", "sent to 12 (\"URS_750\")"))
        frag.line("message-header", TS, f" Int 04543 Interaction message \"{name}\" {direction}")
    else:  # 5
        sender = "'sip_01@+4389'"
        frag.line("message-header", "2026-11-22T", TS, f" Trc 04541 Message {name} received from {sender}")


def _c_message(rng: Chooser, layout: str) -> Fragment:
    """A C-print message with KV blocks (tab or space layout) and the events around it."""
    frag = Fragment()
    name, blocks = rng.choice(_KV_MESSAGES)
    _c_header(rng, frag, name, layout)
    # The body: attributes, and the KV blocks ("U", "E", "R") among them.
    is_event = name.startswith("Event")
    attrs: list[Attribute | str] = list(_c_attributes(rng, is_event, not is_event))
    which = [b for b in blocks if rng.random() < (0.9 if b != "E" else 0.5)] or [blocks[0]]
    for block in which:
        attrs.insert(rng.randrange(3 if is_event else 1, len(attrs)), block)
    # The space layout as the vendor documents it: names padded to a column, pairs indented
    # to just before the value column (or 8 blanks under 4-blank attributes), no `..`.
    attr_indent, pad, kv_indent = ("\t", 0, "") if layout == "tab" else rng.choice(
        (("  ", 26, " " * 27), ("    ", 30, " " * 8)))
    for item in attrs:
        if not isinstance(item, str):
            label, value = item
            frag.line("attribute", attr_indent, _label(label, pad), *value)
            continue
        nodes, nested = _kv_block(rng, item, nested_ok=layout == "tab", psdk=False)
        label = {"U": "AttributeUserData", "E": "AttributeExtensions", "R": "AttributeReason"}[item]
        frag.tally["block"] += 1
        frag.tally["block-nested"] += nested
        frag.line("opener", attr_indent, _label(label, pad), _list_header(nodes, dots=layout == "tab"))
        if layout == "tab":
            _c_tab_pairs(frag, nodes)
        else:
            _c_space_pairs(frag, nodes, kv_indent)
    frag.tally[f"message:{layout}"] += 1
    _follow_up(rng, frag, name)
    return frag


def _label(name: str, pad: int) -> str:
    """An attribute name and the blanks before its value: a TAB, or blanks up to column `pad`."""
    return f"{name}\t" if not pad else name + " " * max(1, pad - len(name))


def _follow_up(rng: Chooser, frag: Fragment, name: str) -> None:
    if name.startswith("Request"):
        reply = "EventAttachedDataChanged" if "UserData" in name else "EventACK"
        frag.line("event", TS, f" Trc 04542 {reply} sent to {rng.choice(_CLIENTS)}")
    elif rng.random() < 0.6:
        frag.line("event", TS, f" Int 04543 Interaction message \"{name}\" sent to 12 (\"URS_750\")")
        if rng.random() < 0.5:
            frag.line("event", TS, f" Trc 04542 {name} sent to {rng.choice(_CLIENTS)}")


def _c_plain(rng: Chooser) -> Fragment:
    """A C-print message without KV blocks."""
    frag = Fragment()
    name = rng.choice(_PLAIN_MESSAGES)
    layout = "tab" if rng.random() < 0.8 else "space"
    _c_header(rng, frag, name, layout)
    indent, pad = ("\t", 0) if layout == "tab" else ("  ", 26)
    for label, value in _c_attributes(rng, name.startswith("Event"), name.startswith("Request")):
        frag.line("attribute", indent, _label(label, pad), *value)
    frag.tally[f"message:{layout}"] += 1
    _follow_up(rng, frag, name)
    return frag


def _psdk_message(rng: Chooser) -> Fragment:
    """A Platform SDK print (Workspace, GMS): typed attributes, KVList blocks, app log lines."""
    frag = Fragment()
    name = rng.choice(sorted(_PSDK_IDS))
    blocks = dict(_KV_MESSAGES)[name]
    verb = "Received" if name.startswith("Event") else "Sending"
    frag.line("event", TSP, f" DEBUG [Thread-12] c.g.p.TServerProtocol - {verb} message:")
    frag.line("message-header", f"'{name}' ('{_PSDK_IDS[name]}')")
    frag.line("attribute", "message attributes:")
    attrs: list[Attribute | str] = [
        ("AttributeConnID [long] = ", (CONNID,)),
        ("AttributeThisDN [str] = ", (f'"{rng.choice(_DNS)}"',)),
        ("AttributeCallUUID [str] = ", ('"', UUID, '"')),
        ("AttributeCallType [int] = ", ("2 [Inbound]",)),
        ("AttributeOtherDN [str] = ", ('"', ANI, '"')),
    ][: rng.randrange(2, 6)]
    if name.startswith("Event"):
        attrs[:0] = [("AttributeEventSequenceNumber [long] = ", (Slot("int"),)),
                     ("AttributeTimeinSecs [int] = ", (str(1_700_000_000 + rng.randrange(10**5)),))]
    else:
        attrs.insert(0, ("AttributeReferenceID [int] = ", (str(rng.randrange(1, 400)),)))
    for block in [b for b in blocks if rng.random() < 0.9] or [blocks[0]]:
        attrs.insert(rng.randrange(1, len(attrs) + 1), block)
    for item in attrs:
        if not isinstance(item, str):
            frag.line("attribute", item[0], *item[1])
            continue
        label = {"U": "AttributeUserData", "E": "AttributeExtensions", "R": "AttributeReasons"}[item]
        _psdk_block(rng, frag, (f"{label} [bstr] = KVList: ",), item)
    frag.tally["message:psdk"] += 1
    if rng.random() < 0.15:  # a bare KVList block at the end of an app log line
        opener = (TSP, " DEBUG [Thread-14] c.g.w.c.CaseDataPresenter - Case data after merge: KVList: ")
        _psdk_block(rng, frag, opener, "U")
    for _ in range(rng.randrange(0, 3)):
        frag.line("event", *rng.choice(_PSDK_EVENTS))
    return frag


def _psdk_block(rng: Chooser, frag: Fragment, opener: tuple[Piece, ...], which: str) -> None:
    """A PSDK KVList block under its opener line (which ends in `KVList: `)."""
    nodes, nested = _kv_block(rng, which, nested_ok=True, psdk=True)
    frag.line("opener", *opener)
    frag.tally["block"] += 1
    frag.tally["block-nested"] += nested
    _psdk_pairs(frag, nodes)
    if rng.random() < 0.05:  # a value the PSDK already hid
        frag.line("kv", "\t\t'DateOfBirth' [output suppressed]")
        frag.pair("suppressed", "DateOfBirth", 0, None)
    if which == "U" and rng.random() < 0.04:  # a GMS value holding a printed KVList, with inner quotes
        frag.line("kv", "\t\t'gms_context' [str] = \"[KVList: 'offer_name' [str] = \"VIP card\" "
                        "'type' [str] = \"9\"]\"")
        frag.pair("leaf", "gms_context", 0, None)


_PSDK_EVENTS: tuple[tuple[Piece, ...], ...] = (
    (TSP, " DEBUG [Thread-12] c.g.w.v.InteractionVoice - Interaction created for ConnID ", CONNID,
     ", state Ringing"),
    (TSP, " INFO  [AWT-EventQueue-0] c.g.w.v.InteractionVoice - Agent answered; case data shown"),
    (TSP, " INFO  [AWT-EventQueue-0] c.g.w.a.AgentStatus - Agent 2214 is Not Ready (Break)"),
    (TSP, " DEBUG [pool-3-thread-1] c.g.w.s.StatisticsService - Statistic 'CurrentNumberWaitingCalls' = ",
     Slot("int")),
)
_EVENT_TEXTS: tuple[tuple[Piece, ...], ...] = (
    (" Std 04560 Call ", CONNID, " released, duration ", Slot("int"), " sec"),
    (" Std 04560 [13] Client WDE_Agent_9001 updated user data of call ", CONNID),
    (" Dbg 09900 SIPTR: timer TIMER_B armed for transaction ", Slot("int"), " (32000 ms)"),
    (" Dbg 09901 SIPTR(", Slot("int"), "): Begin transaction - INVITE"),
    (" Dbg 09902 SIPTR(", Slot("int"), "): Transaction completed, state TERMINATED"),
    (" Std 04503 Connection to server 'StatServer_01' at host 'stat01', port 7023 opened"),
    (" Int 04545 Interaction ", CONNID, " is moved from queue '8410' to queue 'VQ_Billing_Gold'"),
    (" Std 05090 Statistics: ", Slot("int"), " calls in progress, 212 agents logged in"),
    (" Trc 04524 Dialing: DN 9001, destination ", ANI),
    (" Std 04558 Backup synchronization: ", Slot("int"), " records sent"),
    (" Alr 04504 Connection to server 'ConfigServer' at host 'cfg01', port 2020 lost"),
    (" Std 04521 Agent Agent9002 logged in on DN 9002, place Place_9002"),
    (" Dbg 09905 HA: heartbeat from backup 10.0.0.11:7001 ok"),
)


def _events(rng: Chooser) -> Fragment:
    """One to four one-line log events."""
    frag = Fragment()
    for _ in range(rng.randrange(1, 5)):
        roll = rng.random()
        if roll < 0.7:
            frag.line("event", TS, *rng.choice(_EVENT_TEXTS))
        elif roll < 0.85:
            frag.line("event", TS, f" Trc 04541 {rng.choice(_REQUESTS)} received from {rng.choice(_CLIENTS)}")
        else:
            frag.line("event", TS, f" Trc 04542 {rng.choice(_EVENTS)} sent to {rng.choice(_CLIENTS)}")
    return frag


def _sip(rng: Chooser) -> Fragment:
    """A raw SIP message as SIP Server dumps it, with an SDP body sometimes (not filtered)."""
    frag = Fragment()
    far = f"10.0.0.{rng.randrange(2, 60)}:5060"
    sdp = rng.random() < 0.4
    method = rng.choice(("INVITE", "INVITE", "ACK", "BYE", "INFO", "OPTIONS", "NOTIFY"))
    lines: list[tuple[Piece, ...]]
    if rng.random() < 0.5:
        status = rng.choice(("100 Trying", "180 Ringing", "200 OK", "200 OK", "183 Session Progress"))
        lines = [(f"SIP/2.0 {status}",)]
    else:
        lines = [(f"{method} sip:{rng.choice(_DNS)}@{far} SIP/2.0",)]
    lines += [
        (f"Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK-{rng.getrandbits(32):08x}",),
        ("From: <sip:", ANI, f"@10.0.0.10:5060>;tag={rng.getrandbits(32):08X}-1",),
        (f"To: <sip:{rng.choice(_DNS)}@{far}>",),
        ("Call-ID: ", Slot("callid")),
        (f"CSeq: {rng.randrange(1, 5)} {method}",),
        (f"Contact: <sip:{rng.choice(_DNS)}@10.0.0.10:5060>",),
    ]
    if rng.random() < 0.5:
        lines += [
            ("Max-Forwards: 70",),
            ("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, REFER, UPDATE",),
            ("Supported: timer, replaces, 100rel",),
        ]
    if rng.random() < 0.5:
        lines.append(("X-Genesys-CallUUID: ", UUID))
    body = [("v=0",), (f"o=- {rng.randrange(10**5)} 1 IN IP4 10.0.0.5",), ("s=-",), ("c=IN IP4 10.0.0.5",),
            ("t=0 0",), (f"m=audio {rng.randrange(20000, 40000, 2)} RTP/AVP 0 101",),
            ("a=rtpmap:101 telephone-event/8000",)] if sdp else []
    lines += [("Content-Type: application/sdp",)] if sdp else []
    lines += [(f"Content-Length: {sum(len(str(line[0])) + 2 for line in body)}",), ("",), *body]
    size = sum(sum(len(p) if isinstance(p, str) else 12 for p in line) + 2 for line in lines)
    if rng.random() < 0.5:
        frag.line("sip", f"Sending  [0,UDP] {size} bytes to {far} >>>>>")
    else:
        frag.line("sip", f"Received [0,UDP] {size} bytes from {far} <<<<<")
    for line in lines:
        frag.line("sip", *line)
    return frag


def _decoys(rng: Chooser) -> Fragment:
    """Lines that look like KV pairs but sit outside every block: they start in column 0."""
    frag = Fragment()
    for _ in range(rng.randrange(1, 3)):
        key = rng.choice(SENSITIVE[:5])
        value = _SENSITIVE_SLOT[key]
        form = rng.randrange(10)
        if form < 3:
            refid = rng.randrange(1, 12)
            frag.line("decoy", "_I_I_", CONNID, f" [14:0c] RLIB: refid({refid})\t",
                      rng.choice(("1", "3", "'ApplyRule'", "'GetUserData'")))
        elif form == 3:
            frag.line("decoy", "_I_I_", CONNID, f" [09:04] ASSIGN: v{key}(LOCAL) <- STRING: \"", value, '"')
        elif form == 4:
            frag.line("decoy", "_I_I_", CONNID, " [01:06] strategy: **ORS** Billing_Gold (1204) is attached")
        elif form == 5:
            frag.line("decoy", TS, f" Dbg 09912 BSYNC: '{key}' '", value, "' (not user data)")
        elif form == 6:
            frag.line("decoy", TS, " Int 04544 ISCC: transaction 'route' from 65201(SIPTS_B): 'RECORD_ID' '",
                      Slot("int"), f"' '{key}' '", value, "'")
        elif form == 7:
            frag.line("decoy", TS, f" Dbg 09910 strategy trace: key '{key}'\t'", value, "' not yet attached")
        elif form == 8:
            frag.line("decoy", TSP, " WARN  [Thread-14] c.g.w.c.CaseDataPresenter - Key 'PASSWORD' = \"",
                      Slot("password"), "\" is not in the case-data business attribute (ignored)")
        else:
            frag.line("decoy", f"'{key}'\t'", value, "'")
    return frag


_BUILDERS = {
    "c-tab": lambda rng: _c_message(rng, "tab"),
    "c-space": lambda rng: _c_message(rng, "space"),
    "c-plain": _c_plain,
    "psdk": _psdk_message,
    "events": _events,
    "sip": _sip,
    "decoys": _decoys,
}


def _file_header() -> Fragment:
    frag = Fragment()
    for text in (
        "Genesys SIP Server 8.1.103.74 (synthetic benchmark corpus)",
        "Application name: SIPTS750",
        "Application type: SIPServer",
        "Host name: sipsrv01.example.com",
        "Local time: 2026-11-22T00:00:00.000",
        "Log file name: /var/log/genesys/SIPTS750.20261122_000000_000.log",
        "",
    ):
        frag.line("file-header", text)
    frag.line("event", "00:00:00.000 Std 05060 Log file opened")
    return frag


# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True, slots=True)
class Rules:
    """What a filter configuration does to each pair, enough to predict `logfilter --stats`."""

    default: str  # the filter type's option text, e.g. "hide" or "unhide-last,4"
    keys: Mapping[str, str]

    @classmethod
    def load(cls, path: Path) -> Rules:
        """Read [log-filter] default-filter-type and [log-filter-data] rules (logfilter validates them)."""
        default, keys, section = "copy", {}, ""
        for raw in path.read_text(encoding="utf-8-sig").splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[] ")
                continue
            name, _, text = (part.strip() for part in line.partition("="))
            if section == "log-filter" and name == "default-filter-type":
                default = text or "copy"
            elif section == "log-filter-data":
                keys[name] = text
        return cls(default, keys)

    def action(self, key: str) -> str | None:
        """What the rule for `key` does (copy, mask, tag or skip); None without a rule."""
        text = self.keys.get(key)
        return None if text is None else _action(text)


def _action(filter_type: str) -> str:
    if filter_type in ("", "copy"):
        return "copy"
    if filter_type.startswith("tag"):
        return "tag"
    return "skip" if filter_type == "skip" else "mask"


def expected_counts(rules: Rules, pairs: Sequence[PairRecord]) -> Counter[str]:
    """The pair counts logfilter reports for one block's pairs, as its engine decides them.

    A rule on a list key applies to everything inside the list (the outermost ruled list wins);
    a skipped list's lines are dropped unread. Lines the PSDK already suppressed are copied.
    """
    counts: Counter[str] = Counter()
    stack: list[tuple[int, str | None, bool]] = []  # (depth, inherited rule, dropped)
    for kind, key, depth in pairs:
        while stack and stack[-1][0] >= depth:
            stack.pop()
        inherited, dropped = (stack[-1][1], stack[-1][2]) if stack else (None, False)
        if dropped:
            continue
        counts["pairs"] += 1
        own = rules.action(key)
        if kind == "list":
            rule = inherited or own
            stack.append((depth, rule, rule == "skip"))
            counts["skipped"] += rule == "skip"
            continue
        chosen = inherited or own or _action(rules.default)
        if chosen == "skip":
            counts["skipped"] += 1
        elif kind == "suppressed" or chosen == "copy":
            counts["copied"] += 1
        else:
            counts["tagged" if chosen == "tag" else "masked"] += 1
    return counts


class Corpus:
    """A seeded corpus: fragments built once from the seed, then drawn in a seeded order."""

    def __init__(self, seed: int = 1, *, crlf: bool = False) -> None:
        rng = Chooser(seed)
        self._pools = {kind: [v.encode() for v in values] for kind, values in _pools(rng).items()}
        fragments: list[Fragment] = []
        for kind, share in POOL_MIX.items():
            fragments += [_BUILDERS[kind](rng) for _ in range(round(share * POOL_SIZE))]
        eol = "\r\n" if crlf else "\n"
        header = _file_header()
        self._header = header.template(eol) % ()
        self._header_tally = header.tally
        self._templates = [frag.template(eol) for frag in fragments]
        self._slots = [tuple(frag.slots) for frag in fragments]
        self._tallies = [frag.tally for frag in fragments]
        self._pairs = [tuple(frag.pairs) for frag in fragments]
        self._draw_seed = rng.getrandbits(64)
        self._uses = [0] * len(fragments)
        self._header_used = False
        self.size = 0

    def chunks(self, size: int, chunk_size: int = 4 * MB) -> Iterator[bytes]:
        """Yield the corpus of about `size` bytes (never more, ending at a line end) in chunks.

        The counts behind `tally` and `expected` describe the last corpus streamed.
        """
        draw = random.Random(self._draw_seed)
        cycles = {kind: itertools.cycle(values) for kind, values in self._pools.items()}
        fills = [tuple(cycles[kind] for kind in kinds) for kinds in self._slots]
        templates = self._templates
        self._uses = uses = [0] * len(templates)
        self._header_used = len(self._header) <= size
        total = len(self._header) if self._header_used else 0
        out = [self._header] if self._header_used else []
        filled = total
        indices = range(len(templates))
        try:
            while True:
                batch = draw.choices(indices, k=BATCH)
                done = 0
                for i in batch:
                    text = templates[i] % tuple(map(next, fills[i]))
                    n = len(text)
                    if total + n > size:
                        break
                    out.append(text)
                    total += n
                    filled += n
                    done += 1
                    if filled >= chunk_size:
                        yield b"".join(out)
                        out, filled = [], 0
                for i, count in Counter(batch[:done]).items():
                    uses[i] += count
                if done < len(batch):
                    break
            if out:
                yield b"".join(out)
        finally:
            self.size = total

    def generate(self, size: int) -> bytes:
        """The corpus of about `size` bytes, in one piece."""
        return b"".join(self.chunks(size))

    def tally(self) -> Counter[str]:
        """Lines by kind, messages, blocks and sensitive values of the last corpus streamed."""
        total: Counter[str] = Counter(self._header_tally if self._header_used else {})
        for tally, uses in zip(self._tallies, self._uses, strict=True):
            if uses:
                for name, count in tally.items():
                    total[name] += count * uses
        return total

    def expected(self, rules: Rules) -> Counter[str]:
        """The pair counts `logfilter run --stats` should report for the last corpus under `rules`."""
        total: Counter[str] = Counter()
        for pairs, uses in zip(self._pairs, self._uses, strict=True):
            if uses and pairs:
                for name, count in expected_counts(rules, pairs).items():
                    total[name] += count * uses
        return total


def generate(size: int, seed: int = 1) -> bytes:
    """A corpus of about `size` bytes (never more), ending at a line end, LF line endings."""
    return Corpus(seed).generate(size)


def parse_size(text: str) -> int:
    """`64M` -> 67108864; K, M and G are binary multiples, a bare number is bytes."""
    text = text.strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    try:
        value = float(number)
    except ValueError:
        msg = f"invalid size {text!r}: expected a number with an optional K, M or G suffix"
        raise argparse.ArgumentTypeError(msg) from None
    return int(value * scale)


# ---------------------------------------------------------------- the command line


def describe(corpus: Corpus, seconds: float, configs: Sequence[Path]) -> str:
    """The report --describe prints: the mix measured over the last corpus streamed."""
    tally = corpus.tally()
    megabytes = corpus.size / MB
    lines = sum(tally[kind] for kind in LINE_KINDS)

    def per_mb(count: int) -> float:
        return count / megabytes if megabytes else 0.0

    speed = megabytes / seconds if seconds else 0.0
    head = f"corpus: {corpus.size:,} bytes ({megabytes:.1f} MB), {lines:,} lines"
    out = [f"{head}, generated in {seconds:.2f} s ({speed:.0f} MB/s)", "lines by kind:"]
    out += [f"  {kind:<16}{100 * tally[kind] / max(lines, 1):6.1f} %" for kind in LINE_KINDS]
    messages = sum(tally[f"message:{layout}"] for layout in ("tab", "space", "psdk"))
    shares = ", ".join(
        f"{label} {100 * tally[f'message:{layout}'] / max(messages, 1):.1f} %"
        for layout, label in (("tab", "C tab"), ("space", "C space"), ("psdk", "PSDK"))
    )
    out.append(f"messages: {messages:,} ({per_mb(messages):,.0f} per MB): {shares}")
    out.append(
        f"KV blocks: {tally['block']:,} ({per_mb(tally['block']):,.0f} per MB), "
        f"{100 * tally['block-nested'] / max(tally['block'], 1):.1f} % with nested lists; "
        f"{per_mb(tally['binary']):.1f} binary values per MB"
    )
    perkey = Rules.load(CONFIGS / "perkey.ini")
    out.append("sensitive values per MB (action under perkey.ini):")
    for key in (*SENSITIVE, CUSTOMER, f"{CUSTOMER}/*"):
        label = f"{key} lists" if key == CUSTOMER else "values in CUSTOMER" if key.endswith("*") else key
        action = perkey.keys.get(key.rstrip("/*"), perkey.default)
        out.append(f"  {label:<20}{per_mb(tally[f'value:{key}']):9.1f}   {action}")
    out.append("expected `logfilter run --stats` counts (per MB):")
    for path in configs:
        counts = corpus.expected(Rules.load(path))
        figures = ", ".join(
            f"{counts[name]:,} {name} ({per_mb(counts[name]):,.0f})"
            for name in ("pairs", "copied", "masked", "tagged", "skipped")
        )
        out.append(f"  {path.name:<12}{lines:,} lines, {figures}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Write a corpus (stdout or -o FILE), or describe one with --describe."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("64M"), help="about this many bytes")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same bytes (1)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument("--crlf", action="store_true", help="CRLF line endings throughout")
    parser.add_argument("--describe", action="store_true",
                        help="print the mix and expected filter counts; write the corpus only with -o")
    parser.add_argument("--config", type=Path, action="append",
                        help="with --describe: a filter.ini to predict counts for (default: configs/*.ini)")
    args = parser.parse_args(argv)
    corpus = Corpus(args.seed, crlf=args.crlf)
    started = time.perf_counter()
    try:
        _write(corpus, args.size, args.output, to_stdout=not args.describe)
        seconds = time.perf_counter() - started
        if args.describe:
            configs = args.config or [CONFIGS / f"{name}.ini" for name in ("perkey", "hide", "rare")]
            print(describe(corpus, seconds, configs), flush=True)
    except BrokenPipeError:
        # `corpus.py | head`: the reader has what it wanted. Python would report the broken
        # pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _write(corpus: Corpus, size: int, output: Path | None, *, to_stdout: bool) -> None:
    if output is not None:
        with open(output, "wb") as stream:
            stream.writelines(corpus.chunks(size))
    elif to_stdout:
        sys.stdout.buffer.writelines(corpus.chunks(size))
        sys.stdout.buffer.flush()
    else:
        for _ in corpus.chunks(size):
            pass


if __name__ == "__main__":
    sys.exit(main())
