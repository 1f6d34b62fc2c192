"""Reads [log-filter] / [log-filter-data] option text and CLI overrides into a Policy.

The file may be a server's whole option export: sections that are not logfilter's
(`[TServer]`, `[log]`, ...) are ignored, and named when asked (`--verbose`); a section that
looks meant for logfilter (`[Log-Filter]`, `[log-filtre]`, `[log-filter-datas]`) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from logfilter.errors import ConfigError
from logfilter.names import printable
from logfilter.rules.detect import DetectorError, parse_names
from logfilter.rules.filters import COPY, HIDE, FilterType, FilterTypeError, parse_filter_type
from logfilter.rules.hashing import Secret, read_key, weakness
from logfilter.rules.identity_rules import SECTIONS as IDENTITY_SECTIONS
from logfilter.rules.identity_rules import Collector, IdentityRules
from logfilter.rules.rule import Rule
from logfilter.rules.spelling import nearest

FILTER_SECTION = "log-filter"
DATA_SECTION = "log-filter-data"
# logfilter's sections, the one list of them: any other section is some other program's and
# is ignored, unless it looks like one of these (then it is refused, with a did-you-mean).
SECTIONS = (FILTER_SECTION, DATA_SECTION, *IDENTITY_SECTIONS)
FILTER_OPTIONS = ("default-filter-type", "detect", "detect-filter-type", "hash-key-file")


@dataclass(frozen=True, slots=True)
class Policy:
    """The validated configuration every engine and front door works from."""

    default: FilterType = COPY
    rules: tuple[Rule, ...] = ()
    ignore_key_case: bool = False
    # Detectors (detect.NAMES) whose finds are masked with detect_filter_type in values a
    # rule would leave in clear (copy, tag).
    detect: tuple[str, ...] = ()
    detect_filter_type: FilterType = HIDE
    # What the command line tells the user about this configuration: the sections of the file
    # it ignored (`[TServer] (line 1)`, said with --verbose) and warnings (a weak hash key).
    ignored_sections: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # [log-filter-attributes] and [log-filter-sip] (rules/identity_rules.py): empty, nothing reads those lines.
    identity: IdentityRules = IdentityRules()


@dataclass(frozen=True, slots=True)
class Options:
    """What a configuration file says besides its per-key rules; None where it is silent."""

    default: FilterType | None = None
    detect: tuple[str, ...] | None = None
    detect_filter_type: FilterType | None = None
    # hash-key-file: the path (relative to the file's folder) and where it was written.
    hash_key_file: Path | None = None
    hash_key_where: str | None = None
    # Sections that are not logfilter's, as `[name] (line N)`: ignored.
    ignored: tuple[str, ...] = ()
    identity: IdentityRules = IdentityRules()  # [log-filter-attributes] and [log-filter-sip]


def _parse(text: str, where: str, option: str) -> FilterType:
    try:
        return parse_filter_type(text)
    except FilterTypeError as exc:
        msg = f"{where}: {option}: {exc}"
        raise ConfigError(msg) from None


def read_config(path: Path) -> tuple[Options, list[Rule]]:
    """Read a Genesys option file; return its [log-filter] options and its rules."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"{printable(path)}: cannot read the configuration file ({exc.strerror or exc})"
        raise ConfigError(msg) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        msg = f"{printable(path)}: the configuration file is not UTF-8 text"
        raise ConfigError(msg) from None
    options, rules = _read_lines(text.splitlines(), printable(path))
    if options.hash_key_file is not None:
        options = replace(options, hash_key_file=path.parent / options.hash_key_file)
    return options, rules


