"""The `hash` filter type's key: where it comes from, how it is kept secret, and the keyed pseudonym.

A value becomes `h:` and the first N hex digits of HMAC-SHA256(key, value text). The key is
read once (LOGFILTER_HASH_KEY or `[log-filter] hash-key-file`), held in a Secret whose repr
never shows it, and travels with the Policy when it is pickled; nothing else ever prints it.
Reports and fingerprints name the key by its id, a keyed digest that does not reveal it.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from logfilter.errors import ConfigError

ENV_VAR = "LOGFILTER_HASH_KEY"
KEY_FILE_OPTION = "[log-filter] hash-key-file"
MIN_KEY_BYTES = 16
DEFAULT_LENGTH = 16
MIN_LENGTH, MAX_LENGTH = 8, 64
PREFIX = "h:"
_MAKE_ONE = "make one with: openssl rand -hex 32"
_ID_MESSAGE = b"logfilter hash key id"


@dataclass(frozen=True, slots=True)
class Secret:
    """Key bytes that never show: repr and str are redacted; pickling keeps them (for workers)."""

    value: bytes = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(<redacted>)"

    __str__ = __repr__

    @property
    def id(self) -> str:
        """A name for the key in reports and fingerprints: a keyed digest, not the key."""
        import hmac  # only where a key is used

        return hmac.digest(self.value, _ID_MESSAGE, "sha256").hex()[:16]


def pseudonym(secret: Secret, length: int, text: str) -> str:
    """`h:` and the first `length` hex digits of HMAC-SHA256 of the text's bytes (surrogates as the original bytes)."""
    import hmac

    digest = hmac.digest(secret.value, text.encode("utf-8", "surrogateescape"), "sha256")
    return PREFIX + digest.hex()[:length]


def token_regex(length: int) -> re.Pattern[str]:
    """The text of a value `hash(length)` has already replaced (for scan)."""
    return re.compile(f"{PREFIX}[0-9a-f]{{{length}}}")


def read_key(key_file: Path | None, where: str | None) -> Secret:
    """The hash key from LOGFILTER_HASH_KEY or the key file (`where` names the option); exactly one.

    Raises ConfigError naming the source, never the key.
    """
    env = os.environb.get(ENV_VAR.encode())
    if env is not None and key_file is not None:
        msg = (
            f"the hash key is given twice: by the environment variable {ENV_VAR} and by {KEY_FILE_OPTION} "
            f"({where}); give one"
        )
        raise ConfigError(msg)
    if key_file is not None:
        return _checked(_read_key_file(key_file), f"the hash key file {key_file}")
    if env is not None:
        return _checked(env, f"the hash key in {ENV_VAR}")
    msg = (
        f"a hash filter type needs a key: set {ENV_VAR} or {KEY_FILE_OPTION}=PATH (a file only its owner "
        f"can read); {_MAKE_ONE}. Unkeyed hashes of short values such as PINs can be reversed by trying them all"
    )
    raise ConfigError(msg)


def _checked(raw: bytes, source: str) -> Secret:
    key = raw.rstrip(b"\r\n")
    if len(key) < MIN_KEY_BYTES:
        msg = f"{source} is shorter than {MIN_KEY_BYTES} bytes; {_MAKE_ONE}"
        raise ConfigError(msg)
    return Secret(key)


def _read_key_file(path: Path) -> bytes:
    """Read a key file, following links (Kubernetes secret volumes); refuse one group or others can read."""
    try:
        mode = os.stat(path).st_mode  # follows links: a secret volume links to the current key
        if not stat.S_ISREG(mode):
            msg = f"the hash key file {path} is not a regular file"
            raise ConfigError(msg)
        if mode & 0o044:
            msg = (
                f"the hash key file {path} can be read by group or others (mode {stat.S_IMODE(mode):04o}); "
                f"chmod 0400 or 0600 it"
            )
            raise ConfigError(msg)
        return path.read_bytes()
    except OSError as exc:
        msg = f"the hash key file {path}: cannot read it ({exc.strerror or type(exc).__name__})"
        raise ConfigError(msg) from None
