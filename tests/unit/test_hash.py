"""The hash filter type: a keyed, deterministic pseudonym; where its key comes from; that the key never shows."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pytest

from logfilter.batch.settings import Settings
from logfilter.errors import ConfigError
from logfilter.parsing.model import Value
from logfilter.rules.config import hash_key_id, load_policy
from logfilter.rules.filters import FilterType, FilterTypeError, parse_filter_type
from logfilter.rules.hashing import ENV_VAR, Secret
from tests.conftest import in_a_fresh_process

KEY = b"test-key-0123456789abcdef"
OTHER_KEY = b"other-key-0123456789abcdef"


def hashed(raw: str, kind: str = "str", key: bytes = KEY, option: str = "hash", layout: str = "c") -> str:
    return parse_filter_type(option).keyed(Secret(key)).apply(Value(kind, raw), layout)  # type: ignore[arg-type]


def expected_token(text: bytes, key: bytes = KEY, length: int = 16) -> str:
    return "h:" + hmac.new(key, text, hashlib.sha256).hexdigest()[:length]


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "filter.ini"
    path.write_text(text)
    return path


def key_file(tmp_path: Path, content: bytes = KEY + b"\n", mode: int = 0o600, name: str = "hash.key") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    path.chmod(mode)
    return path


class TestPseudonym:
    def test_is_hmac_sha256_hex_truncated(self) -> None:
        """A value becomes h: and the first N hex digits of HMAC-SHA256(key, value text)."""
        assert hashed("'1234'") == f"'{expected_token(b'1234')}'"
        assert hashed("'1234'", option="hash(8)") == f"'{expected_token(b'1234', length=8)}'"
        assert hashed("'1234'", option="hash(64)") == f"'{expected_token(b'1234', length=64)}'"

    def test_deterministic(self) -> None:
        """The same value under the same key gives the same token, every time."""
        assert len({hashed("'Jane Roe'") for _ in range(5)}) == 1

    def test_different_keys_give_different_tokens(self) -> None:
        """Key separation: another key gives another token for the same value."""
        assert hashed("'Jane Roe'") != hashed("'Jane Roe'", key=OTHER_KEY)

    def test_different_values_give_different_tokens(self) -> None:
        """Two values give two tokens (a pseudonym, not a constant)."""
        assert hashed("'1234'") != hashed("'1235'")

    def test_same_text_same_token_whatever_the_quotes(self) -> None:
        """'1234', PSDK "1234" and the integer 1234 give one token; an integer is quoted as its layout quotes."""
        token = expected_token(b"1234")
        assert hashed("'1234'") == f"'{token}'"
        assert hashed('"1234"', layout="psdk") == f'"{token}"'
        assert hashed("1234", "int") == f"'{token}'"
        assert hashed("1234", "int", layout="psdk") == f'"{token}"'

    def test_binary_values_hide(self) -> None:
        """A binary value prints only a summary of its bytes: it becomes **** like under every mask."""
        assert hashed("[8] 4a 42 37 01..", "bin") == "****"

    def test_empty_values_are_hashed(self) -> None:
        """An empty value gets a token too: every hashed value looks alike."""
        assert hashed("''") == f"'{expected_token(b'')}'"

    def test_non_utf8_bytes_hash_as_the_original_bytes(self) -> None:
        """Undecodable bytes (surrogateescape) are hashed as the bytes they were."""
        text = b"caf\xe9".decode("utf-8", "surrogateescape")
        assert hashed(f"'{text}'") == f"'{expected_token(b'caf' + bytes([0xE9]))}'"

    @pytest.mark.parametrize("option", ["hash(7)", "hash(65)", "hash(0)", "hash()", "hash,8", "hashed"])
    def test_bad_lengths_refused(self, option: str) -> None:
        """hash(N) accepts N from 8 to 64; anything else is an error that says so."""
        with pytest.raises(FilterTypeError, match="hash"):
            parse_filter_type(option)

    def test_canonical_text(self) -> None:
        """`hash` is hash(16); blanks are allowed as in the other types."""
        assert parse_filter_type("hash").text == parse_filter_type(" hash ( 16 ) ").text == "hash(16)"

    def test_unkeyed_hash_refuses_to_run(self) -> None:
        """A hash type whose key was never bound fails instead of hashing without a key."""
        with pytest.raises(ConfigError, match="key"):
            parse_filter_type("hash").apply(Value("str", "'1234'"))

    def test_recognizes_its_own_tokens(self) -> None:
        """scan's question: a token of the right length is already hashed, a clear value is not."""
        rule = parse_filter_type("hash(8)").keyed(Secret(KEY))
        assert rule.is_applied(Value("str", "'h:0123abcd'"))
        assert not rule.is_applied(Value("str", "'h:0123abcdef'"))
        assert not rule.is_applied(Value("str", "'1234'"))
        assert not rule.is_applied(Value("int", "1234"))


