"""`follow --listen`: GET /healthz, /livez and /metrics, served by one thread that survives its clients.

The server lives beside the follower in a pod limited to a few hundred MiB, reachable by
whatever the network lets through, so no client may hold more than a bounded share of it:

- one thread and one selector serve every connection: idle sockets cost a file descriptor,
  not a thread;
- at most MAX_CONNECTIONS are open; a new one closes the oldest still waiting for its request;
- a request must arrive whole within TIMEOUT seconds of the connection (a client sending a
  byte at a time is cut off), its head in MAX_HEAD bytes (431 beyond), and the answer must be
  taken within the same time;
- one request per connection (Connection: close), GET and HEAD only; after the answer, what
  the client still sends is dropped until it closes, so a refusal (431) reaches it;
- a client that goes away is closed quietly: nothing of it reaches stderr.

Everything served is a count, a file name or a reason naming a file: never log data.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket
import threading
from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING

from logfilter.errors import ConfigError, LogFilterError
from logfilter.follow.metrics import CONTENT_TYPE, Metrics
from logfilter.names import printable

if TYPE_CHECKING:
    from logfilter.follow.follower import Follower

MAX_CONNECTIONS = 64  # open at once; about 10 KiB each at most
MAX_HEAD = 8192  # bytes of request line and headers
TIMEOUT = 5.0  # seconds from a connection to its answer taken
TEXT = "text/plain; charset=utf-8"
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           431: "Request Header Fields Too Large", 503: "Service Unavailable"}  # fmt: skip


def parse_listen(text: str, allow_any: bool) -> tuple[str, int, socket.AddressFamily]:
    """HOST:PORT (IPv6 as [::1]:PORT) to a bindable address; loopback only unless `allow_any`."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        msg = f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464"
        raise ConfigError(msg)
    try:
        found = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        msg = f"--listen {text!r}: cannot resolve {host} ({exc.strerror})"
        raise ConfigError(msg) from None
    family, address = found[0][0], found[0][4][0]
    if not allow_any and not all(ipaddress.ip_address(item[4][0].split("%")[0]).is_loopback for item in found):
        msg = (
            f"--listen {text!r}: not a loopback address; /metrics and /healthz would be reachable "
            "from other machines (add --listen-any if that is what you want)"
        )
        raise ConfigError(msg)
    return address, int(port), family


@dataclass(slots=True)
class _Connection:
    sock: socket.socket
    deadline: float
    received: bytearray = field(default_factory=bytearray)
    answer: memoryview | None = None  # what is left to send, once the request is read
    sent: bool = False  # the answer went out: what the client still sends is read and dropped


class Server:
    """The HTTP endpoints of one follower, on a thread of their own."""

    def __init__(self, follower: Follower, host: str, port: int, family: socket.AddressFamily) -> None:
        self._health = follower.health
        self._metrics = Metrics(follower)
        try:
            self._listener = socket.create_server((host, port), family=family, backlog=MAX_CONNECTIONS)
        except OSError as exc:
            msg = f"--listen {host}:{port}: cannot listen ({exc.strerror})"
            raise LogFilterError(msg) from None
        self._listener.setblocking(False)
        self.address = self._listener.getsockname()[:2]
        self._connections: dict[socket.socket, _Connection] = {}  # oldest first
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="logfilter-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        for connection in list(self._connections.values()):
            self._close(connection)
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()
        self._selector.close()

    # -- the loop ---------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stopping:
            for key, events in self._selector.select(timeout=1.0):
                sock = key.fileobj
                if sock is self._listener:
                    self._accept()
                elif sock is not self._wake_r:
                    connection = self._connections.get(sock)  # type: ignore[call-overload]
                    if connection is not None:
                        self._ready(connection, events)
            now = monotonic()
            for connection in [c for c in self._connections.values() if c.deadline <= now]:
                self._close(connection)  # too slow: sending its request, or taking the answer

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. out of file descriptors: the client is refused, the server goes on
            if len(self._connections) >= MAX_CONNECTIONS:
                self._close(next(iter(self._connections.values())))  # the oldest is the likeliest idle
            sock.setblocking(False)
            self._connections[sock] = _Connection(sock, monotonic() + TIMEOUT)
            self._selector.register(sock, selectors.EVENT_READ)

    def _ready(self, connection: _Connection, events: int) -> None:
        try:
            if connection.sent:
                if not connection.sock.recv(65536):
                    self._close(connection)  # the client has read the answer and closed
            elif connection.answer is None and events & selectors.EVENT_READ:
                self._read(connection)
            if connection.answer is not None and not connection.sent:
                self._write(connection)
        except OSError:
            self._close(connection)  # the client went away or reset: nothing to say about it

    def _read(self, connection: _Connection) -> None:
        data = connection.sock.recv(4096)
        if not data:
            self._close(connection)
            return
        connection.received += data
        end = connection.received.find(b"\r\n\r\n")
        if end < 0:
            end = connection.received.find(b"\n\n")
        if 0 <= end < MAX_HEAD:
            status, body, kind, head_only = self._answer(bytes(connection.received[:end]))
        elif len(connection.received) >= MAX_HEAD:
            status, body, kind, head_only = 431, b"request head too large\n", TEXT, False
        else:
            return  # more of the head is to come
        connection.received = bytearray()
        head = (f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
        connection.answer = memoryview(head if head_only else head + body)
        self._selector.modify(connection.sock, selectors.EVENT_WRITE)

    def _write(self, connection: _Connection) -> None:
        assert connection.answer is not None
        try:
            sent = connection.sock.send(connection.answer)
        except BlockingIOError:
            return
        connection.answer = connection.answer[sent:]
        if not connection.answer:
            # Closing now, with request bytes still unread, would reset the connection and
            # could destroy the answer before the client reads it (a 431): end our side, and
            # drop what comes until the client closes or its deadline passes.
            connection.sent = True
            connection.sock.shutdown(socket.SHUT_WR)
            self._selector.modify(connection.sock, selectors.EVENT_READ)

    def _answer(self, head: bytes) -> tuple[int, bytes, str, bool]:
        """Status, body, content type, and whether to send the head only, for a request head."""
        parts = head.split(b"\n", 1)[0].split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            return 400, b"bad request\n", TEXT, False
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return 405, b"only GET and HEAD\n", TEXT, False
        if target == b"/healthz":
            ok, reason = self._health.report()
            reason = printable(reason)  # the names in it, escaped as on stderr
            return (200 if ok else 503), f"{reason}\n".encode(), TEXT, method == b"HEAD"
        if target == b"/livez":
            ok, reason = self._health.alive()
            return (200 if ok else 503), f"{reason}\n".encode(), TEXT, method == b"HEAD"
        if target == b"/metrics":
            return 200, self._metrics.render(), CONTENT_TYPE, method == b"HEAD"
        return 404, b"not found: try /healthz, /livez or /metrics\n", TEXT, method == b"HEAD"

    def _close(self, connection: _Connection) -> None:
        self._connections.pop(connection.sock, None)
        try:
            self._selector.unregister(connection.sock)
        except (KeyError, ValueError):
            pass
        connection.sock.close()