def _read_lines(lines: Iterable[str], name: str) -> tuple[Options, list[Rule]]:
    options: dict[str, object] = {}
    rules: list[Rule] = []
    ignored: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    identity = Collector()
    section: str | None = None
    for number, line in enumerate(lines, start=1):
        where = f"{name}:{number}"
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                msg = f"{where}: a section header must look like [{FILTER_SECTION}]"
                raise ConfigError(msg)
            section = stripped[1:-1].strip()
            if section not in SECTIONS:
                _refuse_near_miss(section, where)
                ignored.append(f"[{printable(section)}] (line {number})")
            continue
        if section is None:
            msg = f"{where}: option outside a section; put it under [{FILTER_SECTION}] or [{DATA_SECTION}]"
            raise ConfigError(msg)
        if section not in SECTIONS:
            continue  # another program's option: not read at all
        key, equals, value = stripped.partition("=")
        key = key.strip()
        if not equals or not key:
            msg = f"{where}: [{section}]: expected OPTION=VALUE"
            raise ConfigError(msg)
        if (section, key) in seen:
            msg = f"{where}: [{section}] {key}: set twice (first on line {seen[section, key]})"
            raise ConfigError(msg)
        seen[section, key] = number
        if section == FILTER_SECTION:
            if key not in FILTER_OPTIONS:
                msg = f"{where}: [{section}] unknown option {key}; expected one of: {', '.join(FILTER_OPTIONS)}"
                raise ConfigError(msg)
            if key == "hash-key-file":
                if not value.strip():
                    msg = f"{where}: [{section}] {key}: expected the path of a file holding the hash key"
                    raise ConfigError(msg)
                options["hash_key_file"], options["hash_key_where"] = Path(value.strip()), where
            elif key == "detect":
                options["detect"] = parse_detect(value, f"{where}: [{section}] {key}")
            else:
                field = "default" if key == "default-filter-type" else "detect_filter_type"
                options[field] = _parse(value, where, f"[{section}] {key}")
        elif section in IDENTITY_SECTIONS:
            identity.add(section, key, _parse(value, where, f"[{section}] {key}"), where)
        else:
            rules.append(Rule(key, _parse(value, where, f"[{section}] {key}"), where))
    if identity.rules():
        options["identity"] = identity.rules()
    return Options(**options, ignored=tuple(ignored)), rules  # type: ignore[arg-type]


def _refuse_near_miss(section: str, where: str) -> None:
    """Refuse a section that looks meant for logfilter: another case or separator, a few edits
    off, or named `log-filter...`; a section of another program passes (it is ignored)."""
    spelled = re.sub(r"[\s_.]+", "-", section.casefold())
    guess = spelled if spelled in SECTIONS else nearest(spelled, SECTIONS)
    if guess is None and not spelled.replace("-", "").startswith("logfilter"):
        return
    msg = f"{where}: unknown section [{printable(section)}]"
    if guess is None:
        import difflib  # only to say what was meant

        guesses = difflib.get_close_matches(spelled, SECTIONS, n=1)
        guess = guesses[0] if guesses else None
    ours = ", ".join(f"[{name}]" for name in SECTIONS)
    msg += f"; did you mean [{guess}]?" if guess else f"; logfilter reads {ours}"
    raise ConfigError(msg)


def parse_detect(text: str, where: str) -> tuple[str, ...]:
    """A detector list (`pan,email`, `all`, or empty for none); ConfigError names `where`."""
    try:
        return parse_names(text)
    except DetectorError as exc:
        msg = f"{where}: {exc}"
        raise ConfigError(msg) from None


