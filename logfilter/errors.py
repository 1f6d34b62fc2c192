"""The exceptions logfilter raises, each carrying the exit code the CLI uses for it."""


class LogFilterError(Exception):
    """A known runtime failure, such as an output that cannot be written (exit 1)."""

    exit_code = 1


class ConfigError(LogFilterError):
    """A bad rules file, filter type or flag combination (exit 2)."""

    exit_code = 2


class InputError(LogFilterError):
    """A KV line that cannot be parsed while --on-error=fail is in force (exit 3)."""

    exit_code = 3
