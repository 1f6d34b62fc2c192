"""The command line: the only module that reads argv, prints, and picks exit codes."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from logfilter import __version__
from logfilter.audit.keys import KeyInventory
from logfilter.audit.preview import DEFAULT_MESSAGES
from logfilter.audit.preview import MAX_MESSAGES as MAX_PREVIEW
from logfilter.audit.preview import examples as preview_examples
from logfilter.audit.preview import render as render_preview
from logfilter.audit.scan import Scanner, describe, scan_paths
from logfilter.batch.local import Job, Plan, Settings, State, execute, sweep
from logfilter.batch.local import entry as batch_entry
from logfilter.batch.local import plan as plan_batch
from logfilter.batch.local import report as batch_report
from logfilter.engines.registry import FORMATS, Format
from logfilter.engines.untag import DEFAULT_PAIR, config_pairs, parse_tags
from logfilter.engines.untag import run as run_untag
from logfilter.errors import ConfigError, LogFilterError
from logfilter.follow.follower import Follower, pattern_base, watch
from logfilter.follow.follower import Options as FollowOptions
from logfilter.follow.server import Server, parse_listen
from logfilter.pipeline import ENGINES, EngineName, OnError
from logfilter.pipeline import run as run_pipeline
from logfilter.rules.compiled import Rules, compile_policy
from logfilter.rules.config import load_policy, read_config
from logfilter.rules.detect import NAMES as DETECTORS
from logfilter.rules.filters import HIDE, FilterType, FilterTypeError, parse_filter_type
from logfilter.rules.hashing import read_key
from logfilter.sinks import AtomicFile, StreamSink, locked, set_aside
from logfilter.sources.archives import Outcome, printable
from logfilter.sources.files import FileSource, Source, StdinSource

# Locals of this program hold log data: never show them in a traceback.
app = typer.Typer(
    pretty_exceptions_show_locals=False,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # option help holds [log-filter], which is not markup
    help="Mask customer data in Genesys T-Library logs, as the servers' log-filter options do.",
)

MAX_WARNINGS = 20
Counts = TypeVar("Counts")


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"logfilter: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass  # stderr closed (`2>&1 | head -1`): the work goes on, only the telling stops


def _die(exc: LogFilterError) -> NoReturn:
    sys.stderr.write(f"error: {exc}\n")
    raise typer.Exit(exc.exit_code)


@app.callback()
def main() -> None:
    """Mask customer data in Genesys T-Library logs."""


ConfigOption = Annotated[
    Path | None,
    typer.Option("-c", "--config", help="Genesys option text with [log-filter] and [log-filter-data]."),
]
DefaultOption = Annotated[
    str | None, typer.Option("--default", help="default-filter-type, overriding the file (e.g. hide, copy).")
]
KeyOption = Annotated[
    list[str] | None,
    typer.Option("--key", metavar="KEY=TYPE", help="A per-key rule, overriding the file; repeatable."),
]
OnErrorOption = Annotated[
    str,
    typer.Option(
        "--on-error",
        help="redact: mask an unparsable KV line whole and go on; fail: stop that input "
        "(run exits 3; batch fails the file).",
    ),
]
IgnoreCaseOption = Annotated[
    bool, typer.Option("--ignore-key-case", help="Match rule keys to log keys ignoring case.")
]
EngineOption = Annotated[
    str,
    typer.Option("--engine", help="fast (default), or reference: the Lark parser on every line, for debugging."),
]
FormatOption = Annotated[
    str,
    typer.Option("--format", help="tlib (default): the log, masked; jsonl: one JSON object per message "
                 "(docs/jsonl-schema.json)."),
]
AllLinesOption = Annotated[
    bool, typer.Option("--all-lines", help="With --format jsonl: also write the lines outside messages, one object each.")
]


@app.command()
def run(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[INPUT]...", help="Log files to read in order; none or - reads stdin."),
    ] = None,
    config: ConfigOption = None,
    default: DefaultOption = None,
    key: KeyOption = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write here instead of stdout (- is stdout).")
    ] = None,
    on_error: OnErrorOption = "redact",
    ignore_key_case: IgnoreCaseOption = False,
    stats: Annotated[bool, typer.Option("--stats", help="Print a one-line summary on stderr.")] = False,
    engine: EngineOption = "fast",
    preview: Annotated[
        bool, typer.Option("--preview", help="Show the KV lines of a few messages before and after, instead of the output.")
    ] = False,
    preview_count: Annotated[
        int, typer.Option("--preview-count", metavar="N", help="How many messages --preview shows (default 3).")
    ] = DEFAULT_MESSAGES,
    prints_data: Annotated[
        bool,
        typer.Option("--i-know-this-prints-data", help="Let --preview write original values to a file or a pipe."),
    ] = False,
    output_format: FormatOption = "tlib",
    all_lines: AllLinesOption = False,
) -> None:
    """Mask the KV pairs of AttributeUserData, AttributeExtensions and AttributeReason(s)."""
    try:
        chain = compile_policy(load_policy(config, default, key or (), ignore_key_case))
        mode, engine_name = _mode(on_error), _engine(engine)
        chosen = _format(output_format, all_lines)
        _check_preview(preview, output, preview_count, prints_data, chosen)
    except LogFilterError as exc:
        _die(exc)
    if preview:
        _stream(inputs, output, lambda sources, sink: _preview(sources, chain, sink, preview_count))
        return
    warn = _capped_warnings("more lines failed closed; they are counted, not listed")
    counts = _stream(inputs, output, lambda sources, sink: run_pipeline(
        sources, chain, sink, on_error=mode, warn=warn, engine=engine_name, output_format=chosen, all_lines=all_lines
    ))  # fmt: skip
    if counts.failed_closed:
        fate = "left out" if chosen == "jsonl" else "masked whole"
        _say(f"{counts.failed_closed} lines inside KV blocks could not be parsed and were {fate}")
    if stats:
        _say(counts.summary())


@app.command()
def batch(
    inputs: Annotated[
        list[str], typer.Argument(metavar="INPUT...", help="Files, folders (recursive) and archives.")
    ],
    outdir: Annotated[
        str, typer.Option("-o", "--output", metavar="OUTDIR", help="Where the sanitized tree is written (or a URL, with --scheduler).")
    ],
    config: ConfigOption = None,
    default: DefaultOption = None,
    key: KeyOption = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Files processed at once (default: all cores).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE", help="Write a JSON report of counts, never values (- is stdout)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo outputs that are already complete.")] = False,
    keep_binary: Annotated[
        bool, typer.Option("--keep-binary", help="Copy files that are not text logs unchanged instead of leaving them out.")
    ] = False,
    on_error: OnErrorOption = "redact",
    ignore_key_case: IgnoreCaseOption = False,
    engine: EngineOption = "fast",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="ADDRESS",
            help="Run the files on a Dask cluster (tcp://host:8786), or on local[:N] worker processes.",
        ),
    ] = None,
    split_size: Annotated[
        str | None,
        typer.Option(
            "--split-size", metavar="SIZE",
            help="With --scheduler: split text files over SIZE (default 1G) into ranges of SIZE/4.",
        ),
    ] = None,
    output_format: FormatOption = "tlib",
    all_lines: AllLinesOption = False,
) -> None:
    """Sanitize files, folders and archives (.gz .bz2 .xz .zip .tar .tgz) into OUTDIR, mirroring their tree.

    A folder comes out as OUTDIR/<its name>/..., a file as OUTDIR/<its name>, an archive as the
    same kind of archive (--format jsonl: OUTDIR/<name>.jsonl, text logs only). Outputs appear only when complete; a re-run skips outputs already
    made from the same input with the same rules. Exit 0: all done; 1: a file failed (the
    others are written); 2: usage or configuration error.
    """
    interrupted = _on_sigterm_interrupt()
    try:
        chosen = _format(output_format, all_lines)
        if keep_binary and chosen == "jsonl":
            msg = "--keep-binary cannot go with --format jsonl (binary data is not JSON lines)"
            raise ConfigError(msg)
        settings = Settings(
            load_policy(config, default, key or (), ignore_key_case), _engine(engine), _mode(on_error), keep_binary,
            chosen, all_lines,
        )  # fmt: skip
        workers = _jobs(jobs)
        on_cluster = _on_cluster(scheduler, split_size, settings)
        work = _plan(inputs, outdir, on_cluster is not None, ".jsonl" if chosen == "jsonl" else "")
        if report is not None:  # a URL plan: its local inputs (plain paths and file://)
            _refuse_report_over_input(report, work if isinstance(work, Plan) else work.local_roots())
        entries = _batch(work, settings, workers, force, on_cluster)
        if report is not None:
            _write_report(report, batch_report(entries, settings, work.outdir))
    except KeyboardInterrupt:
        signum = interrupted.get("signal", signal.SIGINT)
        _say("interrupted: outputs already complete are kept; run the same command again to finish")
        raise typer.Exit(128 + signum) from None
    except LogFilterError as exc:
        _die(exc)
    if any(item["status"] == "failed" for item in entries):
        raise typer.Exit(1)


@app.command()
def follow(
    patterns: Annotated[
        list[str],
        typer.Argument(
            metavar="PATTERN...",
            help="Glob patterns of the files to follow (quote them: they are looked up again every second).",
        ),
    ],
    state: Annotated[
        Path, typer.Option("--state", metavar="STATEFILE", help="Where the checkpoints are kept (JSON).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", metavar="OUTDIR", help="Write each file's sanitized copy here, same name."),
    ] = None,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Write the messages of every file to stdout, whole messages only.")
    ] = False,
    listen: Annotated[
        str | None,
        typer.Option("--listen", metavar="HOST:PORT", help="Serve /healthz and /metrics here (loopback only)."),
    ] = None,
    listen_any: Annotated[
        bool, typer.Option("--listen-any", help="Allow --listen on an address other machines can reach.")
    ] = False,
    from_end: Annotated[
        bool,
        typer.Option(
            "--from-end/--from-start",
            help="Where to start in files that are there at the first start: their last message, or "
            "(default) their first byte. Files that appear later are read from the start.",
        ),
    ] = False,
    config: ConfigOption = None,
    default: DefaultOption = None,
    key: KeyOption = None,
    on_error: OnErrorOption = "redact",
    ignore_key_case: IgnoreCaseOption = False,
    engine: EngineOption = "fast",
    output_format: FormatOption = "tlib",
    all_lines: AllLinesOption = False,
) -> None:
    """Follow log files as they grow and rotate, writing sanitized copies; resume where it stopped.

    SIGTERM or SIGINT: emit what is complete, checkpoint, exit 0. SIGHUP: reload the rules
    (an invalid file is reported and the rules in use are kept).
    """

    def load() -> Rules:
        return compile_policy(load_policy(config, default, key or (), ignore_key_case))

    try:
        _refuse_outdir_over_inputs(patterns, output)
        options = FollowOptions(
            tuple(patterns), _follow_output(output, stdout), _state_path(state), from_end,
            _mode(on_error), _engine(engine), _format(output_format, all_lines), all_lines,
        )  # fmt: skip
        follower = Follower(options, load(), _say)
        if config is not None:
            follower.watch_config(config, load)  # a changed file reloads as SIGHUP does
        address = parse_listen(listen, listen_any) if listen is not None else None
        server = Server(follower, *address) if address is not None else None
        if server is not None:
            server.start()
            _say(f"listening on {server.address[0]}:{server.address[1]}")
        observer = watch(follower)
        signal.signal(signal.SIGTERM, lambda signum, frame: follower.stop())
        signal.signal(signal.SIGINT, lambda signum, frame: follower.stop())
        signal.signal(signal.SIGHUP, lambda signum, frame: follower.reload(load))
        try:
            follower.run()
        finally:
            if server is not None:
                server.stop()
            if observer is not None:
                observer.stop()  # type: ignore[attr-defined]
    except BrokenPipeError:
        _silence_stdout()
        _say("error: <stdout>: the reader went away; stopped (the checkpoint is kept)")
        raise typer.Exit(1) from None
    except LogFilterError as exc:
        _die(exc)
    _say(f"stopped: {follower.stats.summary()}")


@app.command()
def scan(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[INPUT]...", help="Files, folders (recursive) and archives; none or - reads stdin."),
    ] = None,
    config: ConfigOption = None,
    default: DefaultOption = None,
    key: KeyOption = None,
    detect: Annotated[
        str,
        typer.Option("--detect", metavar="LIST", help=f"Detectors to run: {', '.join(DETECTORS)} or all (default), or none."),
    ] = "all",
    everywhere: Annotated[
        bool,
        typer.Option("--everywhere", help="Also search lines outside KV blocks (not time stamps, ConnIDs, ids, DNs)."),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE", help="Write the findings and counts as JSON (- is stdout)."),
    ] = None,
    ignore_key_case: IgnoreCaseOption = False,
) -> None:
    """Find what should not leave the building: values the rules mask, or detectors recognize, in clear.

    Prints one line per finding (file, line, key, detector and a masked preview; never the
    value), unless --report - puts the JSON report there instead. Exit 0: nothing found; 1: findings, or an input that could not be scanned;
    2: usage or configuration error.
    """
    try:
        chain = compile_policy(load_policy(config, default, key or (), ignore_key_case, detect=detect, keyed=False))
        paths = [Path(item) for item in inputs or ["-"] if item != "-"]
        for path in paths:
            if not path.exists():
                msg = f"{printable(str(path))}: no such input file or folder"
                raise ConfigError(msg)
        if report is not None:
            _refuse_report_over_input(report, paths)
        # With the report on stdout, stdout holds the report alone (it is JSON).
        listing = report is None or str(report) != "-"
        scanner = Scanner(chain, everywhere, lambda finding: listing and _print_finding(finding.text()))
        for item in inputs or ["-"]:
            if item == "-":
                scanner.scan_stream(_std("stdin").buffer, "<stdin>")
            else:
                scan_paths(scanner, [Path(item)])
        if report is not None:
            _write_report(report, {"logfilter": __version__, **scanner.report(describe(chain, everywhere))})
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(1) from None
    except LogFilterError as exc:
        _die(exc)
    totals = scanner.totals()
    if scanner.total:
        kinds = ", ".join(f"{count} {name}" for name, count in totals["by_detector"].items())  # type: ignore[attr-defined]
        _say(f"{scanner.total} findings ({kinds}) in {totals['inputs']} inputs, {totals['lines']} lines")
        raise typer.Exit(1)
    _say(f"clean: {totals['inputs']} inputs, {totals['lines']} lines, {totals['pairs']} KV pairs")


@app.command()
def keys(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[INPUT]...", help="Files, folders (recursive) and archives; none or - reads stdin."),
    ] = None,
    config: ConfigOption = None,
    default: DefaultOption = None,
    key: KeyOption = None,
    ignore_key_case: IgnoreCaseOption = False,
    output_format: Annotated[str, typer.Option("--format", help="text (a table, default) or json.")] = "text",
) -> None:
    """List every key of the KV blocks: attribute, nesting path, count, value shape, and the filter type that applies.

    The shape is lengths, character classes and kinds, never a value. Without -c every key
    shows the copy default. Exit 0; 1 when an input could not be read; 2: usage or configuration error.
    """
    try:
        if output_format not in ("text", "json"):
            msg = f"--format {output_format!r}: expected text or json"
            raise ConfigError(msg)
        nothing = config is None and default is None and not key
        chain = compile_policy(load_policy(config, "copy" if nothing else default, key or (), ignore_key_case, keyed=False))
        inventory = KeyInventory(chain)
        for item in inputs or ["-"]:
            if item == "-":
                inventory.scan_stream(sys.stdin.buffer, "<stdin>")
            elif not Path(item).exists():
                msg = f"{printable(item)}: no such input file or folder"
                raise ConfigError(msg)
            else:
                scan_paths(inventory, [Path(item)])
        if output_format == "json":
            settings = {name: value for name, value in describe(chain, False).items() if name != "everywhere"}
            content = {"logfilter": __version__, **inventory.report(settings)}
            sys.stdout.buffer.write(orjson.dumps(content, option=orjson.OPT_INDENT_2) + b"\n")
        else:
            sys.stdout.write("".join(line.rstrip() + "\n" for line in inventory.table()))
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(0) from None
    except LogFilterError as exc:
        _die(exc)
    for result in inventory.inputs:
        if result.status != "scanned":
            _say(f"{result.name}: not read: {result.reason}")
    if inventory.unparsable:
        _say(f"{inventory.unparsable} lines inside KV blocks could not be read; their keys are not listed")
    if any(result.status != "scanned" for result in inventory.inputs):
        raise typer.Exit(1)


def _print_finding(text: str) -> None:
    _std("stdout").write(text + "\n")


def _std(name: str) -> TextIO:
    """sys.stdin or sys.stdout; a LogFilterError when the process was started with it closed."""
    stream = getattr(sys, name)
    if stream is None:
        msg = f"<{name}>: standard {name[3:]}put is closed"
        raise LogFilterError(msg)
    return stream


@app.command()
def untag(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[INPUT]...", help="Log files to read in order; none or - reads stdin."),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tags", metavar="PREFIX,POSTFIX", help="A tag pair to look for besides <#,#>; repeatable."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("-c", "--config", help="Also look for the tag pairs of this file's tag() rules and default."),
    ] = None,
    strip: Annotated[
        bool, typer.Option("--strip", help="Remove only the tags and keep the values (for authorized internal use).")
    ] = False,
    filter_type: Annotated[
        str | None,
        typer.Option(
            "--filter-type", metavar="TYPE",
            help="Apply this filter type to each tagged value instead of hide, e.g. unhide-last,4, skip, tag(<!--,-->).",
        ),
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write here instead of stdout (- is stdout).")
    ] = None,
    stats: Annotated[bool, typer.Option("--stats", help="Print a one-line summary on stderr.")] = False,
) -> None:
    """Hide the values that tag() marked, on any line: <#'8410'#> becomes '****'.

    A tag with no closing tag on its line hides the rest of the line (failed closed).
    """
    try:
        chosen = _untag_filter_type(strip, filter_type, config)
        pairs = [DEFAULT_PAIR, *(parse_tags(text) for text in tags or ())]
        if config is not None:
            pairs += config_pairs(config)
    except LogFilterError as exc:
        _die(exc)
    warn = _capped_warnings("more tags failed closed; they are counted, not listed")
    counts = _stream(inputs, output, lambda sources, sink: run_untag(sources, pairs, chosen, sink, warn=warn))
    if counts.failed_closed:
        _say(f"{counts.failed_closed} tags with no closing tag on their line: the rest of each such line was hidden")
    if stats:
        _say(counts.summary("tags stripped" if chosen is None else chosen.text))


def _stream(inputs: list[str] | None, output: str | None, work: Callable[[list[Source], StreamSink], Counts]) -> Counts:
    """Run `work` from the inputs (none: stdin) to -o or stdout and close the output; return its counts.

    The reader going away (`logfilter run big.log | head`) stops quietly, with exit 0; any
    other LogFilterError is reported with its exit code.
    """
    try:
        sources = _sources(inputs or ["-"])
        sink = _sink(output, sources)
        try:
            counts = work(sources, sink)
            sink.close()  # a failure to write the last bytes is an error like any other
        except BaseException as exc:
            _close_quietly(sink)  # the error in flight is the one to report
            aside = set_aside(Path(output)) if output not in (None, "-") else None
            if aside is not None and isinstance(exc, LogFilterError):
                exc.args = (f"{exc}; the output so far is in {aside}",)
            raise
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(0) from None
    except LogFilterError as exc:
        _die(exc)
    return counts


def _check_preview(preview: bool, output: str | None, count: int, prints_data: bool, chosen: Format) -> None:
    """--preview prints original values: only to a terminal, unless the user says they know.

    Its flags without it, or it with --format jsonl, would be silently ignored: refused.
    """
    if not preview:
        if prints_data or count != DEFAULT_MESSAGES:
            msg = "--preview-count and --i-know-this-prints-data go with --preview"
            raise ConfigError(msg)
        return
    if chosen == "jsonl":
        msg = "--preview shows T-Library lines before and after; it does not go with --format jsonl"
        raise ConfigError(msg)
    if not 1 <= count <= MAX_PREVIEW:
        msg = f"--preview-count {count}: expected 1 to {MAX_PREVIEW}"
        raise ConfigError(msg)
    if prints_data:
        return
    if output not in (None, "-"):
        msg = "--preview prints original values: refusing to write them to a file (-o); add --i-know-this-prints-data"
        raise ConfigError(msg)
    if not sys.stdout.isatty():
        msg = "--preview prints original values: refusing to write them to a pipe or file; run it on a terminal, or add --i-know-this-prints-data"
        raise ConfigError(msg)


def _preview(sources: list[Source], chain: Rules, sink: StreamSink, count: int) -> int:
    shown = 0
    for example in preview_examples(sources, chain, count):
        sink.write(("\n" if shown else "").encode() + "".join(line + "\n" for line in render_preview(example)).encode())
        shown += 1
    if not shown:
        _say("no message with KV lines in the input")
    return shown


def _untag_filter_type(strip: bool, text: str | None, config: Path | None) -> FilterType | None:
    """None strips the tags; the default is hide. A hash takes its key as run does (the config's file, or the environment)."""
    if strip and text is not None:
        msg = "untag: give at most one of --strip and --filter-type"
        raise ConfigError(msg)
    if strip:
        return None
    try:
        chosen = parse_filter_type(text) if text is not None else HIDE
        if not chosen.is_hash:
            return chosen
        options = read_config(config)[0] if config is not None else None
        return chosen.keyed(read_key(options and options.hash_key_file, options and options.hash_key_where))
    except FilterTypeError as exc:
        msg = f"--filter-type {text!r}: {exc}"
        raise ConfigError(msg) from None


def _capped_warnings(more: str) -> Callable[[str], None]:
    """A warn function that prints the first MAX_WARNINGS messages, then says `more` once."""
    warnings = 0

    def warn(message: str) -> None:
        nonlocal warnings
        warnings += 1
        if warnings <= MAX_WARNINGS:
            _say(f"warning: {message}")
        elif warnings == MAX_WARNINGS + 1:
            _say(f"warning: {more}")

    return warn


def _follow_output(output: Path | None, stdout: bool) -> Path | None:
    if (output is None) == (not stdout):
        msg = "follow: give exactly one of -o OUTDIR and --stdout"
        raise ConfigError(msg)
    if output is not None and output.exists() and not output.is_dir():
        msg = f"{output}: OUTDIR is not a folder"
        raise ConfigError(msg)
    return output


def _refuse_outdir_over_inputs(patterns: list[str], output: Path | None) -> None:
    # Outputs have the inputs' names: in the inputs' own folder they would overwrite them.
    if output is None:
        return
    outdir = output.resolve()
    for pattern in patterns:
        base = pattern_base(pattern).resolve()
        if base == outdir or base.is_relative_to(outdir):
            msg = f"{output}: OUTDIR holds the files {pattern} follows; outputs would overwrite them"
            raise ConfigError(msg)


def _state_path(state: Path) -> Path:
    if state.is_dir():
        msg = f"{state}: --state is a folder; give a file name, e.g. {state / 'follow.json'}"
        raise ConfigError(msg)
    return state


def _on_cluster(scheduler: str | None, split_size: str | None, settings: Settings) -> Callable[..., None] | None:
    """With --scheduler, what runs the files on the cluster (logfilter.cluster); else None."""
    if scheduler is None:
        if split_size is not None:
            msg = "--split-size works with --scheduler only (a local batch does each file whole)"
            raise ConfigError(msg)
        return None
    from logfilter.batch import cluster  # Dask is an optional extra: imported only when asked for

    cluster.require()
    cluster.local_workers(scheduler)
    size = cluster.parse_size(split_size) if split_size is not None else cluster.SPLIT_SIZE
    return functools.partial(cluster.execute, settings=settings, scheduler=scheduler, split_size=size)


def _plan(inputs: list[str], outdir: str, cluster: bool, suffix: str) -> Any:
    """The local plan (batch.plan), or with URLs (cluster only) the fsspec one (remote.plan)."""
    from logfilter.batch.store import is_url  # fsspec is imported only when a URL is opened

    if not any(is_url(item) for item in [*inputs, outdir]):
        return plan_batch(inputs, Path(outdir), suffix)
    if not cluster:
        msg = "inputs and OUTDIR as URLs work with --scheduler only; give local paths"
        raise ConfigError(msg)
    from logfilter.batch import remote  # needs fsspec, like --scheduler

    return remote.plan(inputs, outdir, suffix)


def _batch(
    work: Any, settings: Settings, workers: int, force: bool, on_cluster: Callable[..., None] | None = None
) -> list[dict[str, object]]:
    """Run the plan under the OUTDIR lock; return the report entries, by input name."""
    entries = {outcome.name: batch_entry(outcome, None) for outcome in work.known}
    for outcome in work.known:
        _tell(outcome)
    local = isinstance(work, Plan)
    if not local:  # URLs: an fsspec state; the lock of a local OUTDIR only (remote.py)
        from logfilter.batch import remote, store

        folder = store.local_path(work.outdir)  # -o /out and -o file:///out: one lock
        lock = contextlib.nullcontext() if folder is None else locked(folder)
        sweep_parts, new_state = store.sweep_parts, remote.UrlState
    else:
        lock, sweep_parts, new_state = locked(work.outdir), sweep, State
    with lock:
        sweep_parts(work.outdir)
        state, fingerprint = new_state(work.outdir), settings.fingerprint()
        todo = []
        for job in work.todo:
            recorded = None if force else state.up_to_date(job, fingerprint)
            if recorded is None:
                todo.append(job)
            else:
                entries[job.name] = {**recorded, "status": "up-to-date"}
        state.invalidate(todo)
        with _Progress(len(todo), sum(job.size for job in todo)) as progress:

            def on_outcome(job: Job, outcome: Outcome) -> None:
                entries[job.name] = item = batch_entry(outcome, job.target)
                if outcome.status in ("done", "kept"):
                    state.record(job, fingerprint, item)
                else:  # left out or failed: an output a former run made is stale now
                    state.forget(job)
                _tell(outcome, progress.say)
                progress.file_done()

            try:
                if on_cluster is None:
                    execute(todo, settings, workers, on_outcome, progress.read)
                else:
                    on_cluster(todo, on_outcome=on_outcome, outdir=str(work.outdir))
                    sweep_parts(work.outdir)  # the parts of attempts whose worker died
            except KeyboardInterrupt:
                sweep_parts(work.outdir)  # the workers are gone: leave nothing half written
                raise
        state.compact()
        progress.summary(entries.values())
    return [entries[name] for name in sorted(entries)]


def _tell(outcome: Outcome, say: Callable[[str], None] = _say) -> None:
    """Errors, files left out or kept unmasked, and lines failed closed go to stderr; nothing else."""
    if outcome.status == "failed":
        say(f"error: {outcome.reason}")
    for member in _all(outcome):
        if member.status == "omitted":
            say(f"left out: {member.name} ({member.reason})")
        elif member.status == "kept":
            say(f"kept unchanged, not masked (binary data, --keep-binary): {member.name}")
    for warning in outcome.warnings:
        say(f"warning: {warning}")
    if outcome.stats.failed_closed > len(outcome.warnings):
        say(f"warning: {outcome.name}: {outcome.stats.failed_closed} lines failed closed in all (see the report)")


def _all(outcome: Outcome) -> Iterator[Outcome]:
    yield outcome
    for member in outcome.members:
        yield from _all(member)


class _Progress:
    """A progress bar of files and bytes on a terminal; nothing otherwise."""

    def __init__(self, files: int, size: int) -> None:
        self._bar: Progress | None = None
        self._done, self._files, self._size = 0, files, size
        if sys.stderr.isatty() and files:
            self._bar = Progress(
                TextColumn("{task.fields[files]}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TimeRemainingColumn(), console=Console(stderr=True),
            )  # fmt: skip
            self._task = self._bar.add_task("batch", total=size, files=self._count())

    def _count(self) -> str:
        return f"{self._done}/{self._files} files"

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def say(self, message: str) -> None:
        if self._bar is None:
            _say(message)
        else:
            try:
                self._bar.console.print(f"logfilter: {message}", markup=False, highlight=False, soft_wrap=True)
            except OSError:
                pass

    def file_done(self) -> None:
        self._done += 1
        if self._bar is not None:
            # The byte counter may miss increments made by two workers at once; every file done is every byte.
            finished = {"completed": self._size} if self._done == self._files else {}
            self._bar.update(self._task, files=self._count(), **finished)

    def read(self, count: int) -> None:
        if self._bar is not None:  # an archive can be read more than once: never past the end
            self._bar.update(self._task, completed=min(count, self._size))

    def summary(self, entries: Iterable[dict[str, object]]) -> None:
        if self._bar is None:
            return
        counts: dict[str, int] = {}
        for item in entries:
            status = str(item["status"])
            counts[status] = counts.get(status, 0) + 1
        _say(", ".join(f"{count} {status}" for status, count in sorted(counts.items())))


def _jobs(jobs: int | None) -> int:
    if jobs is None:
        return len(os.sched_getaffinity(0))
    if jobs < 1:
        msg = f"--jobs {jobs}: expected a whole number of at least 1"
        raise ConfigError(msg)
    return jobs


def _refuse_report_over_input(report: Path, roots: Plan | list[Path]) -> None:
    if str(report) == "-":
        return
    if report.is_dir():
        msg = f"{report}: the report path is a folder; give a file name"
        raise ConfigError(msg)
    real = report.resolve()
    for root in roots.roots if isinstance(roots, Plan) else [path.resolve() for path in roots]:
        if real == root or real.is_relative_to(root):
            msg = f"{report}: the report would be written over or inside the input {root}; put it elsewhere"
            raise ConfigError(msg)


def _write_report(path: Path, content: dict[str, object]) -> None:
    data = orjson.dumps(content, option=orjson.OPT_INDENT_2) + b"\n"
    if str(path) == "-":
        _std("stdout").buffer.write(data)
        sys.stdout.flush()
    elif path.exists() and not path.is_file():
        path.write_bytes(data)  # a device or a pipe (/dev/stdout): write to it, never replace it
    else:
        with AtomicFile(path) as out:
            out.stream.write(data)
            out.commit()


def _on_sigterm_interrupt() -> dict[str, int]:
    """Make SIGTERM stop a batch the way Ctrl-C does; remember which signal it was."""
    caught: dict[str, int] = {}

    def handler(signum: int, frame: object) -> None:
        caught["signal"] = signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    return caught


def _mode(text: str) -> OnError:
    if text not in ("redact", "fail"):
        msg = f"--on-error {text!r}: expected redact or fail"
        raise ConfigError(msg)
    return "fail" if text == "fail" else "redact"


def _format(text: str, all_lines: bool) -> Format:
    if text not in FORMATS:
        msg = f"--format {text!r}: expected {' or '.join(FORMATS)}"
        raise ConfigError(msg)
    if all_lines and text != "jsonl":
        msg = "--all-lines needs --format jsonl (the tlib format writes every line anyway)"
        raise ConfigError(msg)
    return "jsonl" if text == "jsonl" else "tlib"


def _engine(text: str) -> EngineName:
    if text not in ENGINES:
        msg = f"--engine {text!r}: expected {' or '.join(ENGINES)}"
        raise ConfigError(msg)
    return "reference" if text == "reference" else "fast"


def _sources(inputs: list[str]) -> list[Source]:
    sources: list[Source] = []
    for item in inputs:
        if item == "-":
            sources.append(StdinSource())
            continue
        path = Path(item)
        if not path.exists():
            msg = f"{item}: no such input file"
            raise ConfigError(msg)
        if path.is_dir():
            msg = f"{item}: is a folder; run reads files (use batch for folders)"
            raise ConfigError(msg)
        if not os.access(path, os.R_OK):
            msg = f"{item}: input file is not readable"
            raise ConfigError(msg)
        sources.append(FileSource(path))
    return sources


def _sink(output: str | None, sources: list[Source]) -> StreamSink:
    if output is None or output == "-":
        if sys.stdout is None:  # started with stdout closed (`>&-`)
            msg = "<stdout>: standard output is closed; give -o FILE"
            raise LogFilterError(msg)
        return StreamSink(sys.stdout.buffer, "<stdout>")
    target = Path(output)
    for source in sources:
        if isinstance(source, FileSource) and target.exists() and target.samefile(source.path):
            msg = f"{output}: the output is also an input; refusing to overwrite it"
            raise ConfigError(msg)
    return StreamSink.to_path(target)


def _close_quietly(sink: StreamSink) -> None:
    try:
        sink.close()
    except BrokenPipeError:
        _silence_stdout()
    except LogFilterError:
        pass


def _silence_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def entry() -> None:
    """Console-script entry point: run the app; an unexpected error never prints data."""
    if sys.stderr is None:  # started with stderr closed: nothing can be told, the work goes on
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C before a command could take it over
    except Exception as exc:  # noqa: BLE001 - last line of defence against leaking locals
        sys.stderr.write(f"error: internal error ({type(exc).__name__}); no log data is shown\n")
        sys.exit(1)
