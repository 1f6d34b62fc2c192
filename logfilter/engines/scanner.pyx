# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled scanner: the walker's common cases at C speed; every other line goes to the Walker.

`Scanner` is the walk of `run` (engines/registry.py), and with another handler the walk of
`--format jsonl` (json_messages.pyx: told each line it reads), scan (`attend`: told the values
in clear and those to search), keys (`inventory`: told each list and leaf) and `--preview`
(`preview`: told each KV line and its output). It owns no semantics of its own: the
Walker (walker.py) and rules/treatment.py define what is right, and the scanner does in C only
what it is *sure* the walker would do, line by line:

- outside blocks, a free line that holds no KV attribute name and no `KVList:` is passed
  through, its message header (the grammar's MESSAGE_HEADER) counted; a line that is exactly
  a C opener (`[ \\t]*AttributeUserData[ \\t]+header`, no CR in it) opens a block;
- inside a block, a C or PSDK leaf line (a quote after the indent, keys and values that
  tokenise as grammars/tlib.lark says, lists on the line included) is read, looked up and
  rendered as rules/treatment.plan says; a line at the opener's indent or less that names
  an attribute (the message's next one), or a column-0 line that starts with a Genesys time
  stamp (an event), ends the block (blocks.ends).
Everything else, and every line while a value is left open or the block's lists nest more
than MAX_FRAMES deep, is handed to the Walker one line at a time: lines the scanner is not
sure of (CR inside a line, a NUL byte, blank or empty lines, any other line that does not
belong to the block: a doubtful line, which the header's pair count and the value before it
decide, blocks.ended_by; openers of any other shape, PSDK lists and suppressed values, lines that
do not tokenise: they fail closed there). So a change to the walker's rules is inherited,
unless it changes one of the cases above.

State crosses chunks in the Walker: at the end of each `feed` the open block and its lists
are handed to it (Walker.open_block, Walker.take_over), with what the lines read here
left in the block: its top-level pairs (Block.read) and what its last line held (Block.took);
and read back at the start of the next one (and after each line handed over). Counts go into Stats at the end of each feed.
Python is called for `hash` values, detector checks, the counts by filter type and key,
failure reports (through the Walker) and the lines handed over.
tests/unit/test_differential.py holds output, counts and warnings equal to the reference walk.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE, _PyBytes_Resize
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy


cdef extern from "string.h" nogil:
    void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen)

from logfilter.engines.json_messages cimport JsonMessages


from logfilter.engines.blocks import DROP, NORMAL, OPAQUE, Frame, split_eol
from logfilter.engines.render import RenderHandler
from logfilter.engines.walker import REGEX, Walker
from logfilter.identity.reader import line_hint
from logfilter.rules import treatment
from logfilter.rules.unmatched import KeyWatch

cdef enum:
    MAX_FRAMES = 64  # lists open in one block that the scanner keeps; deeper: the walker's
    MAX_CHAIN = 16  # lists opened on one line
    TAB_STOP = 8

cdef enum Gate:  # what a detector's candidates hold (rules/detect.py), a superset of its pattern's matches
    G_PAN = 1  # 13 digits, single blanks or dashes between them
    G_SSN = 2  # 9 such digits, two blanks or dashes among them (AAA-GG-SSSS)
    G_IBAN = 4  # two letters, not after a letter or digit, two digits, then 11 letters or digits (single blanks between)
    G_EMAIL = 8  # an @
    G_PHONE = 16  # a + before a digit 1-9, and 7 digits
    G_ANY = 32  # a detector with no gate here: every value

GATES = {"pan": G_PAN, "ssn": G_SSN, "iban": G_IBAN, "email": G_EMAIL, "phone": G_PHONE}

cdef enum Effect:
    E_COPY, E_SKIP, E_TAG, E_SUPPRESS, E_MASK

cdef enum Mask:
    M_HIDE, M_HASH, M_HIDE_FIRST, M_HIDE_LAST, M_UNHIDE_FIRST, M_UNHIDE_LAST

cdef enum Kind:
    K_STR, K_INT, K_BIN

cdef enum Outcome:
    HANDLED, ENDS, HAND_OVER

cdef enum Last:  # what the last line read here held (blocks.Block.took), not yet told to the walker
    L_UNTOLD_NONE, L_LEAF, L_HIDDEN, L_NO_LEAF

_EFFECTS = {treatment.COPY: E_COPY, treatment.SKIP: E_SKIP, treatment.TAG: E_TAG,
            treatment.SUPPRESS: E_SUPPRESS, treatment.MASK: E_MASK}
_MASKS = {"hide": M_HIDE, "hash": M_HASH, "hide-first": M_HIDE_FIRST, "hide-last": M_HIDE_LAST,
          "unhide-first": M_UNHIDE_FIRST, "unhide-last": M_UNHIDE_LAST}
_ATTRIBUTES = {name: name for name in
               ("AttributeUserData", "AttributeExtensions", "AttributeReason", "AttributeReasons")}
_LAYOUTS = ("c", "psdk")
_KINDS = ("str", "int", "bin")  # Kind's names, as keys shows them
# Every MESSAGE_HEADER match holds one of events.HEADER_HINTS (the C header search looks for
# them), and every PSDK opener KVLIST: a free line without them is no header and opens no PSDK
# block (tests/unit/test_regex_parser.py checks both).
KVLIST = b"KVList:"
cdef bytes HIDDEN = b"****"
cdef bytes SUPPRESSED = treatment.SUPPRESSED.encode()
cdef bytes STARS = b"*" * 256


cdef struct Spec:
    int effect[2]  # by layout: 0 C, 1 PSDK
    int mask
    Py_ssize_t n
    bint watched


cdef struct Pair:
    Py_ssize_t key_start, key_end  # the quoted key
    Py_ssize_t sep_end  # the list mark (with its blanks), or the separator before the value
    Py_ssize_t gap_end  # PSDK: the blanks between key and type


cdef inline bint blank(unsigned char c) noexcept nogil:
    return c == 32 or c == 9


cdef inline Py_ssize_t skip_blanks(const unsigned char *d, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    """Where the blanks (spaces and tabs) from i end."""
    while i < end and blank(d[i]):
        i += 1
    return i


cdef inline bint digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint letter(unsigned char c) noexcept nogil:
    return 65 <= c <= 90 or 97 <= c <= 122


cdef inline Py_ssize_t utf8_step(const unsigned char *s, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    """Bytes of the character at i: a valid UTF-8 sequence, or one undecodable byte (surrogateescape)."""
    cdef unsigned char c = s[i]
    cdef unsigned char lo = 0x80, hi = 0xBF
    if c < 0xC2:
        return 1
    if c < 0xE0:
        return 2 if i + 1 < end and 0x80 <= s[i + 1] <= 0xBF else 1
    if c < 0xF0:
        if c == 0xE0:
            lo = 0xA0
        elif c == 0xED:
            hi = 0x9F
        if i + 2 < end and lo <= s[i + 1] <= hi and 0x80 <= s[i + 2] <= 0xBF:
            return 3
        return 1
    if c < 0xF5:
        if c == 0xF0:
            lo = 0x90
        elif c == 0xF4:
            hi = 0x8F
        if i + 3 < end and lo <= s[i + 1] <= hi and 0x80 <= s[i + 2] <= 0xBF and 0x80 <= s[i + 3] <= 0xBF:
            return 4
    return 1


cdef inline Py_ssize_t advance(const unsigned char *s, Py_ssize_t i, Py_ssize_t end, Py_ssize_t chars) noexcept nogil:
    """The offset `chars` characters after i (or end)."""
    while chars > 0 and i < end:
        i += utf8_step(s, i, end)
        chars -= 1
    return i


cdef inline Py_ssize_t count_chars(const unsigned char *s, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    cdef Py_ssize_t chars = 0
    while i < end:
        i += utf8_step(s, i, end)
        chars += 1
    return chars


def contains_any(bytes buf, list needles):
    """Whether any of `needles` occurs in `buf`: glibc's memmem, three times `in`'s speed on a MiB of
    log (the KeyWatch looks for each waiting rule's key in every chunk)."""
    cdef const char *haystack = PyBytes_AS_STRING(buf)
    cdef size_t size = PyBytes_GET_SIZE(buf)
    cdef bytes needle
    for needle in needles:
        if memmem(haystack, size, PyBytes_AS_STRING(needle), PyBytes_GET_SIZE(needle)) != NULL:
            return True
    return False


def count_lines(bytes data):
    """The line feeds in `data` (Stats.wrote's count of output lines; loops the C compiler vectorizes)."""
    cdef const unsigned char *d = <const unsigned char *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t i = 0, j, n = PyBytes_GET_SIZE(data), found = 0
    cdef unsigned char block
    while n - i >= 255:  # a byte-wide count per 255 bytes: 32 bytes to a vector instruction
        block = 0
        for j in range(255):
            block += d[i + j] == 10
        found += block
        i += 255
    while i < n:
        found += d[i] == 10
        i += 1
    return found


@cython.final
cdef class Scanner:
    """Masks one input stream in chunks of whole lines, equal to a Walker with a RenderHandler."""

    cdef object _walker, _stats, _rules, _rule_for, _first, _detect_rule
    cdef bint _attend  # hand over each line the handler must see (__init__)
    cdef list _tags  # with _attend: the tag prefixes a line is handed over for
    cdef object _on_rule  # with _attend: the handler's in_clear(lineno, quoted key, attribute, rule)
    cdef object _on_search  # with _attend: the handler's search(lineno, quoted key, attribute, value token, among)
    cdef JsonMessages _json  # jsonl: the handler, told of each line read here too (json_messages.pyx); or None
    cdef bint _inventory  # keys: each list and leaf read here is told to the handler (seen_list, seen_leaf)
    cdef object _on_list, _on_leaf
    cdef bint _preview  # --preview: each KV line read here, and its output, is told to the handler (line_seen)
    cdef object _on_line
    cdef int _gates  # the detectors' gates (G_*): `_first` is asked only of a value one lets through
    cdef list _rule_objects, _texts, _prefixes, _postfixes, _changed, _keys, _frame_objects
    cdef dict _index
    cdef Spec *_specs
    cdef int _nspecs, _default, _detect
    cdef bint _exact
    # the exact keys: open addressing over their bytes
    cdef Py_ssize_t _slots
    cdef const char **_slot_key
    cdef Py_ssize_t *_slot_len
    cdef int *_slot_rule
    cdef long long *_slot_changes  # pairs each exact key's own rule changed, added to Stats by _count
    cdef list _slot_quoted  # each slot's key as printed (quoted), where one is
    cdef Py_ssize_t _found_slot  # the slot the last _lookup found, or -1
    # rules that match nothing (rules/unmatched.py): each slot's rule is noted met once; while the
    # watch is busy, the keys of each stretch of KV lines read here are shown to it (rows)
    cdef object _watch
    cdef bint _watching, _busy
    cdef unsigned char *_slot_met
    cdef Py_ssize_t _stretch, _stretch_end
    cdef bytes _lf_data  # b"\n" + the chunk, for the watch's rows and the identity hint (made when first needed)
    # identity rules (identity/reader.py): where the next free line their reader may need starts
    cdef object _identity_hint
    cdef Py_ssize_t _next_identity
    cdef unsigned char _lengths[256]  # 1 at each length some exact key has (255: that long or longer)
    # the block being walked
    cdef bint _in_block, _known, _walker_only, _inside
    cdef int _layout
    cdef Py_ssize_t _indent
    cdef object _attribute
    cdef Py_ssize_t _opener_start, _opener_end
    cdef int _nframes
    cdef Py_ssize_t _own[MAX_FRAMES]
    cdef int _mode[MAX_FRAMES]
    cdef int _rule[MAX_FRAMES]
    cdef Py_ssize_t _frame_key_start[MAX_FRAMES]
    cdef Py_ssize_t _frame_key_end[MAX_FRAMES]
    # what the lines read here since the walker last read one left in the open block (_tell):
    # its top-level pairs, and the last line (its body's span and the rule of its leaf)
    cdef Py_ssize_t _read, _last_start, _last_end
    cdef int _last_kind, _last_rule
    # the chunk being fed
    cdef bytes _data
    cdef const unsigned char *_d
    cdef Py_ssize_t _n, _last, _lineno
    cdef Py_ssize_t _next_attribute, _next_kvlist, _next_message, _next_cr, _next_nul
    cdef PyObject *_buffer  # the output bytes object being written (resized as it grows), or NULL
    cdef char *_out  # its bytes
    cdef Py_ssize_t _out_len, _out_cap
    # counts, added to Stats at the end of each feed
    cdef long long _n_pairs, _n_copied, _n_masked, _n_tagged, _n_skipped, _n_messages

    def __cinit__(self):
        self._specs = NULL
        self._slot_key = NULL
        self._slot_len = NULL
        self._slot_rule = NULL
        self._slot_changes = NULL
        self._slot_met = NULL
        self._out = NULL
        self._buffer = NULL

    def __dealloc__(self):
        free(self._specs)
        free(self._slot_key)
        free(self._slot_len)
        free(self._slot_rule)
        free(self._slot_changes)
        free(self._slot_met)
        Py_XDECREF(self._buffer)

    def __init__(self, rules, stats, on_failure, handler=None):
        """`handler`: the Walker's handler (render by default). How it is told of the lines read
        here is its own to say (handler.Handler's `attend`, `inventory`, `preview`): with `attend`,
        the tag prefixes of a handler that attends to values in clear (scan's), a line holding a
        tag, a list rule that changes something or a hash rule is handed over; of the others, a
        value in clear under its rule is told to its `in_clear`, and a value a detector may catch
        to its `search`."""
        handler = handler if handler is not None else RenderHandler(rules, stats)
        self._walker = Walker(rules, stats, handler, REGEX, on_failure)
        self._json = handler if isinstance(handler, JsonMessages) else None
        self._inventory = handler.inventory  # how the handler is told (handler.Handler)
        self._on_list = handler.seen_list if self._inventory else None
        self._on_leaf = handler.seen_leaf if self._inventory else None
        self._preview = handler.preview
        self._on_line = handler.line_seen if self._preview else None
        attend = handler.attend
        self._attend = attend is not None
        self._on_rule = handler.in_clear if self._attend else None
        self._on_search = handler.search if self._attend else None
        self._tags = [bytes(prefix) for prefix in attend or () if prefix]
        self._rules, self._stats = rules, stats
        self._rule_objects, self._texts, self._prefixes, self._postfixes, self._changed = [], [], [], [], []
        self._index = {}
        self._nspecs = 0
        self._default = self._index_of(rules.default)
        self._detect = self._index_of(rules.detect_rule)
        self._first = rules.detectors.first if rules.detectors is not None else None
        self._gates = 0
        for name in rules.detectors.names if rules.detectors is not None else ():
            self._gates |= GATES.get(name, G_ANY)
        self._exact = not rules.ignore_key_case
        self._rule_for = rules.rule_for
        self._keys = []
        self._build_keys(rules.rules)
        self._watch = KeyWatch(rules, stats, contains_any)
        self._identity_hint = line_hint(rules)  # None without [log-filter-attributes] / [log-filter-sip]
        self._next_identity = -1
        self._watching = self._watch.pending
        self._busy = False
        self._stretch = -1
        self._frame_objects = []
        self._in_block = self._known = self._walker_only = self._inside = False
        self._nframes = 0
        self._attribute = None

    # ------------------------------------------------------------ the Walk protocol

    @property
    def idle(self):
        return self._walker.idle

    @property
    def mid_line(self):
        return self._walker.mid_line

    @property
    def inside_value(self):
        return self._walker.inside_value

    def process(self, line, lineno):
        out = self._walker.process(line, lineno)
        return out if self._json is None else self._json.take()

    def overlong(self, piece, part, lineno):
        out = self._walker.overlong(piece, part, lineno)
        return out if self._json is None else self._json.take()

    def flush(self, ended):
        return self._walker.flush(ended)

    def feed(self, bytes data, Py_ssize_t lineno, list out):
        """Append the output for `data` (whole lines; the first is line `lineno`) to `out`; return the lines read."""
        cdef Py_ssize_t p = 0, e, lines = 0, written = 0
        cdef const unsigned char *nl
        self._data = data
        self._d = <const unsigned char *>PyBytes_AS_STRING(data)
        self._n = PyBytes_GET_SIZE(data)
        self._last = 0
        self._out_len = self._out_cap = 0
        self._lineno = lineno
        self._next_attribute = self._next_kvlist = self._next_message = self._next_cr = self._next_nul = -1
        for index in range(self._nspecs):
            self._changed[index] = None
        self._lf_data = None
        self._next_identity = -1
        self._stretch = -1
        self._busy = False
        if self._watching:
            self._lf_data = b"\n" + data
            self._watch.chunk(self._lf_data)
            self._busy = self._watch.busy
            self._watching = self._watch.pending
        self._take()
        try:
            while p < self._n:
                nl = <const unsigned char *>memchr(self._d + p, 10, self._n - p)
                e = (nl - self._d) + 1
                lines += 1
                if self._json is not None:
                    written = self._json.written()
                self._line(p, e)
                p = e
                self._lineno += 1
        except BaseException:
            self._copy_to(p)
            # What the lines before this one wrote: the walker's emit stops at the same point.
            if self._json is not None:
                out.append(self._json.take(written))
            else:
                taken = self._take_output()
                out.append(b"" if self._preview else taken)
            raise
        finally:
            self._count(lines)
        if self._stretch >= 0:
            self._show_stretch()
        self._give()
        if self._json is not None:
            self._take_output()  # the masked text: each leaf's value was taken from it
            out.append(self._json.take())
        elif self._preview:
            self._take_output()  # told line by line (line_seen); the walk writes nothing, as the handler's emit says
        elif self._last == 0:
            out.append(data)
        else:
            self._copy_to(self._n)
            out.append(self._take_output())
        self._data = self._lf_data = None
        self._d = NULL
        return lines

    # ------------------------------------------------------------ rules

    cdef int _index_of(self, rule) except -2:
        """The index of a rule's Plan in the specs (added when first seen); -1 for None."""
        if rule is None:
            return -1
        found = self._index.get(id(rule))
        if found is not None:
            return found
        plan = treatment.plan(self._rules, rule)
        cdef int index = self._nspecs
        cdef Spec *grown = <Spec *>realloc(self._specs, (index + 1) * sizeof(Spec))
        if grown == NULL:
            raise MemoryError
        self._specs = grown
        grown[index].effect[0] = _EFFECTS[plan.c]
        grown[index].effect[1] = _EFFECTS[plan.psdk]
        grown[index].mask = _MASKS.get(plan.mask, M_HIDE)
        grown[index].n = plan.n
        grown[index].watched = plan.watched
        self._rule_objects.append(rule)
        self._texts.append(rule.text)
        self._prefixes.append(plan.prefix)
        self._postfixes.append(plan.postfix)
        self._changed.append(None)
        self._index[id(rule)] = index
        self._nspecs = index + 1
        return index

    cdef _build_keys(self, dict rules):
        cdef Py_ssize_t slots = 8, i, slot
        cdef bytes key
        while slots < 2 * len(rules) + 2:
            slots *= 2
        self._slots = slots
        self._slot_key = <const char **>malloc(slots * sizeof(char *))
        self._slot_len = <Py_ssize_t *>malloc(slots * sizeof(Py_ssize_t))
        self._slot_rule = <int *>malloc(slots * sizeof(int))
        self._slot_changes = <long long *>malloc(slots * sizeof(long long))
        self._slot_met = <unsigned char *>malloc(slots)
        if self._slot_key == NULL or self._slot_len == NULL or self._slot_rule == NULL or self._slot_changes == NULL \
                or self._slot_met == NULL:
            raise MemoryError
        self._slot_quoted = [None] * slots
        for i in range(slots):
            self._slot_rule[i] = -1
            self._slot_changes[i] = 0
            self._slot_met[i] = 0
        for i in range(256):
            self._lengths[i] = 0
        for text, rule in rules.items():
            key = text.encode("utf-8", "surrogateescape")
            self._keys.append(key)
            slot = self._hash(<const unsigned char *>PyBytes_AS_STRING(key), len(key)) & (slots - 1)
            while self._slot_rule[slot] >= 0:
                slot = (slot + 1) & (slots - 1)
            self._slot_key[slot] = PyBytes_AS_STRING(key)
            self._slot_len[slot] = len(key)
            self._slot_rule[slot] = self._index_of(rule)
            self._slot_quoted[slot] = b"'" + key + b"'"
            self._lengths[min(len(key), 255)] = 1

    cdef inline Py_ssize_t _hash(self, const unsigned char *s, Py_ssize_t n) noexcept nogil:
        cdef unsigned long long h = 1469598103934665603ULL
        cdef Py_ssize_t i
        for i in range(n):
            h = (h ^ s[i]) * 1099511628211ULL
        return <Py_ssize_t>(h >> 1)

    cdef int _lookup(self, Py_ssize_t start, Py_ssize_t end) except -2:
        """The own rule of the key whose name is data[start:end] (without quotes), or -1."""
        cdef Py_ssize_t n = end - start, slot
        cdef const unsigned char *s = self._d + start
        self._found_slot = -1
        if not self._exact:
            key = self._data[start:end].decode("utf-8", "surrogateescape")
            if self._watching:
                self._watch.key(f"'{key}'")
                self._watching = self._watch.pending
            return self._index_of(self._rule_for(key))
        if not self._lengths[min(n, 255)]:
            return -1  # no key of this length has a rule
        slot = self._hash(s, n) & (self._slots - 1)
        while self._slot_rule[slot] >= 0:
            if self._slot_len[slot] == n and memcmp(self._slot_key[slot], s, n) == 0:
                self._found_slot = slot
                if self._watching and not self._slot_met[slot]:
                    self._meet(slot)
                return self._slot_rule[slot]
            slot = (slot + 1) & (self._slots - 1)
        return -1

    cdef int _meet(self, Py_ssize_t slot) except -1:
        """The key of `slot` was read here: its rule met a key (told to the watch once)."""
        self._slot_met[slot] = 1
        self._watch.key(self._slot_quoted[slot].decode("utf-8", "surrogateescape"))
        self._watching = self._watch.pending
        return 0

    cdef bytes _lf(self):
        """b"\n" + the chunk: every line start follows an LF there, at the line's own offset."""
        if self._lf_data is None:
            self._lf_data = b"\n" + self._data
        return self._lf_data

    cdef int _show_stretch(self) except -1:
        """Show the watch the keys of the stretch of KV lines read here that just ended (while busy)."""
        self._watch.rows(self._lf(), self._stretch, self._stretch_end + 1)  # from the LF before it
        self._stretch = -1
        self._busy = self._watch.busy
        self._watching = self._watch.pending
        return 0

    # ------------------------------------------------------------ output

    cdef int _reserve(self, Py_ssize_t more) except -1:
        """Room for `more` bytes of output: written straight into the bytes object the feed returns."""
        cdef Py_ssize_t need = self._out_len + more
        if need <= self._out_cap:
            return 0
        need = max(need, 2 * self._out_cap, self._n + (self._n >> 3) + 64)
        if self._buffer == NULL:
            buffer = PyBytes_FromStringAndSize(NULL, need)
            self._buffer = <PyObject *>buffer
            Py_INCREF(buffer)  # owned by self._buffer from here
        else:
            _PyBytes_Resize(&self._buffer, need)
        self._out = PyBytes_AS_STRING(<object>self._buffer)
        self._out_cap = need
        return 0

    cdef bytes _take_output(self):
        """The output written so far, as a bytes object of its own; the next feed starts a new one."""
        if self._buffer == NULL:
            return b""
        _PyBytes_Resize(&self._buffer, self._out_len)
        taken = <bytes>self._buffer
        Py_XDECREF(self._buffer)  # now owned by `taken` alone
        self._buffer, self._out, self._out_cap, self._out_len = NULL, NULL, 0, 0
        return taken

    cdef int _put(self, const void *source, Py_ssize_t n) except -1:
        self._reserve(n)
        memcpy(self._out + self._out_len, source, n)
        self._out_len += n
        return 0

    cdef int _put_bytes(self, bytes text) except -1:
        return self._put(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))

    cdef int _stars(self, Py_ssize_t n) except -1:
        while n > 256:
            self._put(PyBytes_AS_STRING(STARS), 256)
            n -= 256
        return self._put(PyBytes_AS_STRING(STARS), n)

    cdef int _copy_to(self, Py_ssize_t at) except -1:
        """Write the input from where the output stands up to `at` unchanged."""
        if at > self._last:
            self._put(self._d + self._last, at - self._last)
            self._last = at
        return 0

    # ------------------------------------------------------------ counts

    cdef int _count(self, Py_ssize_t lines) except -1:
        stats = self._stats
        stats.lines += lines
        stats.messages += self._n_messages
        stats.pairs += self._n_pairs
        stats.copied += self._n_copied
        stats.masked += self._n_masked
        stats.tagged += self._n_tagged
        stats.skipped += self._n_skipped
        self._n_messages = self._n_pairs = self._n_copied = self._n_masked = self._n_tagged = self._n_skipped = 0
        cdef Py_ssize_t slot
        for slot in range(self._slots if self._exact else 0):
            if self._slot_changes[slot]:
                by_key = stats.changed.setdefault(self._texts[self._slot_rule[slot]], {})
                key = self._slot_quoted[slot]
                by_key[key] = by_key.get(key, 0) + self._slot_changes[slot]
                self._slot_changes[slot] = 0
        return 0

    cdef int _count_change(self, int rule, Py_ssize_t key_start, Py_ssize_t key_end) except -1:
        """Count a pair `rule` changed, by its filter type and its key as printed (quoted)."""
        by_key = self._changed[rule]
        if by_key is None:
            by_key = self._changed[rule] = self._stats.changed.setdefault(self._texts[rule], {})
        key = PyBytes_FromStringAndSize(<const char *>self._d + key_start, key_end - key_start)
        by_key[key] = by_key.get(key, 0) + 1
        return 0

    # ------------------------------------------------------------ the walker's state

    cdef int _take(self) except -1:
        """Read the open block and its lists back from the walker (it may have walked lines)."""
        walker = self._walker
        block = walker.block
        self._inside = walker.value_open
        self._read, self._last_kind = 0, L_UNTOLD_NONE
        self._known = block is not None
        self._in_block = self._known
        self._nframes = 0
        del self._frame_objects[:]
        if block is None:
            return 0
        self._layout = 0 if block.layout == "c" else 1
        self._indent = block.indent
        self._attribute = block.attribute
        frames = block.frames
        self._walker_only = len(frames) > MAX_FRAMES
        if self._walker_only:
            return 0
        cdef int index = 0
        for frame in frames:
            self._own[index] = frame.own
            self._mode[index] = frame.mode
            self._rule[index] = self._index_of(frame.inherited)
            self._frame_objects.append(frame)
            index += 1
        self._nframes = index
        return 0

    cdef int _give(self) except -1:
        """Hand the open block (opened here, or its lists changed) to the walker."""
        if not self._in_block or self._walker_only:
            return 0
        walker = self._walker
        if not self._known:
            opener = self._data[self._opener_start:self._opener_end]
            walker.open_block(_LAYOUTS[self._layout], self._indent, self._attribute, opener)
            self._known = True
        cdef int index
        for index in range(self._nframes):
            if self._frame_objects[index] is None:
                rule = self._rule_objects[self._rule[index]] if self._rule[index] >= 0 else None
                key = self._data[self._frame_key_start[index]:self._frame_key_end[index]].decode("utf-8", "surrogateescape")
                self._frame_objects[index] = Frame(self._own[index], rule, self._mode[index], key)
        walker.take_over(list(self._frame_objects))
        return self._tell(walker.block)

    cdef int _tell(self, block) except -1:
        """Tell the open block what the lines read here held: its top-level pairs (the header counts
        them) and what its last line left (Block.took), which decide a doubtful line (blocks.ended_by)."""
        block.read += self._read
        if self._last_kind == L_HIDDEN:
            block.took(None, hidden=True)
        elif self._last_kind == L_NO_LEAF:
            block.took(None)
        elif self._last_kind == L_LEAF:
            text = self._data[self._last_start:self._last_end].decode("utf-8", "surrogateescape")
            kv = REGEX.kv_line(text, block.layout)
            pair = kv.pair
            while pair.is_list:  # the lists the line opens, down to its leaf
                pair = pair.sub
            block.took((kv, pair, self._rule_objects[self._last_rule]))
        self._read, self._last_kind = 0, L_UNTOLD_NONE
        return 0

    cdef int _show_line(self, Py_ssize_t p, Py_ssize_t e, Py_ssize_t mark) except -1:
        """--preview: a KV line read here, its output written from `mark`, told to the handler with the
        message it is in (the messages counted so far: the walker's Stats.messages at this line)."""
        self._copy_to(e)
        out = PyBytes_FromStringAndSize(self._out + mark, self._out_len - mark) if self._out_len > mark else b""
        self._on_line(self._lineno, self._attribute, self._data[p:self._body_end(p, e)],
                      split_eol(out)[0] if out else None, self._stats.messages + self._n_messages)
        return 0

    cdef int _hand_over(self, Py_ssize_t start, Py_ssize_t end) except -1:
        """Let the walker read one line (the reference semantics), and take its state back."""
        if self._preview:  # its handler groups lines by Stats.messages: the messages counted in C too
            self._stats.messages += self._n_messages
            self._n_messages = 0
        self._give()
        line = self._data[start:end]
        new = self._walker.step(line, self._lineno)
        if new is not line and new != line:
            self._copy_to(start)
            self._put_bytes(new)
            self._last = end
        self._take()
        return 0

    cdef int _close(self) except -1:
        if self._known:
            self._walker.close_block()
        self._in_block = self._known = self._walker_only = False
        self._read, self._last_kind = 0, L_UNTOLD_NONE
        self._nframes = 0
        del self._frame_objects[:]
        return 0

    cdef int _push(self, Py_ssize_t own, int rule, int mode, Py_ssize_t key_start, Py_ssize_t key_end) except -1:
        cdef int index = self._nframes
        self._own[index] = own
        self._rule[index] = rule
        self._mode[index] = mode
        self._frame_key_start[index] = key_start
        self._frame_key_end[index] = key_end
        self._frame_objects.append(None)
        self._nframes = index + 1
        return 0

    # ------------------------------------------------------------ lines

    cdef int _line(self, Py_ssize_t p, Py_ssize_t e) except -1:
        cdef int outcome
        cdef Py_ssize_t mark = 0
        if self._stretch >= 0 and self._stretch_end != p:
            self._show_stretch()  # the line before was not read here as a KV line
        if self._inside or self._walker_only or self._has_nul(p, e):
            return self._hand_over(p, e)  # a NUL: how such data is judged is the walker's
        if self._in_block:
            if self._preview:
                self._copy_to(p)
                mark = self._out_len
            outcome = self._block_line(p, e)
            if outcome == HANDLED:
                if self._preview:
                    self._show_line(p, e, mark)
                return 0
            if outcome == HAND_OVER:
                return self._hand_over(p, e)
            self._close()
        if self._identity_hint is not None and self._for_identity(p):
            return self._hand_over(p, e)
        return self._free_line(p, e)

    cdef bint _for_identity(self, Py_ssize_t p) except -1:
        """Whether the free line at `p` is one the identity reader may need (identity.reader.line_hint:
        a listed attribute's line, a SIP introducer); it reads every line while a message is open."""
        cdef Py_ssize_t at
        if self._next_identity < p:
            lf = self._lf()
            hit = self._identity_hint.search(lf, p)  # from the LF before the line
            if hit is None:
                self._next_identity = self._n
            else:
                at = hit.start()
                # An attribute hint starts at the LF before its line; an introducer anywhere on it.
                self._next_identity = at if lf[at] == 10 else self._data.rfind(b"\n", 0, at - 1) + 1
        return self._next_identity == p

    cdef inline Py_ssize_t _body_end(self, Py_ssize_t p, Py_ssize_t e) noexcept:
        """Where the line [p, e) ends without its line ending (LF, or CR LF)."""
        cdef Py_ssize_t end = e - 1
        if end > p and self._d[end - 1] == 13:
            end -= 1
        return end

    cdef Py_ssize_t _split_eol(self, Py_ssize_t p, Py_ssize_t e) noexcept:
        """Where the line [p, e) ends without its line ending as blocks.split_eol cuts it: the LF and
        every CR before it (`\\r\\r\\n`); a line of CRs only, but CRLF, keeps one CR."""
        cdef Py_ssize_t end = e - 1
        while end > p and self._d[end - 1] == 13:
            end -= 1
        return p + 1 if end == p and e - p > 2 else end

    cdef inline Py_ssize_t _width(self, Py_ssize_t p, Py_ssize_t q) noexcept:
        cdef Py_ssize_t column = 0
        while p < q:
            column = (column // TAB_STOP + 1) * TAB_STOP if self._d[p] == 9 else column + 1
            p += 1
        return column

    cdef inline Py_ssize_t _next(self, Py_ssize_t p, int byte) noexcept:
        """Where `byte` next occurs in the chunk from `p` (the chunk's end: nowhere)."""
        cdef const unsigned char *hit = <const unsigned char *>memchr(self._d + p, byte, self._n - p)
        return self._n if hit == NULL else hit - self._d

    cdef bint _has_cr(self, Py_ssize_t p, Py_ssize_t end) noexcept:
        """Whether the body [p, end) holds a CR (found once per stretch of the chunk, like the hints)."""
        if self._next_cr < p:
            self._next_cr = self._next(p, 13)
        return self._next_cr < end

    cdef bint _has_nul(self, Py_ssize_t p, Py_ssize_t end) noexcept:
        """Whether the line [p, end) holds a NUL byte (found as the CRs are)."""
        if self._next_nul < p:
            self._next_nul = self._next(p, 0)
        return self._next_nul < end

    cdef Py_ssize_t _find(self, Py_ssize_t start, const char *needle, Py_ssize_t size, Py_ssize_t pivot) noexcept:
        """Where `needle` next occurs from `start` (or the end): memchr finds its byte at `pivot`, a rare one."""
        cdef const unsigned char *d = self._d
        cdef const unsigned char *hit
        cdef Py_ssize_t at = start + pivot
        while at < self._n:
            hit = <const unsigned char *>memchr(d + at, needle[pivot], self._n - at)
            if hit == NULL:
                break
            at = hit - d
            if at - pivot + size <= self._n and memcmp(d + at - pivot, needle, size) == 0:
                return at - pivot
            at += 1
        return self._n

    # -- outside blocks

    cdef int _free_line(self, Py_ssize_t p, Py_ssize_t e) except -1:
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t end = self._body_end(p, e), q, at, size, hint = -1
        if self._next_kvlist < p:
            self._next_kvlist = self._find(p, b"KVList:", 7, 1)
        if self._next_kvlist < end:
            return self._hand_over(p, e)  # a PSDK opener, or not: the walker reads it
        if self._next_attribute < p:
            self._next_attribute = self._find(p, b"Attribute", 9, 0)
        while self._next_attribute < end:
            if self._attribute_at(self._next_attribute, end) > 0:
                hint = self._next_attribute
                break
            self._next_attribute = self._find(self._next_attribute + 1, b"Attribute", 9, 0)
        if hint >= 0:
            q = p
            q = skip_blanks(d, q, end)
            size = self._attribute_at(q, end) if q == hint else 0
            at = q + size
            if size == 0 or at < end and not blank(d[at]) or self._has_cr(p, end):
                return self._hand_over(p, e)  # an opener of another shape, or a look-alike
            self._count_header(p, end)
            self._in_block, self._known, self._walker_only = True, False, False
            self._layout = 0
            self._indent = self._width(p, q)
            self._attribute = _ATTRIBUTES[self._data[q:at].decode()]
            self._opener_start, self._opener_end = p, end
            self._nframes = 0
            del self._frame_objects[:]
            self._read, self._last_kind = 0, L_UNTOLD_NONE
            if self._json is not None:  # told now, in the walker's order: the free line, then the block
                self._json.free(self._data, p, end, self._lineno, True)
                self._walker.open_block(_LAYOUTS[0], self._indent, self._attribute, self._data[p:end])
                self._known = True
            return 0
        self._count_header(p, end)
        if self._json is not None:
            self._json.free(self._data, p, self._split_eol(p, e), self._lineno, False)
        return 0

    cdef Py_ssize_t _attribute_at(self, Py_ssize_t at, Py_ssize_t end) noexcept:
        """The length of the KV_ATTRIBUTE match (tlib.lark) at `at`, or 0."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t rest = end - at, size = 0
        if rest < 15 or memcmp(d + at, b"Attribute", 9) != 0:
            return 0
        if rest >= 17 and memcmp(d + at + 9, b"UserData", 8) == 0:
            size = 17
        elif rest >= 19 and memcmp(d + at + 9, b"Extensions", 10) == 0:
            size = 19
        elif memcmp(d + at + 9, b"Reason", 6) == 0:
            size = 16 if rest >= 16 and d[at + 15] == 115 else 15  # Reasons?
        else:
            return 0
        if size < rest and letter(d[at + size]):
            return 0
        return size

    cdef int _count_header(self, Py_ssize_t p, Py_ssize_t end) except -1:
        """Count a message header (the grammar's MESSAGE_HEADER, searched in the line) on a free line."""
        if self._d[p] == 39 and self._psdk_header(p, end):
            self._n_messages += 1
            return 0
        if self._next_message < p:
            self._next_message = self._find(p, b"essage ", 7, 4)
        while self._next_message < end:
            if self._c_header(p, self._next_message, end):
                self._n_messages += 1
                return 0
            self._next_message = self._find(self._next_message + 1, b"essage ", 7, 4)
        return 0

    cdef bint _c_header(self, Py_ssize_t p, Py_ssize_t at, Py_ssize_t end) noexcept:
        """`(?:^|[ \\t:])[Mm]essage "?(?:Event|Request)[A-Z]` with `essage ` at `at` (the rest of
        MESSAGE_HEADER's first branch always matches after it)."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t m = at - 1, i = at + 7
        if m < p or (d[m] != 77 and d[m] != 109):
            return False
        if m > p and not (blank(d[m - 1]) or d[m - 1] == 58):
            return False
        if i < end and d[i] == 34:
            i += 1
        i = self._event_or_request(i, end)
        return 0 <= i < end and 65 <= d[i] <= 90

    cdef Py_ssize_t _event_or_request(self, Py_ssize_t i, Py_ssize_t end) noexcept:
        """Where `Event` or `Request` at i ends, or -1."""
        if end - i >= 5 and memcmp(self._d + i, b"Event", 5) == 0:
            return i + 5
        if end - i >= 7 and memcmp(self._d + i, b"Request", 7) == 0:
            return i + 7
        return -1

    cdef bint _psdk_header(self, Py_ssize_t p, Py_ssize_t end) noexcept:
        """MESSAGE_HEADER's second branch at the line's start: `'(?:Event|Request)[A-Za-z]+' \\('\\d+'\\)`."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t i = self._event_or_request(p + 1, end), letters
        if i < 0:
            return False
        letters = i
        while i < end and letter(d[i]):
            i += 1
        if i == letters or end - i < 4 or memcmp(d + i, b"' ('", 4) != 0:
            return False
        i += 4
        letters = i
        while i < end and digit(d[i]):
            i += 1
        return i > letters and end - i >= 2 and d[i] == 39 and d[i + 1] == 41

    # -- inside blocks

    cdef bint _event(self, Py_ssize_t p, Py_ssize_t end) noexcept:
        """Whether a column-0 line starts with a Genesys time stamp (events.starts_event's _EVENT_TIME)."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t i = p, j
        if d[i] == 64:  # @10:26:01.5600
            i = self._clock(i + 1, end, 3, 4)
            return i > 0 and i < end and blank(d[i])
        if end - i >= 11 and digit(d[i]) and digit(d[i + 1]) and digit(d[i + 2]) and digit(d[i + 3]) and d[i + 4] == 45 \
                and digit(d[i + 5]) and digit(d[i + 6]) and d[i + 7] == 45 and digit(d[i + 8]) and digit(d[i + 9]) \
                and d[i + 10] == 84:
            i += 11
        i = self._clock(i, end, 3, 3)
        if i <= 0 or i >= end or not blank(d[i]):
            return False
        i = skip_blanks(d, i, end)
        if end - i < 3 or not (memcmp(d + i, b"Std", 3) == 0 or memcmp(d + i, b"Trc", 3) == 0
                               or memcmp(d + i, b"Int", 3) == 0 or memcmp(d + i, b"Dbg", 3) == 0
                               or memcmp(d + i, b"Alr", 3) == 0):
            return False
        i += 3
        j = i
        i = skip_blanks(d, i, end)
        if i == j:
            return False
        j = i
        while i < end and digit(d[i]):
            i += 1
        return i - j == 5 and (i == end or blank(d[i]))

    cdef Py_ssize_t _clock(self, Py_ssize_t i, Py_ssize_t end, int low, int high) noexcept:
        """`\\d{1,2}:\\d{2}:\\d{2}\\.\\d{low,high}` at i: where it ends, or 0."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t j = i
        while i < end and digit(d[i]) and i - j < 3:
            i += 1
        if i - j < 1 or i - j > 2 or i >= end or d[i] != 58:
            return 0
        if end - i < 7 or not (digit(d[i + 1]) and digit(d[i + 2]) and d[i + 3] == 58 and digit(d[i + 4])
                               and digit(d[i + 5]) and d[i + 6] == 46):
            return 0
        i += 7
        j = i
        while i < end and digit(d[i]):
            i += 1
        return i if low <= i - j <= high else 0

    cdef int _block_line(self, Py_ssize_t p, Py_ssize_t e) except -1:
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t end = self._body_end(p, e), q = p, column
        cdef int top
        if end == p:
            return HAND_OVER  # an empty line
        if not blank(d[p]):
            return ENDS if self._event(p, end) else HAND_OVER
        q = skip_blanks(d, q, end)
        if q == end or d[q] == 13 or d[q] == 11 or d[q] == 12:
            return HAND_OVER  # blanks only, or other white space
        column = self._width(p, q)
        if d[q] != 39:
            if column <= self._indent and end - q >= 9 and memcmp(d + q, b"Attribute", 9) == 0:
                return ENDS  # the message's next attribute (blocks.ends)
            return HAND_OVER  # deeper: it fails closed there; else doubtful: the walker decides
        if self._has_cr(p, end):
            return HAND_OVER
        if self._attend and self._declined(q, end):
            return HAND_OVER  # before the lists are closed: the handler passes it over, so the walker keeps them
        while self._nframes > 0 and self._own[self._nframes - 1] >= column:
            self._nframes -= 1
            self._frame_objects.pop()
        top = self._nframes - 1
        if top >= 0 and self._mode[top] == DROP:
            if self._json is not None:
                self._json.kv(self._lineno)
            self._copy_to(p)
            self._last = e  # inside a skipped list: the line goes
            self._last_kind = L_HIDDEN
            return HANDLED
        if top >= 0 and self._mode[top] == OPAQUE:
            return HAND_OVER
        return self._pairs(p, q, end, e, column, self._rule[top] if top >= 0 else -1)

    cdef Py_ssize_t _key_end(self, Py_ssize_t at, Py_ssize_t end) noexcept:
        """The end of the KEY token at `at` (a quote): the first quote after it followed by a blank or
        `(list)`; -1 when there is none (tlib.lark's KEY)."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t i = at + 1
        while i < end:
            if d[i] == 39 and i + 1 < end and (blank(d[i + 1]) or (end - i - 1 >= 6 and memcmp(d + i + 1, b"(list)", 6) == 0)):
                return i + 1
            i += 1
        return -1

    cdef Py_ssize_t _value_end(self, Py_ssize_t at, Py_ssize_t end, int layout, Kind *kind) noexcept:
        """The end of the value token at `at` (QUOTED / DQUOTED, INT, BINARY), or -1."""
        cdef const unsigned char *d = self._d
        cdef unsigned char c = d[at]
        cdef Py_ssize_t i
        if c == (39 if layout == 0 else 34):  # to the last quote of its kind on the line
            i = end - 1
            while i > at and d[i] != c:
                i -= 1
            kind[0] = K_STR
            return i + 1 if i > at else -1
        kind[0] = K_INT
        i = at
        if d[i] == 45:
            i += 1
        if i < end and d[i] == 42:
            while i < end and d[i] == 42:
                i += 1
            while i < end and digit(d[i]):
                i += 1
            return i
        if i < end and digit(d[i]):
            while i < end and digit(d[i]):
                i += 1
            while i < end and d[i] == 42:
                i += 1
            return i
        if c != 91 or layout != 0:
            return -1
        kind[0] = K_BIN  # [8] 4a 42 37 01..
        i = at + 1
        while i < end and digit(d[i]):
            i += 1
        if i == at + 1 or i >= end or d[i] != 93:
            return -1
        i += 1
        while end - i >= 3 and blank(d[i]) and self._hex(d[i + 1]) and self._hex(d[i + 2]):
            i += 3
        if end - i >= 2 and d[i] == 46 and d[i + 1] == 46:
            i += 2
        return i

    cdef inline bint _hex(self, unsigned char c) noexcept:
        return digit(c) or 65 <= c <= 70 or 97 <= c <= 102

    cdef int _pairs(self, Py_ssize_t p, Py_ssize_t q, Py_ssize_t end, Py_ssize_t e, Py_ssize_t column,
                    int inherited) except -1:
        """Read a leaf line (and the lists it opens) and render it; HAND_OVER when it does not tokenise."""
        cdef const unsigned char *d = self._d
        cdef Pair chain[MAX_CHAIN + 1]
        cdef int rules[MAX_CHAIN + 1]
        cdef int owns[MAX_CHAIN + 1]
        cdef int lists = 0, depth, own, rule, looked
        cdef Py_ssize_t slot = -1
        cdef Py_ssize_t at = q, key_end, value_start = -1, value_end = -1, i, step
        cdef Kind kind = K_STR
        cdef bint leaf = False
        cdef int layout = self._layout
        step = TAB_STOP if d[q - 1] == 9 else 1
        # -- tokenise, as the grammar does; nothing is counted or written before it reads
        while True:
            key_end = self._key_end(at, end)
            if key_end < 0:
                return HAND_OVER
            chain[lists].key_start, chain[lists].key_end = at, key_end
            if d[key_end] == 40:  # (list)
                if layout != 0 or lists == MAX_CHAIN:
                    return HAND_OVER
                i = key_end + 6
                i = skip_blanks(d, i, end)
                chain[lists].sep_end = i
                lists += 1
                if i == end:
                    break  # an empty list, or one whose pairs are on the lines below
                if d[i] != 39:
                    return HAND_OVER
                at = i
                continue
            i = key_end
            i = skip_blanks(d, i, end)
            chain[lists].gap_end = i
            if layout == 1:  # [type] =
                if i >= end or d[i] != 91 or i + 1 >= end or not letter(d[i + 1]):
                    return HAND_OVER
                i += 2
                while i < end and (letter(d[i]) or digit(d[i]) or d[i] == 95):
                    i += 1
                if i >= end or d[i] != 93:
                    return HAND_OVER
                i += 1
                i = skip_blanks(d, i, end)
                if i >= end or d[i] != 61:
                    return HAND_OVER
                i += 1
                i = skip_blanks(d, i, end)
            chain[lists].sep_end = i
            if i >= end:
                return HAND_OVER
            value_start = i
            value_end = self._value_end(i, end, layout, &kind)
            if value_end < 0:
                return HAND_OVER
            i = value_end
            i = skip_blanks(d, i, end)
            if i != end:
                return HAND_OVER
            leaf = True
            break
        if self._nframes + lists > MAX_FRAMES:
            return HAND_OVER
        # -- the rule of each key, as the walker's _pairs chooses it: a rule on a list key wins inside
        # it; past a list whose rule skips it nothing is looked up (the walker reads none of it)
        looked = lists
        for depth in range(lists):
            own = owns[depth] = self._lookup(chain[depth].key_start + 1, chain[depth].key_end - 1)
            rules[depth] = inherited = inherited if inherited >= 0 else own
            if inherited >= 0 and self._specs[inherited].effect[0] == E_SKIP:
                looked, leaf = depth + 1, False  # the leaf goes with the list, unread
                break
        if leaf:
            own = self._lookup(chain[lists].key_start + 1, chain[lists].key_end - 1)
            rules[lists] = inherited if inherited >= 0 else own if own >= 0 else self._default
            slot = self._found_slot if inherited < 0 and own >= 0 else -1  # a change under the key's own rule
        if self._attend and self._attention(rules, looked, leaf):
            return HAND_OVER
        if self._nframes == 0:
            self._read += 1  # a top-level pair: the header counts these (formats.md §5)
        if self._json is not None:
            self._json.kv(self._lineno)
        if self._busy:  # the keys of this line go to the watch with its stretch
            if self._stretch < 0:
                self._stretch = p
            self._stretch_end = e
        # -- the walker's _pairs: lists first, then the leaf
        for depth in range(looked):
            self._n_pairs += 1
            rule = rules[depth]
            if self._inventory:
                self._tell_list(chain[depth], rule, owns[depth])
            if rule >= 0 and self._specs[rule].effect[0] == E_SKIP:
                self._count_change(rule, chain[depth].key_start, chain[depth].key_end)
                self._n_skipped += 1
                self._push(column + depth * step, -1, DROP, 0, 0)
                self._last_kind = L_HIDDEN
                # The whole line goes, or `'key'(list) ` of the lists before it stays.
                self._copy_to(chain[depth].key_start if depth else p)
                self._last = end if depth else e
                return HANDLED
            self._push(column + depth * step, rule, NORMAL, chain[depth].key_start + 1, chain[depth].key_end - 1)
            if self._json is not None:
                self._json.list_at(self._nframes - 1, d + chain[depth].key_start + 1,
                                   chain[depth].key_end - chain[depth].key_start - 2)
        if not leaf:
            self._last_kind = L_NO_LEAF
            return HANDLED
        self._n_pairs += 1
        rule = rules[lists]
        self._last_kind, self._last_start, self._last_end, self._last_rule = L_LEAF, p, end, rule
        if self._inventory:
            self._tell_leaf(chain[lists], rule, own, inherited, value_start, value_end, kind)
            return HANDLED
        self._leaf(p, end, e, chain[lists], lists, rule, value_start, value_end, kind, slot)
        return HANDLED

    # -- keys: what the handler's list_opened / list_skipped / leaf would read, told to it

    cdef object _frame_key(self, int index):
        frame = self._frame_objects[index]
        if frame is not None:
            return frame.key
        return self._data[self._frame_key_start[index]:self._frame_key_end[index]].decode("utf-8", "surrogateescape")

    cdef tuple _path(self):
        """The keys of the open lists, the outermost first."""
        return tuple([self._frame_key(index) for index in range(self._nframes)])

    cdef object _inherited_from(self):
        """blocks.inherited_from: the key of the outermost open list with a rule, or None."""
        cdef int index
        for index in range(self._nframes):
            if self._rule[index] >= 0:
                return self._frame_key(index)
        return None

    cdef int _tell_list(self, Pair pair, int rule, int own) except -1:
        """A list key (before its frame is pushed): the rule it carries (-1: none), whether it has one
        of its own, and the list its outer one carries a rule from."""
        outer = self._inherited_from() if self._nframes and self._rule[self._nframes - 1] >= 0 else None
        key = self._data[pair.key_start + 1:pair.key_end - 1].decode("utf-8", "surrogateescape")
        self._on_list(self._attribute, self._path(), key, self._rule_objects[rule] if rule >= 0 else None,
                      outer, own >= 0)
        return 0

    cdef int _tell_leaf(self, Pair pair, int rule, int own, int inherited, Py_ssize_t value_start,
                        Py_ssize_t value_end, Kind kind) except -1:
        """A leaf under `rule`: whether a list's rule (`inherited`) or its own chose it, whether the
        detectors look at it, and its value's kind and text (inside a string's quotes)."""
        key = self._data[pair.key_start + 1:pair.key_end - 1].decode("utf-8", "surrogateescape")
        if kind == K_STR:
            text = self._data[value_start + 1:value_end - 1].decode("utf-8", "surrogateescape")
        elif kind == K_INT:
            text = self._data[value_start:value_end].decode("utf-8", "surrogateescape")
        else:
            text = None
        self._on_leaf(self._attribute, self._path(), key, self._rule_objects[rule],
                      self._inherited_from() if inherited >= 0 else None, own >= 0, self._specs[rule].watched,
                      _KINDS[kind], text)
        return 0

    cdef bint _declined(self, Py_ssize_t q, Py_ssize_t end) noexcept:
        """Whether the attending handler passes the line (its text from `q`, the first non-blank, to
        `end`) over unread or reads it changed: what is left of a line that failed closed (`'****'`),
        or a line holding a tag (it is untagged first). Such a line goes to the walker whole, its
        lists still open (the walker closes them only when it reads a line)."""
        cdef const unsigned char *d = self._d
        cdef const unsigned char *hit
        cdef const char *tag
        cdef Py_ssize_t size, at, last = end
        while last > q and d[last - 1] in (32, 9, 11, 12, 13):  # events.WHITESPACE
            last -= 1
        if last - q == 6 and memcmp(d + q, b"'****'", 6) == 0:
            return True
        for prefix in self._tags:
            tag, size, at = PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix), q
            while at + size <= end:
                hit = <const unsigned char *>memchr(d + at, tag[0], end - size + 1 - at)
                if hit == NULL:
                    break
                at = hit - d
                if memcmp(d + at, tag, size) == 0:
                    return True
                at += 1
        return False

    cdef bint _attention(self, int *rules, int looked, bint leaf) noexcept:
        """Whether the attending handler must see this line (_declined ones went to it already): the
        rule of one of its lists changes something (`rules`: each key's, the first `looked` of them
        its lists'), or its leaf's is a hash rule (a hash token's shape is the handler's to judge).
        Of any other leaf _attend_leaf tells it what its `leaf` would find."""
        cdef int depth
        for depth in range(looked):
            if rules[depth] >= 0 and self._specs[rules[depth]].effect[0] != E_COPY:
                return True
        return leaf and self._specs[rules[looked]].effect[self._layout] == E_MASK and self._specs[rules[looked]].mask == M_HASH

    cdef bint _mask_keeps(self, Spec *spec, Py_ssize_t start, Py_ssize_t end, Kind kind) noexcept:
        """Whether _mask writes the value token data[start:end] as it is (not a hash): it is in
        the masked form already, its masked characters all stars."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t chars, k, first, last
        cdef int mask = spec.mask
        if kind == K_BIN or mask == M_HIDE and kind == K_INT:
            return end - start == 4 and memcmp(d + start, b"****", 4) == 0
        if kind == K_STR:
            start += 1  # the quotes
            end -= 1
            if mask == M_HIDE:
                return end - start == 4 and memcmp(d + start, b"****", 4) == 0
        elif d[start] == 45:
            start += 1  # an integer's sign
        chars = count_chars(d, start, end)
        k = min(spec.n, chars)
        if mask == M_HIDE_FIRST:
            first, last = start, advance(d, start, end, k)
        elif mask == M_HIDE_LAST:
            first, last = advance(d, start, end, chars - k), end
        elif mask == M_UNHIDE_FIRST:
            first, last = advance(d, start, end, k), end
        else:  # M_UNHIDE_LAST
            first, last = start, advance(d, start, end, chars - k)
        while first < last:
            if d[first] != 42:
                return False
            first += 1
        return True

    cdef int _may_detect(self, Py_ssize_t start, Py_ssize_t end) noexcept:
        """The detectors that may have a candidate in the value [start, end), as G_* bits (KINDS' order:
        detect.Detectors.first's `among`): those whose gate lets it through; -1: every chosen one."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t digits = 0, run = 0, longest = 0, i, j, more, seps = 0
        cdef int gates = self._gates, found = 0
        cdef unsigned char c
        if gates & G_ANY:
            return -1
        for i in range(start, end):
            c = d[i]
            if digit(c):
                digits += 1
                run += 1
                if run > longest:
                    longest = run
                if run >= 9 and seps >= 2:
                    found |= G_SSN
            elif (c == 32 or c == 45) and run and i + 1 < end and digit(d[i + 1]):
                seps += 1  # a single blank or dash between digits goes on with the run
            else:
                run = seps = 0
                if c == 64:
                    found |= G_EMAIL
                elif c == 43 and i + 1 < end and 49 <= d[i + 1] <= 57:
                    found |= G_PHONE
                elif gates & G_IBAN and letter(c) and i + 3 < end and letter(d[i + 1]) and digit(d[i + 2]) \
                        and digit(d[i + 3]) and (i == start or not (letter(d[i - 1]) or digit(d[i - 1]))):
                    more, j = 0, i + 4
                    while j < end and more < 11:
                        if letter(d[j]) or digit(d[j]):
                            more += 1
                        elif not (d[j] == 32 and j + 1 < end and (letter(d[j + 1]) or digit(d[j + 1]))):
                            break
                        j += 1
                    if more >= 11:
                        found |= G_IBAN
        if longest >= 13:
            found |= G_PAN
        if digits < 7:
            found &= ~G_PHONE
        return found & gates

    cdef int _leaf(self, Py_ssize_t p, Py_ssize_t end, Py_ssize_t e, Pair pair, int depth, int rule,
                   Py_ssize_t value_start, Py_ssize_t value_end, Kind kind, Py_ssize_t slot) except -1:
        """Render one leaf pair under `rule` (or the detect rule, when a detector catches its value);
        with an attending handler, tell it instead."""
        cdef Spec *spec = &self._specs[rule]
        cdef int layout = self._layout
        cdef int effect = spec.effect[layout]
        cdef int among
        cdef bint caught = False
        cdef Py_ssize_t mark
        if self._attend:  # what the handler is told is all: an attending walk writes nothing
            return self._attend_leaf(pair, rule, spec, effect, value_start, value_end, kind)
        if spec.watched and kind != K_BIN:
            among = self._may_detect(value_start, value_end)
            found = self._first(self._data[value_start:value_end], among) if among != 0 else None
            if found is not None:
                self._stats.count_detection(found, self._data[pair.key_start:pair.key_end])
                rule = self._detect
                spec = &self._specs[rule]
                effect = spec.effect[layout]
                caught = True
        if effect == E_COPY:
            if not caught:
                self._n_copied += 1
            if self._json is not None:
                self._json_leaf(pair, self._d + value_start, value_end - value_start, kind, value_start)
            return 0
        if caught:
            pass
        elif slot >= 0:
            self._slot_changes[slot] += 1
        else:
            self._count_change(rule, pair.key_start, pair.key_end)
        if effect == E_SKIP:
            self._n_skipped += not caught
            self._copy_to(pair.key_start if depth else p)
            self._last = end if depth else e
            return 0
        if effect == E_TAG:
            self._n_tagged += not caught
            mark = self._token_at(value_start)
            self._put_bytes(self._prefixes[rule])
            self._copy_to(value_end)
            self._put_bytes(self._postfixes[rule])
            if self._json is not None:
                self._json_leaf(pair, <const unsigned char *>self._out + mark, self._out_len - mark, kind, value_start)
            return 0
        self._n_masked += not caught
        if effect == E_SUPPRESS:
            if self._json is not None:
                return self._json.suppressed_at(self._nframes, self._d + pair.key_start + 1,
                                                pair.key_end - pair.key_start - 2)
            self._copy_to(pair.gap_end)
            self._put_bytes(SUPPRESSED)
            self._last = value_end
            return 0
        mark = self._token_at(value_start)
        self._mask(rule, spec, value_start, value_end, kind)
        self._last = value_end
        if self._json is not None:
            self._json_leaf(pair, <const unsigned char *>self._out + mark, self._out_len - mark, kind, value_start)
        return 0

    cdef Py_ssize_t _token_at(self, Py_ssize_t at) except -1:
        """Where the output of the value token at `at` starts: the input before it copied, for the
        masked text; for JSON lines nothing before it, the output being scratch for the token alone."""
        if self._json is None:
            self._copy_to(at)
        else:
            self._out_len, self._last = 0, at
        return self._out_len

    cdef int _json_leaf(self, Pair pair, const unsigned char *value, Py_ssize_t size, Kind kind,
                        Py_ssize_t value_start) except -1:
        """Tell the JSON handler a leaf and its value token as run writes it (jsonl.JsonHandler.leaf:
        a string's own quotes come off, a hashed integer's too)."""
        cdef int quote = self._d[value_start] if kind == K_STR else -1 if kind == K_INT else 0
        return self._json.leaf_at(self._nframes, self._d + pair.key_start + 1, pair.key_end - pair.key_start - 2,
                                  value, size, quote)

    cdef int _attend_leaf(self, Pair pair, int rule, Spec *spec, int effect, Py_ssize_t value_start,
                          Py_ssize_t value_end, Kind kind) except -1:
        """What the attending handler's `leaf` would find in a leaf read here, told to it: a value in
        clear under its rule (skipped, [output suppressed], or changed by its mask: masks are
        idempotent), else (copied, tagged, or already masked) a value a detector may catch, to search."""
        cdef int among
        key = self._data[pair.key_start:pair.key_end]
        if effect == E_SKIP or effect == E_SUPPRESS or effect == E_MASK and not self._mask_keeps(spec, value_start, value_end, kind):
            self._on_rule(self._lineno, key, self._attribute, self._rule_objects[rule])
        elif kind != K_BIN:
            among = self._may_detect(value_start, value_end)
            if among != 0:
                self._on_search(self._lineno, key, self._attribute, self._data[value_start:value_end], among)
        return 0

    cdef int _mask(self, int rule, Spec *spec, Py_ssize_t start, Py_ssize_t end, Kind kind) except -1:
        """Write the value token data[start:end] as filters.FilterType.apply masks it."""
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t chars, keep, cut
        cdef int mask = spec.mask
        if mask == M_HASH:
            return self._put_bytes(treatment.value_bytes(
                self._rule_objects[rule], self._data[start:end], _LAYOUTS[self._layout]))
        if kind == K_BIN or mask == M_HIDE and kind == K_INT:
            return self._put_bytes(HIDDEN)
        if kind == K_STR:
            self._put(d + start, 1)  # the quote
            start += 1
            end -= 1
            if mask == M_HIDE:
                self._put_bytes(HIDDEN)
            elif end > start:
                self._partial(mask, spec.n, start, end)
            return self._put(d + end, 1)
        if d[start] == 45:  # an integer's sign is not a digit
            self._put(d + start, 1)
            start += 1
        return self._partial(mask, spec.n, start, end)

    cdef int _partial(self, int mask, Py_ssize_t n, Py_ssize_t start, Py_ssize_t end) except -1:
        cdef const unsigned char *d = self._d
        cdef Py_ssize_t chars = count_chars(d, start, end), k = min(n, chars), cut
        if mask == M_HIDE_FIRST:
            self._stars(k)
            cut = advance(d, start, end, k)
            return self._put(d + cut, end - cut)
        if mask == M_HIDE_LAST:
            cut = advance(d, start, end, chars - k)
            self._put(d + start, cut - start)
            return self._stars(k)
        if mask == M_UNHIDE_FIRST:
            cut = advance(d, start, end, k)
            self._put(d + start, cut - start)
            return self._stars(chars - k)
        cut = advance(d, start, end, chars - k)  # M_UNHIDE_LAST
        self._stars(chars - k)
        return self._put(d + cut, end - cut)
