"""What GET /metrics says (Prometheus text format): the follower's counts, read at each scrape.

Everything in it is a count, a file name or a pattern: never log data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from logfilter.follow.follower import Follower

CONTENT_TYPE = CONTENT_TYPE_LATEST

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


class Metrics:
    """The /metrics page of one follower."""

    def __init__(self, follower: Follower) -> None:
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(_Collector(follower))  # type: ignore[arg-type]

    def render(self) -> bytes:
        return generate_latest(self._registry)


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
            "logfilter_links_refused", "Matched names that link out of their pattern's folder: not followed.",
            value=len(follower.discovery.links),
        )
        yield GaugeMetricFamily(
            "logfilter_patterns_unmatched", "Patterns that match no file (a wrong mount or a typo?).",
            value=len(follower.discovery.unmatched.since),
        )
        unmatched = GaugeMetricFamily(
            "logfilter_rules_unmatched", "Rules that matched no key in the files read (1 each; issue 20.1).", labels=["rule"]
        )
        for rule in follower.unmatched_rules.rules:
            unmatched.add_metric([rule.key], 1)
        yield unmatched
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
