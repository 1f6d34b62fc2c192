#!/usr/bin/env python3
"""A small mutation check: does the suite fail when the product code is broken on purpose?

Each mutation in tools/mutations.toml names a file, an exact snippet of it (found by its
text, so it survives small moves; it must occur exactly once), what replaces it, and the
tests that should catch it. The repository (its tracked and new files, not .venv) is
copied to a temporary folder once; each mutation is applied there alone, its tests run
with this repository's .venv Python against the copy (PYTHONPATH and the working folder
point at the copy; checked before anything runs), and the file is put back. A mutation
whose tests all pass *survived*: the suite would let that change through.

    .venv/bin/python tools/mutate.py                    # every mutation; exit 1 if any survive
    .venv/bin/python tools/mutate.py -k untag -k scan   # those whose name holds a word
    .venv/bin/python tools/mutate.py --tests-from main  # today's code against main's tests
    .venv/bin/python tools/mutate.py -k skip --tests tests/unit  # other tests than the entries name
    .venv/bin/python tools/mutate.py --list

The compiled scanner (logfilter/engines/scanner.pyx) is built in the copy before anything
runs, and built again around each mutation of a .pyx file, so the tests run the mutated C.

Not part of the default pytest run (it takes several minutes); run it by hand, or in a long
job, before and after restructuring the engine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATIONS = Path(__file__).resolve().parent / "mutations.toml"
TIMEOUT = 900  # seconds one mutation's tests may take; a hang counts as caught


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    find: str
    replace: str
    description: str
    tests: tuple[str, ...]  # test files or node ids
    select: str = ""  # a pytest -k expression among them, if any


class MutationError(Exception):
    """A mutation that cannot be applied as written (its snippet is not there exactly once)."""


def load(path: Path = MUTATIONS) -> list[Mutation]:
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["mutation"]
    found = [
        Mutation(e["name"], e["file"], e["find"], e["replace"], e["description"], tuple(e["tests"]), e.get("select", ""))
        for e in entries
    ]
    names = [mutation.name for mutation in found]
    if len(set(names)) != len(names):
        raise MutationError(f"{path}: mutation names repeat")
    return found


def apply(mutation: Mutation, text: str) -> str:
    """The file's text with the mutation made; MutationError unless its snippet occurs exactly once."""
    count = text.count(mutation.find)
    if count != 1:
        raise MutationError(f"{mutation.name}: the snippet occurs {count} times in {mutation.file}, not once")
    if mutation.find == mutation.replace:
        raise MutationError(f"{mutation.name}: the replacement is the snippet itself")
    return text.replace(mutation.find, mutation.replace)