class TestSecrecy:
    def test_pickles_with_its_key(self) -> None:
        """A keyed hash unpickled in a worker process (no key in its environment) gives the same tokens there."""
        rule = parse_filter_type("hash(12)").keyed(Secret(KEY))
        values = [Value("str", "'x'"), Value("int", "1234"), Value("bin", "[2] 00 01")]
        there = in_a_fresh_process((rule, values), "rule, values = it\nresult = [rule.apply(v) for v in values]")
        assert there == [f"'{expected_token(b'x', length=12)}'", f"'{expected_token(b'1234', length=12)}'", "****"]

    def test_settings_pickle_with_the_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The whole batch Settings pickle with the key, so a worker (no key in its environment) hashes as the parent does."""
        monkeypatch.setenv(ENV_VAR, KEY.decode())
        settings = Settings(load_policy(None, "hash", ["PIN=hash(8)"]))
        code = "from logfilter.parsing.model import Value\nresult = [it.policy.default.apply(Value('str', \"'x'\")), " \
               "it.policy.rules[0].filter_type.apply(Value('str', \"'x'\")), it.describe()]"  # fmt: skip
        assert in_a_fresh_process(settings, code) == [
            f"'{expected_token(b'x')}'", f"'{expected_token(b'x', length=8)}'", settings.describe()
        ]

    def test_repr_never_shows_the_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """repr and str of the Secret, the filter type, the rules and the policy hide the key."""
        monkeypatch.setenv(ENV_VAR, KEY.decode())
        policy = load_policy(None, "hash", ["PIN=hash(8)"])
        texts = [repr(policy), str(policy), repr(policy.rules[0]), repr(policy.default), str(Secret(KEY))]
        assert all(KEY.decode() not in text and "Secret(<redacted>)" in text for text in texts)

    def test_fingerprint_changes_with_the_key_and_never_holds_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """batch re-does outputs when the key changes; describe and fingerprint name it by id only."""
        monkeypatch.setenv(ENV_VAR, KEY.decode())
        first = Settings(load_policy(None, "hash"))
        monkeypatch.setenv(ENV_VAR, OTHER_KEY.decode())
        second = Settings(load_policy(None, "hash"))
        assert first.fingerprint() != second.fingerprint()
        assert first.describe()["hash-key-id"] != second.describe()["hash-key-id"]
        for settings, key in ((first, KEY), (second, OTHER_KEY)):
            assert key.decode() not in repr(settings.describe()) + settings.fingerprint()
            assert key.hex() not in repr(settings.describe())

    def test_no_hash_no_key_id(self) -> None:
        """Without a hash rule the report is as before."""
        assert "hash-key-id" not in Settings(load_policy(None, "hide")).describe()


class TestKeySources:
    def test_env_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """LOGFILTER_HASH_KEY gives the key."""
        monkeypatch.setenv(ENV_VAR, KEY.decode())
        assert load_policy(None, "hash").default.apply(Value("str", "'x'")) == f"'{expected_token(b'x')}'"

    @pytest.mark.usefixtures("no_env_key")
    def test_no_key_is_a_config_error(self, tmp_path: Path) -> None:
        """hash without a key refuses to start, and says how to give one."""
        for args in ((None, "hash"), (None, None, ["PIN=hash"]), (config(tmp_path, "[log-filter]\ndetect-filter-type=hash\ndetect=pan\n"),)):
            with pytest.raises(ConfigError, match=f"needs a key: set {ENV_VAR} or .*hash-key-file.*openssl rand -hex 32"):
                load_policy(*args)  # type: ignore[arg-type]

    @pytest.mark.usefixtures("no_env_key")
    def test_key_file_relative_to_the_config(self, tmp_path: Path) -> None:
        """hash-key-file is read relative to the config file's folder; its trailing newline is not key."""
        key_file(tmp_path)
        policy = load_policy(config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=hash.key\n"))
        assert policy.default.apply(Value("str", "'x'")) == f"'{expected_token(b'x')}'"

    @pytest.mark.usefixtures("no_env_key")
    def test_key_file_through_a_link(self, tmp_path: Path) -> None:
        """A symlinked key file (a Kubernetes secret volume) is followed; the target's mode counts."""
        target = key_file(tmp_path, KEY, 0o400, "..data-key")
        (tmp_path / "hash.key").symlink_to(target.name)
        policy = load_policy(config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=hash.key\n"))
        assert policy.default.apply(Value("str", "'x'")) == f"'{expected_token(b'x')}'"

    @pytest.mark.usefixtures("no_env_key")
    @pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o666])
    def test_key_file_others_can_read_is_refused(self, tmp_path: Path, mode: int) -> None:
        """A key file group or others can read is refused, naming the path and the mode, never the key."""
        path = key_file(tmp_path, mode=mode)
        ini = config(tmp_path, f"[log-filter]\ndefault-filter-type=hash\nhash-key-file={path}\n")
        with pytest.raises(ConfigError) as caught:
            load_policy(ini)
        message = str(caught.value)
        assert str(path) in message and f"mode {mode:04o}" in message and KEY.decode() not in message

    @pytest.mark.usefixtures("no_env_key")
    def test_key_file_missing(self, tmp_path: Path) -> None:
        """A key file that is not there is a config error naming it."""
        ini = config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=nope.key\n")
        with pytest.raises(ConfigError, match="nope.key: cannot read it"):
            load_policy(ini)

    def test_both_sources_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Key in the environment and a key file: an error naming both sources, neither key."""
        monkeypatch.setenv(ENV_VAR, OTHER_KEY.decode())
        key_file(tmp_path)
        ini = config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=hash.key\n")
        with pytest.raises(ConfigError) as caught:
            load_policy(ini)
        message = str(caught.value)
        assert ENV_VAR in message and "hash-key-file" in message and "filter.ini:3" in message
        assert KEY.decode() not in message and OTHER_KEY.decode() not in message

    @pytest.mark.parametrize("key", [b"", b"short", b"0123456789abcde", b"0123456789abcde\n"])
    def test_short_keys_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: bytes) -> None:
        """A key under 16 bytes (after its newline) is refused, with a way to make one."""
        monkeypatch.delenv(ENV_VAR, raising=False)
        key_file(tmp_path, key)
        ini = config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=hash.key\n")
        with pytest.raises(ConfigError, match="shorter than 16 bytes; make one with: openssl rand -hex 32"):
            load_policy(ini)

    def test_without_hash_the_key_is_not_looked_at(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """No hash rule: a key in the environment and an unusable key file change nothing."""
        monkeypatch.setenv(ENV_VAR, "short")
        ini = config(tmp_path, "[log-filter]\ndefault-filter-type=hide\nhash-key-file=missing.key\n")
        policy = load_policy(ini)
        assert policy.default.text == "hide" and hash_key_id(policy) is None

    def test_every_hash_rule_gets_the_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Default, per-key rules and detect-filter-type all hash with the one key."""
        monkeypatch.setenv(ENV_VAR, KEY.decode())
        policy = load_policy(None, "hash", ["PIN=hash(8)"], detect="pan")
        types: list[FilterType] = [policy.default, policy.rules[0].filter_type]
        assert all(ft.secret == Secret(KEY) for ft in types)

    def test_empty_key_file_option_refused(self, tmp_path: Path) -> None:
        """hash-key-file= with no path is an error, not a silent fallback."""
        with pytest.raises(ConfigError, match="hash-key-file: expected the path"):
            load_policy(config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=\n"))



class TestKeyFileTrust:
    """Issue 22, item 11: a key file others could change, or a key anyone could guess, is not used."""

    @pytest.mark.usefixtures("no_env_key")
    @pytest.mark.parametrize("mode", [0o620, 0o602, 0o622, 0o660])
    def test_key_file_others_can_write_is_refused(self, tmp_path: Path, mode: int) -> None:
        """A key file group or others can write is refused (they could swap in a key they know)."""
        path = key_file(tmp_path, mode=mode)
        ini = config(tmp_path, f"[log-filter]\ndefault-filter-type=hash\nhash-key-file={path}\n")
        with pytest.raises(ConfigError, match=f"can be (read and )?changed by group or others \\(mode {mode:04o}\\)"):
            load_policy(ini)

    @pytest.mark.usefixtures("no_env_key")
    @pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
    def test_key_file_of_another_user_is_refused(self, tmp_path: Path) -> None:
        """A key file another user owns is refused, naming its owner; root's own files are trusted."""
        path = key_file(tmp_path, mode=0o400)
        os.chown(path, 4242, -1)
        ini = config(tmp_path, f"[log-filter]\ndefault-filter-type=hash\nhash-key-file={path}\n")
        with pytest.raises(ConfigError, match="belongs to another user \\(uid 4242\\)"):
            load_policy(ini)
        os.chown(path, 0, -1)
        assert load_policy(ini).default.is_hash

    @pytest.mark.parametrize("key", [b"a" * 16, b"ab" * 8, b"abc" * 20, b"0" * 40, b"passwordpassword"])
    def test_keys_with_little_entropy_are_refused(self, monkeypatch: pytest.MonkeyPatch, key: bytes) -> None:
        """Sixteen `a`s, or any repeated pattern under 28 bits by estimate, is refused from either source."""
        monkeypatch.setenv(ENV_VAR, key.decode())
        with pytest.raises(ConfigError, match=f"the hash key in {ENV_VAR} is too easy to guess"):
            load_policy(None, "hash")

    @pytest.mark.usefixtures("no_env_key")
    def test_a_key_file_of_sixteen_as_is_refused(self, tmp_path: Path) -> None:
        """The key file is held to the same measure as the environment."""
        key_file(tmp_path, b"a" * 16 + b"\n")
        with pytest.raises(ConfigError, match="hash.key is too easy to guess .*openssl rand -hex 32"):
            load_policy(config(tmp_path, "[log-filter]\ndefault-filter-type=hash\nhash-key-file=hash.key\n"))

    @pytest.mark.parametrize(("key", "weak"), [(b"deadbeefcafef00d", True), (b"0f3a9c1e77b2d4a8", True),
                                               (KEY, False), (b"9f2c1a7be04d33c1e8a05b6f72d4c3a1b0e9d8f7a6b5c4d3e2f1a0b9c8d7e6f5", False)])
    def test_weak_keys_are_warned_about(self, monkeypatch: pytest.MonkeyPatch, key: bytes, weak: bool) -> None:
        """A key under 64 bits by estimate is used with a warning (the policy carries it); never the key in it."""
        monkeypatch.setenv(ENV_VAR, key.decode())
        warnings = load_policy(None, "hash").warnings
        assert [("weak" in text, key.decode() in text) for text in warnings] == ([(True, False)] if weak else [])
