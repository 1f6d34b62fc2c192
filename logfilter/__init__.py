"""logfilter: Genesys log-filter semantics applied to T-Library logs outside the server."""

from logfilter.chain import Chain, compile_policy
from logfilter.config import Policy, Rule, load_policy
from logfilter.engine import ReferenceEngine
from logfilter.errors import ConfigError, InputError, LogFilterError
from logfilter.filters import FilterType, parse_filter_type
from logfilter.pipeline import run
from logfilter.stats import Stats

__all__ = [
    "Chain",
    "ConfigError",
    "FilterType",
    "InputError",
    "LogFilterError",
    "Policy",
    "ReferenceEngine",
    "Rule",
    "Stats",
    "compile_policy",
    "load_policy",
    "parse_filter_type",
    "run",
]
