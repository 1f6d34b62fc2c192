# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""JSON lines at C speed: jsonl.py's JsonHandler, compiled, for the compiled scanner's jsonl walk.

jsonl.py is the definition: what a message is, which lines go on with it, the objects and
their fields (docs/jsonl-schema.json). JsonMessages builds the same objects, byte for byte,
in two ways at once:

- as the Walker's handler (the methods of handler.Handler), for the lines the scanner hands
  over to its Walker; a leaf's text comes from rules/treatment.py there, as in JsonHandler;
- through the C methods in json_messages.pxd, which the scanner calls for the lines it reads
  itself: a free line, a KV line, a list, a leaf whose value token it has rendered.

So the open lists are known by depth (how many lists of the block are open), not by their
Frame objects: the scanner's frames and the Walker's are different objects for one list.
It is used without [log-filter-attributes] / [log-filter-sip] rules (registry.py): SIP
messages and identity lines stay with JsonHandler. tests/unit/test_differential.py holds
the objects equal to the reference walk's.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memcmp

from logfilter.names import printable
from logfilter.rules import treatment

cdef object _MISSING = object()
cdef object _SUPPRESSED = treatment.SUPPRESSED
cdef tuple _CONTINUED_FIELDS = ("file", "time", "header", "message")
# From jsonl.py and orjson when the first handler is made: the scanner imports this module at
# every start (it cimports JsonMessages), and a run that writes no JSON should not pay for them.
cdef object _dumps = None
cdef int _NEWLINE = 0
cdef Py_ssize_t _DEPTH = 0
cdef bytes _BOILERPLATE = None


cdef int _load() except -1:
    global _dumps, _NEWLINE, _DEPTH, _BOILERPLATE
    import orjson

    from logfilter.engines.jsonl import MAX_DEPTH, PSDK_BOILERPLATE

    _dumps, _NEWLINE, _DEPTH, _BOILERPLATE = orjson.dumps, orjson.OPT_APPEND_NEWLINE, MAX_DEPTH, PSDK_BOILERPLATE
    return 0


cdef inline bint blank(unsigned char c) noexcept nogil:
    """`[ \\t]`, the attribute regexes' blank."""
    return c == 32 or c == 9


cdef inline bint white(unsigned char c) noexcept nogil:
    """events.WHITESPACE."""
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


cdef inline bint name_char(unsigned char c) noexcept nogil:
    return 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 95


cdef inline bint letter(unsigned char c) noexcept nogil:
    return 65 <= c <= 90 or 97 <= c <= 122


cdef inline str _text(const unsigned char *s, Py_ssize_t n):
    """jsonl._text: bytes that are not UTF-8 as `\\xNN`."""
    return PyUnicode_DecodeUTF8(<const char *>s, n, "backslashreplace")


cdef inline str _unquoted(const unsigned char *s, Py_ssize_t n, int quote):
    """jsonl._unquoted of the text: a quote is ASCII, so the bytes tell what the text would."""
    if n >= 2 and s[0] == quote and s[n - 1] == quote:
        return _text(s + 1, n - 2)
    return _text(s, n)


cdef str _str(str value):
    """jsonl._str: a key or value read with surrogate escapes, as JSON text."""
    return value if value.isascii() else value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


cdef str _unquoted_str(str value, str quote):
    cdef Py_ssize_t n = len(value)
    return value[1:n - 1] if n >= 2 and value[0] == quote and value[n - 1] == quote else value


cdef inline int _put(dict container, key, value) except -1:
    """jsonl._put: a key already there holds an array of its values, in order."""
    old = container.get(key, _MISSING)
    if old is _MISSING:
        container[key] = value
    elif type(old) is list:
        (<list>old).append(value)
    else:
        container[key] = [old, value]
    return 0


cdef inline bint _starts(const unsigned char *d, Py_ssize_t start, Py_ssize_t end, const char *word, Py_ssize_t size) noexcept:
    return end - start >= size and memcmp(d + start, word, size) == 0


cdef inline bint digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef Py_ssize_t _event_or_request(const unsigned char *d, Py_ssize_t i, Py_ssize_t end) noexcept:
    """Where `Event` or `Request` at i ends, or -1."""
    if _starts(d, i, end, b"Event", 5):
        return i + 5
    if _starts(d, i, end, b"Request", 7):
        return i + 7
    return -1


