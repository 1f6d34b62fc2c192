"""The follower's health: what is wrong now, by place, said once on stderr and kept for /healthz."""

from __future__ import annotations

from typing import Literal

from logfilter.follow.options import Say

State = Literal["starting", "following", "stopping"]


class Health:
    """What is wrong now, by place; empty while all is well."""

    def __init__(self, say: Say) -> None:
        self.problems: dict[str, str] = {}
        self.state: State = "starting"
        # Said on /healthz without making it fail: the rules file could not be reloaded and the
        # last good rules are in use (a 503 would get the pod restarted into the bad file).
        self.config = ""
        self._say = say

    def set_state(self, state: State) -> None:
        """The follower is starting, following (/healthz passes while nothing is wrong) or stopping."""
        self.state = state

    def rules_note(self, note: str) -> None:
        """Why the last good rules are in use, said on /healthz without failing it; "" when all is well."""
        self.config = note

    def report(self) -> tuple[bool, str]:
        problems = list(self.problems.values())
        if self.state != "following" or problems:
            return False, "; ".join([self.state] if self.state != "following" else problems)
        return True, f"following; {self.config}" if self.config else "following"

    def problem(self, where: str, text: str) -> None:
        """Say a problem on stderr once, and keep it for /healthz until it is gone."""
        if self.problems.get(where) != text:
            self._say(f"error: {text}")
        self.problems[where] = text

    def solved(self, where: str) -> None:
        self.problems.pop(where, None)

    def solved_except(self, prefix: str, still: set[str]) -> None:
        """The problems at places starting with `prefix` are gone, but for those in `still`."""
        for where in [where for where in self.problems if where.startswith(prefix) and where not in still]:
            del self.problems[where]
