"""The follower's health: problems fail /healthz, notes do not, and /livez fails only on a stuck loop."""

from __future__ import annotations

import pytest

from logfilter.follow import health as health_module
from logfilter.follow.health import STUCK_AFTER, Health


def test_problems_fail_health_notes_do_not_and_each_problem_is_said_once() -> None:
    said: list[str] = []
    health = Health(said.append)
    assert health.report() == (False, "starting")
    health.set_state("following")
    health.note("patterns", "no file matches 'raw/*.log'")
    assert health.report() == (True, "following; no file matches 'raw/*.log'")
    health.problem("failed:1", "raw/a.log:19: unparsable line; stopped (--on-error fail)")
    health.problem("failed:1", "raw/a.log:19: unparsable line; stopped (--on-error fail)")
    assert health.report() == (False, "raw/a.log:19: unparsable line; stopped (--on-error fail)")
    assert said == ["error: raw/a.log:19: unparsable line; stopped (--on-error fail)"]
    health.solved("failed:1")
    health.note("patterns", "")
    assert health.report() == (True, "following")


def test_alive_until_the_loop_stops_going_round(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(health_module, "monotonic", lambda: now[0])
    health = Health(lambda line: None)
    health.set_state("following")
    health.problem("io:1", "clean/a.log: cannot write the output (No space left on device)")
    assert health.alive() == (True, "alive")  # a problem a restart cannot fix is no reason to restart
    now[0] += STUCK_AFTER - 1
    assert health.alive() == (True, "alive")
    now[0] += 2
    assert health.alive() == (False, f"stuck: the follower's loop has not gone round for {STUCK_AFTER + 1:.0f} s")
    health.beat()
    assert health.alive() == (True, "alive")