def parse_key_option(text: str) -> Rule:
    """Parse a --key KEY=TYPE override."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        msg = f"--key {text.split('=')[0]!r}: expected KEY=FILTER-TYPE, as in --key PASSWORD=hide"
        raise ConfigError(msg)
    key = key.strip()
    return Rule(key, _parse(value, "--key", key), "--key")


def load_policy(
    config: Path | None = None,
    default: str | None = None,
    keys: Iterable[str] = (),
    ignore_key_case: bool = False,
    detect: str | None = None,
    keyed: bool = True,
) -> Policy:
    """Build the Policy from a config file and CLI overrides; refuse an empty configuration.

    `detect` (a detector list, as `--detect` gives it) replaces the file's `detect`. With
    `keyed` false the hash key is not read: for commands that name filter types but never
    hash (scan, keys), so they run where the key is not.
    """
    keys = list(keys)
    if config is None and default is None and not keys and detect is None:
        msg = (
            "no filter configured: give -c filter.ini, --default TYPE or --key KEY=TYPE "
            "(use --default copy to copy everything on purpose)"
        )
        raise ConfigError(msg)
    options, rules = read_config(config) if config is not None else (Options(), [])
    says_nothing = options.default is None and not options.detect and not rules and not options.identity
    if config is not None and says_nothing and default is None and not keys and detect is None:
        msg = (
            f"{printable(config)}: sets no default-filter-type and no [{DATA_SECTION}] rule, so nothing would be "
            "masked; add rules, or use --default copy to copy everything on purpose"
        )
        if options.ignored:
            msg += f" (the sections it has are not logfilter's: {', '.join(options.ignored)})"
        raise ConfigError(msg)
    chosen = _parse(default, "--default", "default-filter-type") if default is not None else options.default
    names = parse_detect(detect, "--detect") if detect is not None else options.detect or ()
    by_key = {_fold(rule.key, ignore_key_case): rule for rule in rules}
    for text in keys:
        rule = parse_key_option(text)
        by_key[_fold(rule.key, ignore_key_case)] = rule
    if ignore_key_case:
        _refuse_case_clashes(rules)
    policy = Policy(
        chosen or COPY, tuple(by_key.values()), ignore_key_case, names, options.detect_filter_type or HIDE,
        options.ignored,
        identity=options.identity,
    )
    return with_hash_key(policy, options.hash_key_file, options.hash_key_where) if keyed else policy


def with_hash_key(policy: Policy, key_file: Path | None, where: str | None) -> Policy:
    """Bind the hash key to every hash filter type of the policy; a policy without one is returned as it is.

    The key is read (hashing.read_key) only when some rule hashes: without a hash rule,
    neither LOGFILTER_HASH_KEY nor hash-key-file is looked at.
    """
    if not any(ft.is_hash for ft in _filter_types(policy)):
        return policy
    secret = read_key(key_file, where)
    weak = weakness(secret)
    return replace(
        policy,
        default=_bound(policy.default, secret),
        rules=tuple(replace(rule, filter_type=_bound(rule.filter_type, secret)) for rule in policy.rules),
        detect_filter_type=_bound(policy.detect_filter_type, secret),
        warnings=policy.warnings + ((weak,) if weak is not None else ()),
        identity=policy.identity.bound(lambda filter_type: _bound(filter_type, secret)),
    )


def _bound(filter_type: FilterType, secret: Secret) -> FilterType:
    return filter_type.keyed(secret) if filter_type.is_hash else filter_type


def hash_key_id(policy: Policy) -> str | None:
    """The id of the policy's hash key (hashing.Secret.id), None when nothing hashes."""
    return next((ft.secret.id for ft in _filter_types(policy) if ft.secret is not None), None)


def _filter_types(policy: Policy) -> list[FilterType]:
    return [policy.default, policy.detect_filter_type, *(rule.filter_type for rule in policy.rules),
            *policy.identity.filter_types()]  # fmt: skip


def _fold(key: str, ignore_case: bool) -> str:
    return key.casefold() if ignore_case else key


def _refuse_case_clashes(rules: list[Rule]) -> None:
    first: dict[str, Rule] = {}
    for rule in rules:
        other = first.setdefault(rule.key.casefold(), rule)
        if other is not rule and other.filter_type != rule.filter_type:
            msg = (
                f"{rule.origin}: [{DATA_SECTION}] {rule.key}: clashes with {other.key} "
                f"({other.origin}) when key case is ignored"
            )
            raise ConfigError(msg)
