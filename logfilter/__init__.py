"""logfilter: Genesys log-filter semantics applied to T-Library logs outside the server.

The public names below are imported when first used, so that `import logfilter` (and every
command's start) costs only what the command needs.
"""

from __future__ import annotations

from importlib import import_module

_PUBLIC = {
    "Rules": "logfilter.rules.compiled",
    "compile_policy": "logfilter.rules.compiled",
    "Policy": "logfilter.rules.config",
    "Rule": "logfilter.rules.config",
    "load_policy": "logfilter.rules.config",
    "Walker": "logfilter.engines.walker",
    "REFERENCE": "logfilter.engines.walker",
    "Handler": "logfilter.engines.handler",
    "RenderHandler": "logfilter.engines.render",
    "ConfigError": "logfilter.errors",
    "InputError": "logfilter.errors",
    "LogFilterError": "logfilter.errors",
    "FilterType": "logfilter.rules.filters",
    "parse_filter_type": "logfilter.rules.filters",
    "run": "logfilter.pipeline",
    "Stats": "logfilter.stats",
}
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # slow to import: only when asked

    try:
        return version("logfilter")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


__all__ = ["Rules", "compile_policy", "Policy", "Rule", "load_policy", "Walker", "REFERENCE", "Handler", "RenderHandler", "ConfigError", "InputError", "LogFilterError", "FilterType", "parse_filter_type", "run", "Stats"]  # noqa: RUF022 - as _PUBLIC lists them


def __getattr__(name: str) -> object:
    if name == "__version__":
        return _version()
    module = _PUBLIC.get(name)
    if module is None:
        msg = f"module 'logfilter' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(import_module(module), name)