def copy_repo(target: Path, tests_from: str | None) -> None:
    """Copy the tracked and new (not ignored) files of the repository; tests/ from `tests_from` if given."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the work tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    if tests_from:
        shutil.rmtree(target / "tests")
        archive = subprocess.run(["git", "archive", tests_from, "tests"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)


def environment(copy: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = str(copy)  # ahead of the editable install's path to this repository
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no stale bytecode of a mutated file is ever read
    return env


def build(python: str, copy: Path, env: dict[str, str]) -> None:
    """Compile the copy's scanner in place (setup.py), as `pip install -e .` does."""
    done = subprocess.run([python, "setup.py", "-q", "build_ext", "--inplace", "--force"], cwd=copy, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise MutationError(f"the scanner does not build in {copy}:\n{done.stderr[-2000:]}")


def check_imports(python: str, copy: Path, env: dict[str, str]) -> None:
    """Fail unless `logfilter`, its grammars and its compiled scanner come from the copy, from its folder and
    from elsewhere (the tests start `python -m logfilter` in temporary folders)."""
    probe = ("import logfilter, logfilter.parsing.grammar as g, logfilter.engines.scanner as s; "
             "print(logfilter.__file__); print(g.grammar_path('tlib')); print(s.__file__)")
    for cwd in (copy, Path(tempfile.gettempdir())):
        out = subprocess.run([python, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True, check=True)
        for line in out.stdout.split():
            if not Path(line).resolve().is_relative_to(copy.resolve()):
                sys.exit(f"mutate: {line} is not in the copy {copy} (run from {cwd}); the mutations would not be tested")


def run_tests(
    python: str, copy: Path, env: dict[str, str], tests: tuple[str, ...], seed: int, select: str = ""
) -> tuple[bool, str, float]:
    """(passed, the first failing test or a note, seconds) for one selection of tests in the copy."""
    there = [test for test in tests if (copy / test.split("::")[0]).exists()]  # --tests-from: older tests lack some
    if not there:
        return True, "none of its test files exist", 0.0
    selection = [*there, *(["-k", select] if select else [])]
    shutil.rmtree(copy / ".hypothesis", ignore_errors=True)  # no example found under one mutation replays under another
    command = [python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}",
               "--rootdir", str(copy), *selection]  # fmt: skip
    start = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {TIMEOUT}s", time.monotonic() - start
    took = time.monotonic() - start
    if proc.returncode == 0:
        return True, "", took
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.MULTILINE)
    if proc.returncode == 5:
        return False, "no tests selected (fix the selection)", took
    return False, failed.group(1) if failed else f"pytest exit {proc.returncode}\n{proc.stdout[-2000:]}", took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="words", action="append", default=[], help="only mutations whose name holds WORD")
    parser.add_argument("--tests-from", metavar="REF", help="take tests/ from this git ref (the code stays as it is)")
    parser.add_argument("--tests", nargs="+", metavar="PATH", help="run these tests for every mutation instead of its own")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0: the same examples each run)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and say where it is")
    args = parser.parse_args()

    mutations = [m for m in load() if not args.words or any(word in m.name for word in args.words)]
    if args.tests:
        mutations = [replace(m, tests=tuple(args.tests), select="") for m in mutations]
    if args.list:
        for mutation in mutations:
            print(f"{mutation.name:34} {mutation.file:30} {mutation.description}")
        return 0
    if not mutations:
        sys.exit("mutate: no mutation matches")
    python = str(ROOT / ".venv/bin/python")
    if not Path(python).exists():
        sys.exit("mutate: no .venv here; python3 -m venv .venv && .venv/bin/pip install -e '.[test]'")

    folder = Path(tempfile.mkdtemp(prefix="logfilter-mutate-"))
    copy = folder / "repo"
    copy.mkdir()
    try:
        copy_repo(copy, args.tests_from)
        env = environment(copy)
        build(python, copy, env)
        check_imports(python, copy, env)
        originals = {m.file: (copy / m.file).read_text(encoding="utf-8") for m in mutations}
        for mutation in mutations:  # every snippet is there, before spending minutes on tests
            apply(mutation, originals[mutation.file])

        every = tuple(dict.fromkeys(test for m in mutations for test in m.tests))
        passed, note, took = run_tests(python, copy, env, every, args.seed)
        print(f"unmutated: the selected test files {'pass' if passed else 'FAIL'} ({took:.0f}s)", flush=True)
        if not passed:
            sys.exit(f"mutate: the tests fail without any mutation: {note}")

        rows: list[tuple[str, str, float, str]] = []
        for mutation in mutations:
            path = copy / mutation.file
            path.write_text(apply(mutation, originals[mutation.file]), encoding="utf-8")
            compiled = path.suffix == ".pyx"
            try:
                if compiled:
                    build(python, copy, env)
                passed, note, took = run_tests(python, copy, env, mutation.tests, args.seed, mutation.select)
            finally:
                path.write_text(originals[mutation.file], encoding="utf-8")
                if compiled:
                    build(python, copy, env)
            verdict = "SURVIVED" if passed else "killed"
            rows.append((mutation.name, verdict, took, note))
            print(f"{mutation.name:34} {verdict:8} {took:6.1f}s  {note.splitlines()[0] if note else ''}", flush=True)
    finally:
        if args.keep:
            print(f"mutate: the copy is kept in {copy}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    survived = [name for name, verdict, _, _ in rows if verdict == "SURVIVED"]
    print()
    print("| mutation | result | time |")
    print("|---|---|---|")
    for name, verdict, took, _ in rows:
        print(f"| {name} | {verdict} | {took:.1f}s |")
    print(f"\n{len(rows) - len(survived)} of {len(rows)} killed" + (f"; survived: {', '.join(survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
