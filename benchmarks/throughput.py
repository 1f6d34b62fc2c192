"""Throughput of `logfilter run` next to `cat`, perl and sed, measured as real shell pipelines in one run.

    python benchmarks/throughput.py --dense 100 --startup     # the issue's yardsticks (see below)
    python benchmarks/throughput.py --size 64M [--repeat 3] [--engine NAME] [--rss 1G] [--json out.json]
    python benchmarks/throughput.py --file big.log
    python benchmarks/throughput.py --size 256M --batch 8
    python benchmarks/throughput.py --size 128M --follow

Every row is a shell pipeline whose last stage is `cat > /dev/null`, so `logfilter run ...
FILE | cat > /dev/null` pays for writing into a pipe exactly as the baseline `cat FILE | cat
> /dev/null` does. Each figure is wall time, best of --repeat; "MB" is 2**20 bytes, and the
ratio is the row's MB/s over the baseline's. logfilter rows run with `--stats`, and the
summary it prints on stderr is shown with its masked count per MB.

The corpus is generated once, seeded, into a temporary file (benchmarks/corpus.py), unless
--file names one. `--rss SIZE` streams a generated corpus of that size into `logfilter run -c
perkey.ini` on stdin (fed from a thread) and reports its peak resident set size.

`--batch FILES` also generates FILES corpus files (seeds --seed, --seed + 1, ...; --size in
all, split evenly, even with --file) into a temporary folder, and measures `logfilter batch
-c perkey.ini FOLDER -o OUTDIR --jobs N` for each N of BATCH_JOBS, each run into a fresh
OUTDIR: wall time, best of --repeat, with the ratio of each N's MB/s to --jobs 1's. With
`--scheduler ADDRESS` (e.g. local:2; needs the dask extra) it also measures `logfilter batch
--scheduler ADDRESS` on the same files, its time including the start of a local cluster.

`--follow` also measures `logfilter follow -c perkey.ini RAW/*.log -o OUTDIR` catching up on
the corpus (hard-linked into a fresh folder): the time from start until its state file says
the whole file was emitted, best of --repeat, next to the `run -c perkey.ini` row. It includes
the follower's start-up and the half second a last message is held before it goes out.

`--dense MB` measures on the dense corpus of ../shared/bench (`gen_corpus.py OUT MB 11`)
instead, with its yardsticks as rows: `perl mask_full.pl` (a careful user's own script, same
rules and output) and the PASSWORD-only `sed -E`, and `logfilter run -c mask_full.ini`, whose
output must equal the perl script's byte for byte (checked once, outside the timer). Each row
then shows its ratio to perl, to sed and to cat. `--startup` also times `python -c pass`,
`logfilter --help` and `logfilter run` on an empty file (best of 20 each).

To measure another command, add a Row to ROWS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from corpus import MB, Corpus, parse_size

CONFIGS = Path(__file__).resolve().parent / "configs"
BENCH = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"  # the yardsticks, beside the repository
PERL_ROW = "perl mask_full.pl"
SED_ROW = "sed PASSWORD only"
SINK = "cat > /dev/null"
LOGFILTER = "logfilter"  # as the first word of a Row: the logfilter of this interpreter's environment
# hash.ini needs a key; a fixed one for benchmarks (the other rows have no hash rule and ignore it).
os.environ.setdefault("LOGFILTER_HASH_KEY", "benchmark-hash-key-not-a-secret")


@dataclass(frozen=True, slots=True)
class Row:
    """One measured command; its stdout goes into `| cat > /dev/null`.

    In `argv`, `{file}` is the corpus and `{configs}` is benchmarks/configs. A first word
    `logfilter` stands for the logfilter next to this interpreter, and gets `--stats` and,
    when given, `--engine NAME`.
    """

    name: str
    argv: tuple[str, ...]
    ok: tuple[int, ...] = (0,)  # exit statuses that mean it worked (scan exits 1 when it finds something)

    @property
    def is_logfilter(self) -> bool:
        return self.argv[0] == LOGFILTER

    @property
    def has_stats(self) -> bool:
        """Whether the subcommand takes --stats and --engine (run does; scan reads, it has neither)."""
        return self.is_logfilter and self.argv[1] != "scan"


def logfilter_row(*args: str, ok: tuple[int, ...] = (0,)) -> Row:
    """A logfilter row named by its command line: `logfilter run -c perkey.ini FILE`."""
    shown = " ".join("FILE" if arg == "{file}" else arg.removeprefix("{configs}/") for arg in args)
    return Row(f"logfilter {shown}", (LOGFILTER, *args), ok)


# The first row is the baseline every ratio is taken against.
ROWS: list[Row] = [
    Row("cat FILE | cat", ("cat", "{file}")),
    *(logfilter_row("run", "-c", f"{{configs}}/{rules}.ini", "{file}")
      for rules in ("perkey", "hide", "rare", "detect", "hash")),
    logfilter_row("run", "-c", "{configs}/perkey.ini", "--format", "jsonl", "{file}"),
    logfilter_row("scan", "-c", "{configs}/perkey.ini", "{file}", ok=(0, 1)),
]


# --dense: the yardsticks and the targets' rows, on the dense corpus (the first is again cat).
DENSE_ROWS: list[Row] = [
    Row("cat FILE | cat", ("cat", "{file}")),
    Row(PERL_ROW, ("sh", "-c", "exec perl {bench}/mask_full.pl < {file}")),
    Row(SED_ROW, ("sh", "-c", "LC_ALL=C.UTF-8 exec sed -E \"s/('PASSWORD'[[:space:]]+)'[^']*'/\\1'****'/\" {file}")),
    logfilter_row("run", "-c", "{configs}/mask_full.ini", "{file}"),
    logfilter_row("run", "--default", "hide", "{file}"),
    logfilter_row("run", "-c", "{configs}/mask_full_detect.ini", "{file}"),
    logfilter_row("run", "-c", "{configs}/mask_full.ini", "--format", "jsonl", "{file}"),
    logfilter_row("scan", "-c", "{configs}/mask_full.ini", "{file}", ok=(0, 1)),
]


# `logfilter batch --jobs N` for each N, on the --batch corpus; the first is the baseline.
BATCH_JOBS: tuple[int, ...] = (1, 2)


@dataclass(slots=True)
class Measurement:
    """The wall times of one row, and what logfilter said about its run."""

    row: Row
    command: str
    seconds: list[float] = field(default_factory=list)
    summary: str | None = None  # the --stats line
    error: str | None = None

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else float("nan")


def logfilter_argv() -> list[str]:
    """The logfilter of the running interpreter's environment (the venv's bin), as argv."""
    script = Path(sys.executable).parent / "logfilter"
    return [str(script)] if script.exists() else [sys.executable, "-m", "logfilter"]


def expand(row: Row, corpus: Path, engine: str | None) -> list[str]:
    """The row's argv with its placeholders filled in."""
    argv = [word.format(file=shlex.quote(str(corpus)) if row.argv[0] == "sh" else corpus, configs=CONFIGS,
                        bench=shlex.quote(str(BENCH))) for word in row.argv]
    if not row.has_stats:
        return [*logfilter_argv(), *argv[1:]] if row.is_logfilter else argv
    return [*logfilter_argv(), *argv[1:2], "--stats", *(["--engine", engine] if engine else []), *argv[2:]]


