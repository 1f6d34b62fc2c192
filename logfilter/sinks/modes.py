"""Who may read an output: never more users than may read the input it was made from (issue 22.6)."""

from __future__ import annotations

import stat
from collections.abc import Iterable

OWNER_READ_WRITE = stat.S_IRUSR | stat.S_IWUSR
OTHERS_READ = stat.S_IRGRP | stat.S_IROTH


def mode_for(input_mode: int, umask: int = 0o022) -> int:
    """The permission bits of an output made from an input with mode `input_mode`.

    The owner may read and write it; group and others may read it only where they may read
    the input and the umask lets them; nobody else may write or run it. A sanitized copy of
    a 0600 log is 0600: masking reduces what it says, not who should see it.
    """
    return OWNER_READ_WRITE | (input_mode & OTHERS_READ & ~umask)


def umask() -> int:
    """This process's umask, read without changing it (Linux); 0o022 where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022  # setting it to read it back would race with the threads of a follower


def mode_of_inputs(input_modes: Iterable[int]) -> int:
    """The mode of one output made from all of these inputs: readable by no one who cannot read
    every one of them. No input with a mode of its own (a pipe, a terminal): the umask decides."""
    allowed = OTHERS_READ
    for input_mode in input_modes:
        allowed &= input_mode
    return mode_for(allowed, umask())
