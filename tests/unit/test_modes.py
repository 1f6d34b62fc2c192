"""sinks.modes.mode_for: an output is never readable by more users than its input."""

import pytest

from logfilter.sinks.modes import mode_for


@pytest.mark.parametrize(
    ("input_mode", "umask", "expected"),
    [
        (0o600, 0o022, 0o600),  # a private input stays private
        (0o644, 0o022, 0o644),
        (0o640, 0o022, 0o640),
        (0o604, 0o022, 0o604),
        (0o666, 0o022, 0o644),  # writable by others: an output never is
        (0o644, 0o077, 0o600),  # the umask takes away too
        (0o400, 0o022, 0o600),  # the owner can always write the output it makes
        (0o100755, 0o022, 0o644),  # file type and execute bits never carry over
        (0o4755, 0o000, 0o644),  # nor set-id bits
    ],
)
def test_output_mode_follows_the_input(input_mode: int, umask: int, expected: int) -> None:
    assert mode_for(input_mode, umask) == expected
