"""follow/state.py and follow/health.py: the checkpoints file is ours or refused; problems said once."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from logfilter.errors import ConfigError
from logfilter.follow.health import Health
from logfilter.follow.options import Options
from logfilter.follow.state import Saved, StateFile
from logfilter.follow.outputs import Checkpoint, Fingerprint

ENTRY = {"dev": 1, "ino": 2, "fp": "ab", "fp_size": 3, "path": "/raw/a\xff.log", "output": "a\xff.log",
         "offset": 10, "line": 2, "out": 12, "sent": 11, "size": 20}  # fmt: skip


def state_file(tmp_path: Path, content: object | None = None, output_format: str = "tlib") -> StateFile:
    path = tmp_path / "state.json"
    if content is not None:
        path.write_bytes(orjson.dumps(content))
    return StateFile(Options(("raw/*.log",), tmp_path / "clean", path, output_format=output_format))  # type: ignore[arg-type]


class TestLoad:
    def test_no_file_is_a_new_state(self, tmp_path: Path) -> None:
        """Without a state file there are no checkpoints, and --from-end applies."""
        state = state_file(tmp_path)
        assert (state.load(), state.new) == ({}, True)

    def test_entries_by_identity(self, tmp_path: Path) -> None:
        """Each entry is read by (device, inode); a file name's bytes come back as they were."""
        state = state_file(tmp_path, {"version": 1, "output": str((tmp_path / "clean").resolve()), "files": [ENTRY]})
        saved = state.load()[(1, 2)]
        assert saved == Saved(Fingerprint("ab", 3), Path("/raw/a\udcff.log"), Path("a\udcff.log"), Checkpoint(10, 2, 12), 11, 20)
        assert state.new is False

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ({"version": 2}, "not a logfilter follow state file"),
            ({"version": 1, "format": "jsonl"}, "this state belongs to --format jsonl, not tlib"),
            ({"version": 1, "output": "/elsewhere"}, "this state belongs to output /elsewhere"),
            ({"version": 1, "files": [{**ENTRY, "offset": "10"}]}, "a file entry of the state file is damaged"),
        ],
    )
    def test_a_state_not_ours_is_refused(self, tmp_path: Path, content: dict[str, object], message: str) -> None:
        """Another version, format or output, or a damaged entry, is a ConfigError naming the file."""
        content = {"output": str((tmp_path / "clean").resolve()), **content}
        with pytest.raises(ConfigError, match=message):
            state_file(tmp_path, content).load()


class TestSave:
    def test_written_when_changed(self, tmp_path: Path) -> None:
        """The state is written when its entries change, and flushed only when asked."""
        state, synced = state_file(tmp_path), []
        assert state.save([ENTRY], durable=False, sync_outputs=lambda: synced.append(1)) is True
        assert state.save([ENTRY], durable=False, sync_outputs=lambda: synced.append(1)) is False
        assert state.save([ENTRY], durable=True, sync_outputs=lambda: synced.append(1)) is True
        assert synced == [1] and state_file(tmp_path).load()[(1, 2)].checkpoint == Checkpoint(10, 2, 12)


class TestHealth:
    def test_a_problem_is_said_once_and_kept_until_solved(self) -> None:
        """A problem goes to stderr once, fails /healthz while it lasts, and is gone when solved."""
        said: list[str] = []
        health = Health(said.append)
        health.state = "following"
        health.problem("io:1", "a.log: cannot read")
        health.problem("io:1", "a.log: cannot read")
        assert (said, health.report()) == (["error: a.log: cannot read"], (False, "a.log: cannot read"))
        health.solved("io:1")
        assert health.report() == (True, "following")
