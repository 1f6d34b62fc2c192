# The compiled JSON lines handler, as the compiled scanner (scanner.pyx) calls it: json_messages.pyx.

cdef class JsonMessages:
    cdef object _rules, _stats, _file
    cdef bint _all_lines
    cdef list _out
    cdef Py_ssize_t _lineno
    cdef dict _message  # the message being built, or None
    cdef object _pending  # (line number, bytes): the last free line, maybe a message's event line; or None
    cdef dict _continuing  # a message written before its end (flush not ended), or None
    cdef object _attribute  # the open KV block's attribute, or None
    cdef dict _root  # its object, or None
    cdef list _lists  # its open lists: [object, key] each, the outermost first

    cdef int free(self, bytes data, Py_ssize_t start, Py_ssize_t end, Py_ssize_t lineno, bint opener) except -1
    cdef int kv(self, Py_ssize_t lineno) except -1
    cdef int list_at(self, Py_ssize_t depth, const unsigned char *key, Py_ssize_t size) except -1
    cdef int leaf_at(self, Py_ssize_t depth, const unsigned char *key, Py_ssize_t key_size,
                     const unsigned char *value, Py_ssize_t value_size, int quote) except -1
    cdef int suppressed_at(self, Py_ssize_t depth, const unsigned char *key, Py_ssize_t key_size) except -1
    cdef bytes take(self, Py_ssize_t count=*)
    cdef Py_ssize_t written(self) noexcept

    cdef bint _continues(self, bytes data, const unsigned char *d, Py_ssize_t start, Py_ssize_t end) except -1
    cdef int _outside(self, bytes data, const unsigned char *d, Py_ssize_t start, Py_ssize_t end, bint opener) except -1
    cdef dict _start(self, Py_ssize_t lineno, time, list header, name)
    cdef dict _ensure_message(self)
    cdef int _body_line(self, bytes data, const unsigned char *d, Py_ssize_t start, Py_ssize_t end,
                        bint opener) except -1
    cdef int _attribute_line(self, const unsigned char *d, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *name_start,
                             Py_ssize_t *name_end, Py_ssize_t *value_start, Py_ssize_t *value_end) noexcept
    cdef int _list(self, Py_ssize_t depth, str key) except -1
    cdef dict _container(self, Py_ssize_t depth)
    cdef int _end_message(self) except -1
    cdef int _write_pending(self) except -1
    cdef int _write(self, dict item) except -1