cdef Py_ssize_t _name_at(const unsigned char *d, Py_ssize_t start, Py_ssize_t end) noexcept:
    """Where the message name of the line's message header starts (its MESSAGE_HEADER, grammars/tlib.lark,
    searched as events.message_header does), or -1 when it has none. The name, jsonl's MESSAGE_NAME
    in the header's text, is the run of letters from there."""
    cdef Py_ssize_t i, j, at
    if end > start and d[start] == 39:  # ^'(?:Event|Request)[A-Za-z]+' \('\d+'\)
        i = _event_or_request(d, start + 1, end)
        if i >= 0:
            j = i
            while i < end and letter(d[i]):
                i += 1
            if i > j and _starts(d, i, end, b"' ('", 4):
                i += 4
                j = i
                while i < end and digit(d[i]):
                    i += 1
                if i > j and _starts(d, i, end, b"')", 2):
                    return start + 1
    # (?:^|[ \t:])[Mm]essage "?(?:Event|Request)[A-Z]: the rest of the branch always matches after it
    for at in range(start + 1, end - 6):
        if d[at] != 101 or memcmp(d + at, b"essage ", 7) != 0:
            continue
        if d[at - 1] != 77 and d[at - 1] != 109:
            continue
        if at - 1 > start and not (blank(d[at - 2]) or d[at - 2] == 58):
            continue
        i = at + 7
        if i < end and d[i] == 34:
            i += 1
        j = _event_or_request(d, i, end)
        if 0 <= j < end and 65 <= d[j] <= 90:
            return i
    return -1


cdef Py_ssize_t _time_end(const unsigned char *d, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *first) noexcept:
    """jsonl's TIME_STAMP matched at the line's start: `@?((?:\\d{4}-\\d{2}-\\d{2}[T ])?\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d+)?)`;
    where its group ends (`first`: where it starts), or -1."""
    cdef Py_ssize_t i = start, j
    if i < end and d[i] == 64:
        i += 1
    first[0] = i
    if end - i >= 11 and digit(d[i]) and digit(d[i + 1]) and digit(d[i + 2]) and digit(d[i + 3]) and d[i + 4] == 45 \
            and digit(d[i + 5]) and digit(d[i + 6]) and d[i + 7] == 45 and digit(d[i + 8]) and digit(d[i + 9]) \
            and (d[i + 10] == 84 or d[i + 10] == 32) and _clock(d, i + 11, end) >= 0:
        i += 11
    i = _clock(d, i, end)
    if i < 0:
        return -1
    if i + 1 < end and (d[i] == 46 or d[i] == 44) and digit(d[i + 1]):
        i += 1
        while i < end and digit(d[i]):
            i += 1
    return i


cdef Py_ssize_t _clock(const unsigned char *d, Py_ssize_t i, Py_ssize_t end) noexcept:
    """`\\d{2}:\\d{2}:\\d{2}` at i: where it ends, or -1."""
    if end - i >= 8 and digit(d[i]) and digit(d[i + 1]) and d[i + 2] == 58 and digit(d[i + 3]) and digit(d[i + 4]) \
            and d[i + 5] == 58 and digit(d[i + 6]) and digit(d[i + 7]):
        return i + 8
    return -1


def header_name(bytes body):
    """The message name of a line's message header, or None without one (what JsonMessages reads
    in C; tests/unit/test_json_messages.py holds it to events.message_header and MESSAGE_NAME)."""
    cdef const unsigned char *d = <const unsigned char *>PyBytes_AS_STRING(body)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(body), at = _name_at(d, 0, n), i
    if at < 0:
        return None
    i = at
    while i < n and letter(d[i]):
        i += 1
    return body[at:i]


def time_stamp(bytes body):
    """jsonl's TIME_STAMP group at the line's start, or None (tests hold it to the regex)."""
    cdef const unsigned char *d = <const unsigned char *>PyBytes_AS_STRING(body)
    cdef Py_ssize_t first, end = _time_end(d, 0, PyBytes_GET_SIZE(body), &first)
    return None if end < 0 else body[first:end]


