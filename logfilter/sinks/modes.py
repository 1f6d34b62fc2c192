"""Who may read an output: never more users than may read the input it was made from (issue 22.6)."""

from __future__ import annotations

import stat

OWNER_READ_WRITE = stat.S_IRUSR | stat.S_IWUSR
OTHERS_READ = stat.S_IRGRP | stat.S_IROTH


def mode_for(input_mode: int, umask: int = 0o022) -> int:
    """The permission bits of an output made from an input with mode `input_mode`.

    The owner may read and write it; group and others may read it only where they may read
    the input and the umask lets them; nobody else may write or run it. A sanitized copy of
    a 0600 log is 0600: masking reduces what it says, not who should see it.
    """
    return OWNER_READ_WRITE | (input_mode & OTHERS_READ & ~umask)
