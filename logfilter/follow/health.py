"""The follower's health: what is wrong now, by place, said once on stderr (/healthz); is its loop running (/livez)."""

from __future__ import annotations

from time import monotonic
from typing import Literal

from logfilter.follow.options import Say

State = Literal["starting", "following", "stopping"]
STUCK_AFTER = 60.0  # seconds without a round of the follower's loop after which it is not alive


class Health:
    """What is wrong now, by place; empty while all is well."""

    def __init__(self, say: Say) -> None:
        self.problems: dict[str, str] = {}
        self.state: State = "starting"
        # Said on /healthz without making it fail, by place: e.g. the rules file could not be
        # reloaded and the last good rules are in use (a 503 would get the pod restarted into
        # the bad file), or a pattern matches no file yet.
        self.notes: dict[str, str] = {}
        self._say = say
        self._beat = monotonic()  # when the follower's loop last went round

    def beat(self) -> None:
        """The follower's loop went round: it is alive."""
        self._beat = monotonic()

    def alive(self) -> tuple[bool, str]:
        """Whether the follower's loop goes round (/livez): what a restart could fix, and only that.

        A problem /healthz reports (a file that failed, an output that cannot be written) is
        not fixed by a restart; a loop stuck for STUCK_AFTER seconds may be.
        """
        quiet = monotonic() - self._beat
        if self.state == "following" and quiet >= STUCK_AFTER:
            return False, f"stuck: the follower's loop has not gone round for {quiet:.0f} s"
        return True, "alive"

    def set_state(self, state: State) -> None:
        """The follower is starting, following (/healthz passes while nothing is wrong) or stopping."""
        self.state = state

    def note(self, where: str, text: str) -> None:
        """Say `text` on /healthz without failing it ("": nothing to say at `where` any more)."""
        if text:
            self.notes[where] = text
        else:
            self.notes.pop(where, None)

    def report(self) -> tuple[bool, str]:
        problems = list(self.problems.values())
        if self.state != "following" or problems:
            return False, "; ".join([self.state] if self.state != "following" else problems)
        return True, "; ".join(["following", *self.notes.values()])

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