cdef class JsonMessages:
    """Writes one JSON object per message of one input (and per other line, with `all_lines`), as
    jsonl.JsonHandler does; what it writes is taken by the scanner (`take`) and by `flush`."""

    reads_free_lines = True
    attend, inventory, preview = None, False, False  # told as a walk that writes (handler.Handler)

    def __init__(self, rules, stats, name, all_lines=False):
        if _dumps is None:
            _load()
        self._rules, self._stats = rules, stats
        self._file = printable(name)
        self._all_lines = all_lines
        self._out = []
        self._lineno = 0
        self._message = None
        self._pending = None
        self._continuing = None
        self._attribute = None
        self._root = None
        self._lists = []

    @property
    def holding(self):
        return self._message is not None or self._pending is not None or self._continuing is not None

    # ------------------------------------------------------------ what the scanner calls

    cdef int free(self, bytes data, Py_ssize_t start, Py_ssize_t end, Py_ssize_t lineno, bint opener) except -1:
        """A line outside blocks, data[start:end] (no line ending); `opener`: it opens a block."""
        cdef const unsigned char *d = <const unsigned char *>PyBytes_AS_STRING(data)
        self._lineno = lineno
        if self._message is not None or self._continuing is not None:
            if self._continues(data, d, start, end):
                self._ensure_message()
                self._body_line(data, d, start, end, opener)
                return 0
            self._end_message()
            self._continuing = None
        return self._outside(data, d, start, end, opener)

    cdef int kv(self, Py_ssize_t lineno) except -1:
        """A line of the open block, before its pairs."""
        self._lineno = lineno
        self._ensure_message()
        return 0

    cdef int list_at(self, Py_ssize_t depth, const unsigned char *key, Py_ssize_t size) except -1:
        """A list opened inside `depth` open lists; `key` without its quotes."""
        return self._list(depth, _text(key, size))

    cdef int leaf_at(self, Py_ssize_t depth, const unsigned char *key, Py_ssize_t key_size,
                     const unsigned char *value, Py_ssize_t value_size, int quote) except -1:
        """A leaf inside `depth` open lists: its key (no quotes) and its value token as run writes it;
        `quote`: the value's quote to take off, -1 the token's own if it starts with one, 0 none."""
        if quote < 0:
            quote = value[0] if value_size and (value[0] == 39 or value[0] == 34) else 0
        _put(self._container(depth), _text(key, key_size),
             _unquoted(value, value_size, quote) if quote else _text(value, value_size))
        return 0

    cdef int suppressed_at(self, Py_ssize_t depth, const unsigned char *key, Py_ssize_t key_size) except -1:
        """A leaf written `[output suppressed]`."""
        _put(self._container(depth), _text(key, key_size), _SUPPRESSED)
        return 0

    cdef bytes take(self, Py_ssize_t count=-1):
        """The JSON written since the last take; or the first `count` objects of it (the rest is kept)."""
        if not self._out:
            return b""
        if count < 0 or count >= len(self._out):
            data = b"".join(self._out)
            self._out = []
        else:
            data = b"".join(self._out[:count])
            del self._out[:count]
        return data

    cdef Py_ssize_t written(self) noexcept:
        """How many objects were written since the last take."""
        return len(self._out)

    # ------------------------------------------------------------ the Walker's handler

    def free_line(self, bytes body, lineno, opener):
        self.free(body, 0, PyBytes_GET_SIZE(body), lineno, opener is not None)

    def block_opened(self, block, bytes body):
        attribute = block.attribute
        self._attribute = attribute
        self._root = None  # a new block: no root to carry into a new object
        message = self._ensure_message()
        self._root = {}
        self._lists = []
        _put(message["kv"], attribute, self._root)
        text = body.decode("utf-8", "backslashreplace").strip(" \t\r\v\f")
        at = text.find(attribute) if attribute != "KVList" else -1
        _put(message["kv_headers"], attribute, text[at + len(attribute):].lstrip(" \t") if at >= 0 else text)

    def block_closed(self):
        self._attribute = self._root = None
        self._lists = []

    def kv_line(self, body, lineno, block):
        self.kv(lineno)
        return body

    def kv_line_done(self, body, lineno, block, out):
        pass

    def continued(self, bytes body, lineno, block):
        # The text of a copied value printed over several lines: kept with its message.
        self._lineno = lineno
        self._ensure_message().setdefault("other", []).append(
            {"line": lineno, "text": body.decode("utf-8", "backslashreplace")})

    def failed(self, lineno, attribute):
        self._lineno = lineno
        message = self._ensure_message()
        message["failed_closed"] += 1

    def list_opened(self, pair, frame, block):
        self._list(len(block.frames) - 1, _str(pair.key))

    def list_skipped(self, pair, rule, block):
        treatment.count(self._stats, treatment.SKIP, rule, pair.key_raw)

    def leaf(self, kv, pair, chosen, block):
        text = treatment.treat(self._rules, self._stats, kv, pair, chosen)
        if text is None:
            return None  # skipped: absent from the JSON too
        prefix = pair.key_raw + pair.sep
        if pair.value is None or not text.startswith(prefix):
            value = _SUPPRESSED
        else:
            value = text[len(prefix):]
            if pair.value.kind == "str":
                value = _unquoted_str(value, pair.value.raw[0])
            elif pair.value.kind == "int" and value[:1] in ("'", '"'):
                value = _unquoted_str(value, value[0])
        _put(self._container(len(block.frames)), _str(pair.key), _str(value))
        return text

    def long_line(self, head, lineno, free):
        self._lineno = lineno
        if free:
            self.block_closed()
            self._end_message()
            self._continuing = None
            self._write_pending()

    def long_line_end(self, lineno, free, size):
        if free and self._all_lines:
            self._write({"file": self._file, "line": self._lineno, "text": "", "left_out": size})

    def identity_line(self, found, lineno):
        raise AssertionError("JsonMessages is not used with identity rules (registry.py)")

    def emit(self, out):
        return b""  # taken by the scanner at the end of each feed

    def flush(self, ended):
        if self._message is not None:
            if not ended:
                self._continuing = {name: self._message[name] for name in _CONTINUED_FIELDS}
            self._end_message()
        if ended:
            self._continuing = None
        self._write_pending()
        return self.take()

    # ------------------------------------------------------------ messages

    cdef bint _continues(self, bytes data, const unsigned char *d, Py_ssize_t start, Py_ssize_t end) except -1:
        """events.continues_message."""
        if end == start:
            return False
        if white(d[start]) or _starts(d, start, end, b"Attribute", 9):
            return True
        return _starts(d, start, end, b"message ", 8) and _name_at(d, start, end) < 0

    cdef int _outside(self, bytes data, const unsigned char *d, Py_ssize_t start, Py_ssize_t end,
                      bint opener) except -1:
        """A line while no message is open: it starts one, opens a block, or is a free line."""
        cdef Py_ssize_t name = _name_at(d, start, end), name_end, first, time_end
        cdef const unsigned char *t
        if name >= 0:
            event = self._pending if _starts(d, start, end, b"message ", 8) else None
            if event is None:
                self._write_pending()
            self._pending = None
            name_end = name
            while name_end < end and letter(d[name_end]):
                name_end += 1
            header = [_text(d + start, end - start)]
            if event is None:
                t, time_end = d, _time_end(d, start, end, &first)
            else:
                header.insert(0, (<bytes>event[1]).decode("utf-8", "backslashreplace"))
                t = <const unsigned char *>PyBytes_AS_STRING(event[1])
                time_end = _time_end(t, 0, PyBytes_GET_SIZE(event[1]), &first)
            self._start(
                event[0] if event is not None else self._lineno,
                _text(t + first, time_end - first) if time_end >= 0 else None,
                header,
                _text(d + name, name_end - name),
            )
            return 0  # a header line could open a block too: block_opened follows
        self._write_pending()
        if not opener:  # else a block opens: a message with no name
            if end > start:
                self._pending = (self._lineno, data[start:end])
            elif self._all_lines:
                self._write({"file": self._file, "line": self._lineno, "text": ""})
        return 0

    cdef dict _start(self, Py_ssize_t lineno, time, list header, name):
        message = {
            "file": self._file, "line": lineno, "time": time, "header": header, "message": name,
            "attributes": {}, "kv": {}, "kv_headers": {}, "failed_closed": 0,
        }
        self._message = message
        return message

    cdef dict _ensure_message(self):
        """The open message; after a flush that was not its end, a new object that continues it."""
        if self._message is not None:
            return self._message
        template = self._continuing
        if template is None:
            message = self._start(self._lineno, None, [], None)
        else:
            message = self._start(self._lineno, template["time"], list(template["header"]), template["message"])
            message["continued"] = True
        if self._attribute is not None and self._root is not None:  # the open block and lists go on in it
            self._root = root = {}
            _put(message["kv"], self._attribute, root)
            for index, entry in enumerate(self._lists):
                if index >= _DEPTH:  # flattened into the list at the limit, as _list does
                    message["flattened"] = message.get("flattened", 0) + 1
                    (<list>entry)[0] = root
                    continue
                inner = {}
                _put(root, (<list>entry)[1], inner)
                (<list>entry)[0] = inner
                root = inner
        return message

    cdef int _body_line(self, bytes data, const unsigned char *d, Py_ssize_t start, Py_ssize_t end,
                        bint opener) except -1:
        """A line that continues the message outside a KV block: an attribute, an opener, or other text."""
        cdef Py_ssize_t i = start, name_start, name_end, value_start, value_end, last = end
        cdef int quote
        message = self._message
        if opener:
            return 0
        while i < end and white(d[i]):
            i += 1
        if i == end:
            return 0  # blanks only
        quote = self._attribute_line(d, start, end, &name_start, &name_end, &value_start, &value_end)
        if quote:
            _put(message["attributes"], _text(d + name_start, name_end - name_start),
                 _unquoted(d + value_start, value_end - value_start, quote))
            return 0
        while last > start and white(d[last - 1]):
            last -= 1
        if last - start == PyBytes_GET_SIZE(_BOILERPLATE) and memcmp(d + start, <const char *>_BOILERPLATE, last - start) == 0 \
                and self._lineno == message["line"] + len(message["header"]):
            message["header"].append(_text(d + start, end - start))  # right under the header lines: part of the PSDK header
        else:
            message.setdefault("other", []).append({"line": self._lineno, "text": _text(d + start, end - start)})
        return 0

    cdef int _attribute_line(self, const unsigned char *d, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *name_start,
                             Py_ssize_t *name_end, Py_ssize_t *value_start, Py_ssize_t *value_end) noexcept:
        """An attribute line outside blocks (jsonl's _PSDK_ATTRIBUTE, then _C_ATTRIBUTE, fullmatch): the
        quote its value may be in (`"` PSDK, `'` C), its name and value; 0 when it is neither."""
        cdef Py_ssize_t i = start, lead
        while i < end and blank(d[i]):
            i += 1
        lead = i - start
        if not _starts(d, i, end, b"Attribute", 9):
            return 0
        name_start[0] = i
        i += 9
        while i < end and name_char(d[i]):
            i += 1
        name_end[0] = i
        # the trailing blanks are not the value's
        value_end[0] = end
        while value_end[0] > i and blank(d[value_end[0] - 1]):
            value_end[0] -= 1
        if i == end or i == value_end[0]:  # nothing after the name but blanks
            value_start[0] = value_end[0] = i
            return 39 if lead else 0
        if not blank(d[i]):
            return 0
        while i < end and blank(d[i]):
            i += 1
        value_start[0] = i
        # `[type] =` after the name: a PSDK attribute
        if i < end and d[i] == 91 and i + 1 < end and letter(d[i + 1]):
            i += 2
            while i < end and name_char(d[i]):
                i += 1
            if i < end and d[i] == 93:
                i += 1
                while i < end and blank(d[i]):
                    i += 1
                if i < end and d[i] == 61:
                    i += 1
                    while i < end and blank(d[i]):
                        i += 1
                    value_start[0] = i if i < value_end[0] else value_end[0]
                    return 34
        return 39 if lead else 0

    cdef int _list(self, Py_ssize_t depth, str key) except -1:
        parent = self._container(depth)
        if len(self._lists) >= _DEPTH:
            # JSON readers refuse deeper nesting: the pairs of a deeper list go into the list at
            # the limit, filtered as ever, and the message says so.
            message = self._ensure_message()
            message["flattened"] = message.get("flattened", 0) + 1
            self._lists.append([parent, key])
            return 0
        inner = {}
        _put(parent, key, inner)
        self._lists.append([inner, key])
        return 0

    cdef dict _container(self, Py_ssize_t depth):
        """The object the next pair goes into: the innermost of the `depth` lists open, or the block's."""
        lists = self._lists
        if len(lists) > depth:
            del lists[depth:]
        if lists:
            return <dict>(<list>lists[len(lists) - 1])[0]
        assert self._root is not None, "a KV line outside a block"
        return self._root

    cdef int _end_message(self) except -1:
        if self._message is not None:
            self._write(self._message)
            self._message = None
        return 0

    cdef int _write_pending(self) except -1:
        if self._pending is not None:
            lineno, body = self._pending
            self._pending = None
            if self._all_lines:
                self._write({"file": self._file, "line": lineno, "text": body.decode("utf-8", "backslashreplace")})
        return 0

    cdef int _write(self, dict item) except -1:
        self._out.append(_dumps(item, option=_NEWLINE))
        return 0
