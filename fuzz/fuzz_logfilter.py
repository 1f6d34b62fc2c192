"""atheris (libFuzzer) harness for logfilter: the properties of tests/properties.py, run for as
long as one likes. Targets:

  parsers  each line (up to 64) through the Lark parser and the regex parser: they agree; only ParseFailed escapes
  config   a rules file of any bytes: it compiles or is refused with a one-line ConfigError
  run      a log with canary pairs planted: the compiled scanner and the reference agree (chunk sizes 7 and 4096, line
           bounds 64 and 4 MiB), no canary comes out, a log with no block opener is unchanged

Usage (from the repository root; see README, "Hostile input and faults"):

  .venv/bin/pip install -e '.[test,fuzz]'
  .venv/bin/python fuzz/fuzz_logfilter.py run -runs=100000 -max_len=4096 fuzz/corpus/run tests/golden/*/

Arguments after the target go to libFuzzer (-runs, -max_total_time, -max_len, corpus folders).
A failure prints the input's file name (crash-...); replay it with the same command and that file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["logfilter", "tests"]):
    from tests import properties

TARGETS = {
    "parsers": lambda data: [properties.parsers(line) for line in data.split(b"\n")[:64]],
    "config": properties.config,
    "run": lambda data: properties.run_path(data[1:], data[0] if data else 0),
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.stderr.write(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer flags] [corpus folders]\n")
        sys.exit(2)
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