def shell() -> list[str]:
    """bash with pipefail, so a failing producer fails the pipeline; plain sh otherwise."""
    bash = shutil.which("bash")
    return [bash, "-c", "set -o pipefail; "] if bash else ["/bin/sh", "-c", ""]


def measure(row: Row, corpus: Path, engine: str | None, repeat: int) -> Measurement:
    """Run the row's pipeline `repeat` times; keep every wall time and the last --stats line."""
    command = f"{shlex.join(expand(row, corpus, engine))} | {SINK}"
    result = Measurement(row, command)
    program, flag, prefix = shell()
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(
            [program, flag, prefix + command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        elapsed = time.perf_counter() - started
        stderr = done.stderr.decode("utf-8", "replace")
        if done.returncode not in row.ok:
            result.error = f"exit {done.returncode}: {stderr.strip()[-500:]}"
            break
        result.seconds.append(elapsed)
        result.summary = stats_line(stderr) if row.has_stats else None
    return result


def stats_line(stderr: str) -> str | None:
    """The summary `logfilter run --stats` prints on stderr, without its `logfilter: ` prefix."""
    for line in reversed(stderr.splitlines()):
        if "KV pairs" in line:
            return line.removeprefix("logfilter: ").strip()
    return None


def stats_counts(summary: str | None) -> dict[str, int]:
    """The counts of a --stats summary by name: lines, messages, KV pairs, masked, ..."""
    if summary is None:
        return {}
    return {name.strip(): int(count) for count, name in re.findall(r"(\d+) ([A-Za-z][A-Za-z ]*)", summary)}


@dataclass(frozen=True, slots=True)
class PeakRss:
    """Peak resident set size of `logfilter run -c perkey.ini` fed a stream on stdin."""

    streamed: int
    megabytes: float
    seconds: float
    summary: str | None


def peak_rss(size: int, seed: int, engine: str | None) -> PeakRss:
    """Stream a generated corpus of `size` bytes into logfilter's stdin; measure its peak RSS.

    The logfilter process is this process's direct child (no shell), and the figure is
    getrusage(RUSAGE_CHILDREN).ru_maxrss: the largest of all children waited for so far,
    which is why this runs before any other child process.
    """
    if resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss:
        msg = "peak_rss must run before any other child process (RUSAGE_CHILDREN keeps the maximum)"
        raise RuntimeError(msg)
    argv = [*logfilter_argv(), "run", "--stats", *(["--engine", engine] if engine else [])]
    argv += ["-c", str(CONFIGS / "perkey.ini"), "-"]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    fed = [0]
    feeder = threading.Thread(target=_feed, args=(proc.stdin, Corpus(seed), size, fed), daemon=True)
    feeder.start()
    stderr = proc.stderr.read().decode("utf-8", "replace")
    returncode = proc.wait()
    feeder.join()
    seconds = time.perf_counter() - started
    if returncode != 0:
        msg = f"logfilter exited {returncode} on the streamed corpus: {stderr.strip()[-500:]}"
        raise RuntimeError(msg)
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return PeakRss(fed[0], maxrss * scale / MB, seconds, stats_line(stderr))


def _feed(stdin: IO[bytes], corpus: Corpus, size: int, fed: list[int]) -> None:
    try:
        for chunk in corpus.chunks(size):
            stdin.write(chunk)
            fed[0] += len(chunk)
    except BrokenPipeError:
        pass  # logfilter stopped reading; its exit status tells why
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass


@dataclass(frozen=True, slots=True)
class BatchCorpus:
    """The --batch input: a folder of generated corpus files, one seed each."""

    folder: Path
    files: tuple[Path, ...]
    seeds: tuple[int, ...]
    size: int
    seconds: float  # to generate them


@dataclass(slots=True)
class BatchMeasurement:
    """The wall times of `logfilter batch --jobs N` on the --batch corpus."""

    jobs: int
    command: str
    seconds: list[float] = field(default_factory=list)
    output_bytes: int = 0  # of the last run
    error: str | None = None
    scheduler: str | None = None  # --scheduler ADDRESS instead of --jobs

    @property
    def name(self) -> str:
        return f"logfilter batch --scheduler {self.scheduler}" if self.scheduler else f"logfilter batch --jobs {self.jobs}"

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else float("nan")


def batch_corpus(folder: Path, files: int, size: int, seed: int) -> BatchCorpus:
    """Write `files` corpus files of size // files bytes each, seeds seed, seed + 1, ..."""
    folder.mkdir()
    seeds = tuple(range(seed, seed + files))
    paths = tuple(folder / f"corpus-seed{n}.log" for n in seeds)
    started = time.perf_counter()
    for n, path in zip(seeds, paths, strict=True):
        with path.open("wb") as stream:
            stream.writelines(Corpus(n).chunks(size // files))
    seconds = time.perf_counter() - started
    return BatchCorpus(folder, paths, seeds, sum(path.stat().st_size for path in paths), seconds)


def batch_argv(folder: Path, outdir: Path, jobs: int, engine: str | None, scheduler: str | None = None) -> list[str]:
    """`logfilter batch -c perkey.ini FOLDER -o OUTDIR --jobs N` (or --scheduler ADDRESS), run by this interpreter."""
    argv = [sys.executable, "-m", "logfilter", "batch", "-c", str(CONFIGS / "perkey.ini"), str(folder)]
    how = ["--scheduler", scheduler] if scheduler else ["--jobs", str(jobs)]
    return [*argv, "-o", str(outdir), *how, *(["--engine", engine] if engine else [])]


def measure_batch(
    corpus: BatchCorpus, outdir: Path, jobs: int, engine: str | None, repeat: int, scheduler: str | None = None
) -> BatchMeasurement:
    """Run `logfilter batch --jobs N` `repeat` times, each into a fresh OUTDIR; check its outputs.

    A run fails the measurement when it exits non-zero, or when an output is missing or all
    of them are empty. OUTDIR is removed after each run, outside the timer.
    """
    argv = batch_argv(corpus.folder, outdir, jobs, engine, scheduler)
    result = BatchMeasurement(jobs, shlex.join(argv), scheduler=scheduler)
    for _ in range(repeat):
        if outdir.exists():
            shutil.rmtree(outdir)
        started = time.perf_counter()
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace")
            result.error = f"exit {done.returncode}: {stderr.strip()[-500:]}"
            break
        result.output_bytes, result.error = batch_outputs(corpus, outdir)
        if result.error:
            break
        result.seconds.append(elapsed)
        shutil.rmtree(outdir)
    return result


def batch_outputs(corpus: BatchCorpus, outdir: Path) -> tuple[int, str | None]:
    """The bytes of the outputs mirrored into OUTDIR, and what is wrong with them (None: nothing).

    Every input must have its output at OUTDIR/<folder name>/<file name>, and they must not
    all be empty.
    """
    tree = outdir / corpus.folder.name
    outputs = [tree / path.name for path in corpus.files]
    missing = [path.name for path in outputs if not path.is_file()]
    if missing:
        return 0, f"exit 0, but {len(missing)} of {len(outputs)} outputs are not in {tree}: {missing[:3]}"
    size = sum(path.stat().st_size for path in outputs)
    return size, None if size else f"exit 0, but the {len(outputs)} outputs under {tree} are all empty"


@dataclass(slots=True)
class FollowMeasurement:
    """The catch-up times of `logfilter follow -o` on the corpus."""

    command: str
    seconds: list[float] = field(default_factory=list)
    error: str | None = None
    name: str = "logfilter follow -c perkey.ini -o (catch-up)"

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else float("nan")


def measure_follow(corpus: Path, scratch: Path, engine: str | None, repeat: int) -> FollowMeasurement:
    """Start `logfilter follow` on a hard link of the corpus; time it until all of it is emitted."""
    raw, size = scratch / "follow-raw", corpus.stat().st_size
    raw.mkdir()
    os.link(corpus, raw / "corpus.log")
    argv = [*logfilter_argv(), "follow", "-c", str(CONFIGS / "perkey.ini"), str(raw / "*.log"),
            "-o", str(scratch / "follow-out"), "--state", str(scratch / "follow-state.json"),
            *(["--engine", engine] if engine else [])]  # fmt: skip
    result = FollowMeasurement(shlex.join(argv))
    for _ in range(repeat):
        for old in (scratch / "follow-out", scratch / "follow-state.json"):
            shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while proc.poll() is None and _emitted(scratch / "follow-state.json") < size:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        if proc.returncode != 0:
            result.error = f"exit {proc.returncode}: {stderr.decode('utf-8', 'replace').strip()[-500:]}"
            break
        result.seconds.append(elapsed)
    return result


def _emitted(state: Path) -> int:
    try:
        files = json.loads(state.read_bytes())["files"]
    except (OSError, ValueError, KeyError):
        return 0  # not written yet, or being replaced
    return files[0]["sent"] if files else 0


def speed_lines(
    named: Sequence[tuple[str, Measurement | BatchMeasurement | FollowMeasurement]], size: int, label: str
) -> list[str]:
    """One line per measurement: best time, MB/s, and MB/s over the first one's (`label`)."""
    megabytes = size / MB
    first = named[0][1] if named else None
    baseline = megabytes / first.best if first is not None and first.seconds else float("nan")
    width = max(len(name) for name, _ in named)
    lines = [f"{'command':<{width}}  {'best s':>8}  {'MB/s':>8}  {label}"]
    for name, r in named:
        if r.error:
            lines.append(f"{name:<{width}}  failed ({r.error})")
            continue
        speed = megabytes / r.best
        lines.append(f"{name:<{width}}  {r.best:8.3f}  {speed:8.1f}  {speed / baseline:{len(label)}.4g}")
    return lines


def batch_table(results: Sequence[BatchMeasurement], size: int) -> list[str]:
    """The batch report: one line per --jobs N, with its MB/s over the first's."""
    return speed_lines([(r.name, r) for r in results], size, f"ratio to --jobs {results[0].jobs}")


def yardstick_lines(results: Sequence[Measurement], size: int) -> list[str]:
    """One line per row: MB/s, and its ratio to the perl script, to the sed one-liner and to cat."""
    megabytes = size / MB
    speeds = {r.row.name: megabytes / r.best for r in results if r.seconds}
    perl, sed, cat = (speeds.get(name, float("nan")) for name in (PERL_ROW, SED_ROW, results[0].row.name))
    width = max(len(r.row.name) for r in results)
    lines = [f"{'command':<{width}}  {'best s':>8}  {'MB/s':>8}  {'x perl':>7}  {'x sed':>7}  {'x cat':>7}"]
    for r in results:
        if r.error:
            lines.append(f"{r.row.name:<{width}}  failed ({r.error})")
            continue
        speed = speeds[r.row.name]
        lines.append(f"{r.row.name:<{width}}  {r.best:8.3f}  {speed:8.1f}  {speed / perl:7.2f}  {speed / sed:7.2f}  "
                     f"{speed / cat:7.3f}")
    return lines


def same_as_perl(corpus: Path, engine: str | None) -> str:
    """Whether `logfilter run -c mask_full.ini` writes exactly what the perl script writes (digests compared)."""
    import hashlib

    outputs = []
    for argv in ([*logfilter_argv(), "run", *(["--engine", engine] if engine else []), "-c",
                  str(CONFIGS / "mask_full.ini"), str(corpus)], ["perl", str(BENCH / "mask_full.pl")]):
        with corpus.open("rb") as stdin:
            done = subprocess.run(argv, stdin=stdin, capture_output=True, check=True)
        outputs.append(hashlib.sha256(done.stdout).hexdigest())
    return "equal, byte for byte" if outputs[0] == outputs[1] else "DIFFERENT"


def startup_lines(repeat: int = 20) -> tuple[list[str], bool]:
    """Best wall time of `python -c pass`, `logfilter --help` and `logfilter run` on an empty file, with ratios."""
    with tempfile.TemporaryDirectory() as scratch:
        empty = Path(scratch) / "empty.log"
        empty.write_bytes(b"")
        commands = [("python -c pass", [sys.executable, "-c", "pass"]), ("logfilter --help", [*logfilter_argv(), "--help"]),
                    ("logfilter run -c mask_full.ini EMPTY", [*logfilter_argv(), "run", "-c",
                                                              str(CONFIGS / "mask_full.ini"), str(empty)])]  # fmt: skip
        best = {}
        for name, argv in commands:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times.append(time.perf_counter() - started)
            best[name] = min(times)
    base = best["python -c pass"]
    lines = [f"start-up (best of {repeat}): " + ", ".join(f"{name} {seconds * 1000:.0f} ms ({seconds / base:.1f}x)"
                                                          for name, seconds in best.items())]
    return lines, True


def table(results: Sequence[Measurement], size: int) -> list[str]:
    """The report: one line per row, then each logfilter row's --stats summary."""
    megabytes = size / MB
    if any(r.row.name == PERL_ROW for r in results):
        lines = yardstick_lines(results, size)
    else:
        lines = speed_lines([(r.row.name, r) for r in results], size, "ratio to cat")
    for r in results:
        if r.row.is_logfilter and r.summary:
            masked = stats_counts(r.summary).get("masked", 0)
            lines += [f"{r.row.name}:", f"  {r.summary}", f"  -> {masked / megabytes:,.0f} masked per MB"]
    return lines


def report(results: Sequence[Measurement], size: int, rss: PeakRss | None, source: dict[str, object]) -> dict:
    """The figures as one JSON-ready dict."""
    megabytes = size / MB
    baseline = megabytes / results[0].best if results and results[0].seconds else None
    rows = []
    for r in results:
        speed = megabytes / r.best if r.seconds else None
        rows.append({
            "name": r.row.name,
            "command": r.command,
            "seconds": r.seconds,
            "best_seconds": min(r.seconds) if r.seconds else None,
            "mb_per_s": speed,
            "ratio_to_cat": speed / baseline if speed and baseline else None,
            "stats": stats_counts(r.summary) or None,
            "error": r.error,
        })
    peak = None
    if rss is not None:
        peak = {"streamed_bytes": rss.streamed, "peak_rss_mb": rss.megabytes, "seconds": rss.seconds,
                "stats": stats_counts(rss.summary) or None}
    return {"corpus": source, "mb": MB, "rows": rows, "rss": peak}


def batch_report(results: Sequence[BatchMeasurement], corpus: BatchCorpus) -> dict:
    """The batch figures as one JSON-ready dict; `speedup` is the last row's ratio to the first."""
    megabytes = corpus.size / MB
    baseline = megabytes / results[0].best if results and results[0].seconds else None
    rows = []
    for r in results:
        speed = megabytes / r.best if r.seconds else None
        rows.append({
            "name": r.name,
            "command": r.command,
            "jobs": None if r.scheduler else r.jobs,
            "scheduler": r.scheduler,
            "seconds": r.seconds,
            "best_seconds": min(r.seconds) if r.seconds else None,
            "mb_per_s": speed,
            f"ratio_to_jobs_{results[0].jobs}": speed / baseline if speed and baseline else None,
            "output_bytes": r.output_bytes if r.seconds else None,
            "error": r.error,
        })
    source = {"files": len(corpus.files), "bytes": corpus.size, "seeds": list(corpus.seeds),
              "generation_seconds": corpus.seconds}
    speedup = rows[-1][f"ratio_to_jobs_{results[0].jobs}"] if len(rows) > 1 else None
    return {"corpus": source, "rows": rows, "speedup": speedup}


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every row of ROWS on one corpus and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("64M"), help="generated corpus size")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed")
    parser.add_argument("--file", type=Path, help="measure on this file instead of a generated corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the best counts")
    parser.add_argument("--engine", help="pass `--engine NAME` to every logfilter run")
    parser.add_argument("--rss", type=parse_size, metavar="SIZE",
                        help="also stream a generated corpus of SIZE into logfilter's stdin; report peak RSS")
    parser.add_argument("--batch", type=int, metavar="FILES",
                        help=f"also measure logfilter batch --jobs {' and '.join(map(str, BATCH_JOBS))} "
                        "on FILES generated files, --size in all")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --batch, also measure logfilter batch --scheduler ADDRESS (e.g. local:2)")
    parser.add_argument("--follow", action="store_true", help="also measure logfilter follow -o catching up")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--dense", type=int, metavar="MB",
                        help="measure on ../shared/bench/gen_corpus.py's dense corpus of MB, next to perl and sed")
    parser.add_argument("--startup", action="store_true", help="also time the start of logfilter")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.batch is not None and args.batch < 1:
        parser.error("--batch must be at least 1")
    if args.file is not None and not args.file.is_file():
        parser.error(f"--file {args.file}: no such file")

    print(f"logfilter: {shlex.join(logfilter_argv())}" + (f" --engine {args.engine}" if args.engine else ""))
    rss = None
    if args.rss:  # first: RUSAGE_CHILDREN must see no other child before it
        print(f"peak RSS: streaming {args.rss / MB:,.0f} MB into logfilter run -c perkey.ini ...", flush=True)
        rss = peak_rss(args.rss, args.seed, args.engine)
    with tempfile.TemporaryDirectory(prefix="logfilter-bench-") as scratch:
        rows = ROWS
        if args.dense:
            path = Path(scratch) / f"dense-{args.dense}.log"
            started = time.perf_counter()
            subprocess.run([sys.executable, str(BENCH / "gen_corpus.py"), str(path), str(args.dense), "11"],
                           check=True, capture_output=True)  # fmt: skip
            source = {"path": None, "bytes": path.stat().st_size, "generated": True, "dense": args.dense,
                      "generation_seconds": time.perf_counter() - started}
            rows = DENSE_ROWS
        elif args.file is not None:
            path = args.file
            source: dict[str, object] = {"path": str(path), "bytes": path.stat().st_size, "generated": False}
            with path.open("rb") as stream:  # into the page cache, as a generated corpus already is
                while stream.read(MB * 16):
                    pass
        else:
            path = Path(scratch) / f"corpus-seed{args.seed}.log"
            started = time.perf_counter()
            with path.open("wb") as stream:
                stream.writelines(Corpus(args.seed).chunks(args.size))
            seconds = time.perf_counter() - started
            source = {"path": None, "bytes": path.stat().st_size, "generated": True, "seed": args.seed,
                      "generation_seconds": seconds}
        size = path.stat().st_size
        what = path if args.file is not None else f"generated, seed {args.seed}"
        print(f"corpus: {size / MB:,.1f} MB ({what}); best of {args.repeat}", flush=True)
        results = []
        if args.dense:
            print(f"logfilter run -c mask_full.ini against perl mask_full.pl: {same_as_perl(path, args.engine)}",
                  flush=True)
        for row in rows:
            results.append(measure(row, path, args.engine, args.repeat))
            print(f"  measured: {row.name}", file=sys.stderr, flush=True)
        followed = None
        if args.follow:
            followed = measure_follow(path, Path(scratch), args.engine, args.repeat)
            print(f"  measured: {followed.name}", file=sys.stderr, flush=True)
        batched = None
        if args.batch:
            batched = run_batch(Path(scratch), args.batch, args.size, args.seed, args.engine, args.repeat,
                                args.scheduler)
    print("\n".join(table(results, size)))
    if args.startup:
        print("\n".join(startup_lines()[0]))
    if rss is not None:
        print(f"peak RSS of logfilter run -c perkey.ini on {rss.streamed / MB:,.0f} MB via stdin: "
              f"{rss.megabytes:,.1f} MB ({rss.streamed / MB / rss.seconds:,.1f} MB/s)")
        if rss.summary:
            print(f"  {rss.summary}")
    if followed is not None:
        perkey = next(r for r in results if "perkey" in r.row.name)
        print("\n".join(speed_lines([(perkey.row.name, perkey), (followed.name, followed)], size, "ratio to run")))
    if batched is not None:
        print("\n".join(batch_table(batched[1], batched[0].size)))
    if args.json is not None:
        figures = report(results, size, rss, source)
        if batched is not None:
            figures["batch"] = batch_report(batched[1], batched[0])
        if followed is not None:
            figures["follow"] = {"command": followed.command, "seconds": followed.seconds, "error": followed.error}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    failed = any(r.error for r in results) or (batched is not None and any(r.error for r in batched[1]))
    failed = failed or (followed is not None and followed.error is not None)
    return 1 if failed else 0


def run_batch(
    scratch: Path, files: int, size: int, seed: int, engine: str | None, repeat: int, scheduler: str | None = None
) -> tuple[BatchCorpus, list[BatchMeasurement]]:
    """Generate the --batch corpus under `scratch`; measure `logfilter batch` for each of BATCH_JOBS."""
    corpus = batch_corpus(scratch / "batch", files, size, seed)
    print(f"batch corpus: {files} files, {corpus.size / MB:,.1f} MB (generated, seeds {corpus.seeds[0]}-"
          f"{corpus.seeds[-1]}); best of {repeat}", flush=True)
    results = []
    runs = [(jobs, None) for jobs in BATCH_JOBS] + ([(0, scheduler)] if scheduler else [])
    for jobs, address in runs:
        result = measure_batch(corpus, scratch / f"batch-out-jobs{jobs}", jobs, engine, repeat, address)
        results.append(result)
        print(f"  measured: {result.name}", file=sys.stderr, flush=True)
        if result.error:
            print(f"error: {result.name}: {result.error}", file=sys.stderr, flush=True)
    return corpus, results


if __name__ == "__main__":
    sys.exit(main())
