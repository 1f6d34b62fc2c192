"""The settings of a batch: what every file is rewritten under, the same on every worker.

Validated once on the client and sent to each worker (a local process or a Dask worker) in
memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import orjson

from logfilter import __version__
from logfilter.batch.rewrite import Rewriter
from logfilter.engines.registry import EngineName, Format, WalkChoice
from logfilter.pipeline import OnError
from logfilter.rules.compiled import Rules
from logfilter.rules.config import Policy, hash_key_id
from logfilter.sources.limits import Limits


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a worker needs besides the job: validated once, pickled to each worker."""

    policy: Policy
    engine: EngineName = "fast"
    on_error: OnError = "redact"
    keep_binary: bool = False
    output_format: Format = "tlib"
    all_lines: bool = False
    limits: Limits = Limits()  # what an input may unpack to; not in the fingerprint: it changes no output

    def describe(self) -> dict[str, object]:
        """The configuration for the report: rule texts, never values."""
        return {
            "default-filter-type": self.policy.default.text,
            "log-filter-data": {rule.key: rule.filter_type.text for rule in self.policy.rules},
            "ignore-key-case": self.policy.ignore_key_case,
            "detect": list(self.policy.detect),
            "detect-filter-type": self.policy.detect_filter_type.text,
            "engine": self.engine,
            "on-error": self.on_error,
            "keep-binary": self.keep_binary,
            "format": self.output_format,
            "all-lines": self.all_lines,
            # When configured: a changed identity rule redoes every output (nothing, else: fingerprints stay).
            **self.policy.identity.describe(),
            # Which key the hash rules use (an id, never the key): a new key redoes every output.
            **({"hash-key-id": key_id} if (key_id := hash_key_id(self.policy)) else {}),
        }

    def rewriter(self, rules: Rules, spool_dir: Path | None, size: int | None = None) -> Rewriter:
        """The Rewriter of one file (of `size` bytes, for the expansion ratio) under these settings
        (local worker or cluster task)."""
        return Rewriter(
            rules, choice=WalkChoice(self.engine, self.output_format, self.all_lines), on_error=self.on_error,
            keep_binary=self.keep_binary, spool_dir=spool_dir, limits=self.limits, size=size,
        )  # fmt: skip

    def fingerprint(self) -> str:
        """What an output depends on: everything but the engine (both give the same bytes), and the version."""
        what = {key: value for key, value in self.describe().items() if key != "engine"}
        what["logfilter"] = __version__
        return hashlib.sha256(orjson.dumps(what, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
