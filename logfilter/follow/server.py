"""`follow --listen`: GET /healthz and GET /metrics (Prometheus text format), on a thread of their own.

Everything served is a count, a file name or a reason naming a file: never log data.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from logfilter.errors import ConfigError, LogFilterError

if TYPE_CHECKING:
    from logfilter.follow.follower import Follower

# (metric name without _total, help, Stats field)
_COUNTERS = (
    ("logfilter_input_bytes", "Bytes read from the followed files.", "bytes_in"),
    ("logfilter_output_bytes", "Bytes written to the outputs.", "bytes_out"),
    ("logfilter_input_lines", "Lines read and processed.", "lines"),
    ("logfilter_output_lines", "Lines written to the outputs.", "lines_out"),
    ("logfilter_messages", "T-Library message headers seen.", "messages"),
    ("logfilter_kv_pairs", "Key-value pairs seen in KV blocks.", "pairs"),
    ("logfilter_pairs_skipped", "Key-value pairs removed by skip.", "skipped"),
    ("logfilter_lines_failed_closed", "Unparsable lines in KV blocks, masked whole.", "failed_closed"),
)
_DETECTED = ("logfilter_values_detected", "Values a detector caught where the rule would have left them in clear.")


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


class _Collector:
    """Reads the follower's counts at each scrape; the follower never waits for it."""

    def __init__(self, follower: Follower) -> None:
        self._follower = follower

    def collect(self) -> Iterator[Metric]:
        follower = self._follower
        stats = follower.stats
        for name, text, field in _COUNTERS:
            yield CounterMetricFamily(name, text, value=getattr(stats, field))
        masked = CounterMetricFamily(
            "logfilter_values_masked", "Values masked or tagged, by filter type.", labels=["filter_type"]
        )
        for filter_type, count in stats.by_filter_type().items():
            if filter_type != "skip":
                masked.add_metric([filter_type], count)
        yield masked
        detected = CounterMetricFamily(*_DETECTED, labels=["detector"])
        for detector, count in stats.by_detector().items():
            detected.add_metric([detector], count)
        yield detected
        yield CounterMetricFamily(
            "logfilter_messages_resent", "Messages sent to stdout again after a restart.", value=follower.resent
        )
        rotations = CounterMetricFamily("logfilter_rotations", "Rotations seen, by kind.", labels=["kind"])
        for kind, count in sorted(follower.rotations.items()):
            rotations.add_metric([kind], count)
        yield rotations
        tails = list(follower.tails.values())
        failed = sum(tail.failed for tail in tails)
        yield GaugeMetricFamily("logfilter_files_followed", "Files being followed.", value=len(tails) - failed)
        yield GaugeMetricFamily(
            "logfilter_files_failed", "Files stopped at a line that could not be read (--on-error fail).", value=failed
        )
        yield GaugeMetricFamily(
            "logfilter_patterns_unmatched", "Patterns that match no file (a wrong mount or a typo?).",
            value=len(follower.discovery.unmatched.since),
        )
        lag = GaugeMetricFamily("logfilter_lag_bytes", "Bytes written to a file and not yet emitted.", labels=["file"])
        for tail in tails:
            lag.add_metric([tail.name], tail.lag())
        yield lag
        reloads = CounterMetricFamily("logfilter_config_reloads", "Rules reloads, by result.", labels=["result"])
        for result, count in sorted(follower.reloads.items()):
            reloads.add_metric([result], count)
        yield reloads
        yield GaugeMetricFamily(
            "logfilter_config_stale", "1 while the last good rules are in use because the file could not be read.",
            value=int("rules" in follower.health.notes),
        )
        yield CounterMetricFamily(
            "logfilter_outputs_recreated", "Outputs deleted or replaced by others, started again.",
            value=follower.outputs_recreated,
        )
        ok, _ = follower.health.report()
        yield GaugeMetricFamily("logfilter_healthy", "1 while following with no problem, else 0.", value=int(ok))


class Server:
    """The HTTP endpoints of one follower."""

    def __init__(self, follower: Follower, host: str, port: int, family: socket.AddressFamily) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(follower))  # type: ignore[arg-type]
        health = follower.health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    ok, reason = health.report()
                    self._send(200 if ok else 503, f"{reason}\n".encode(), "text/plain; charset=utf-8")
                elif path == "/metrics":
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found: try /healthz or /metrics\n", "text/plain; charset=utf-8")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # requests are not logged: stderr is for what happens to the logs

        class HTTPServer(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        try:
            self._http = HTTPServer((host, port), Handler)
        except OSError as exc:
            msg = f"--listen {host}:{port}: cannot listen ({exc.strerror})"
            raise LogFilterError(msg) from None
        self.address = self._http.server_address[:2]
        self._thread = threading.Thread(target=self._http.serve_forever, name="logfilter-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
