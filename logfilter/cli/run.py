"""`logfilter run` (with --preview) and `logfilter untag`: log files or stdin to one output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from logfilter.audit.preview import DEFAULT_MESSAGES
from logfilter.audit.preview import MAX_MESSAGES as MAX_PREVIEW
from logfilter.audit.preview import examples as preview_examples
from logfilter.audit.preview import render as render_preview
from logfilter.audit.tagged import TagSpotter, shown
from logfilter.cli.command import Command, commands
from logfilter.cli.masking import mask_logs, stream
from logfilter.cli.options import RULES, WALK, RuleOptions, VerboseOption, WalkOptions, shared_options
from logfilter.cli.printing import capped_warnings, say, tell_about
from logfilter.cli.types import InputFile, WholeNumber
from logfilter.errors import ConfigError
from logfilter.rules.compiled import Rules
from logfilter.rules.filters import HIDE, FilterType, FilterTypeError, parse_filter_type
from logfilter.sinks.streams import StreamSink
from logfilter.sources.files import Source

app = commands()
PREVIEW_COUNT = WholeNumber("--preview-count", 1, MAX_PREVIEW)

InputsArgument = Annotated[
    list[str] | None,
    typer.Argument(metavar="INPUT", parser=InputFile(), help="Log files to read in order; none or - reads stdin."),
]
OutputOption = Annotated[
    str | None, typer.Option("-o", "--output", metavar="FILE", help="Write here instead of stdout (- is stdout).")
]
StatsOption = Annotated[bool, typer.Option("--stats", help="Print a one-line summary on stderr.")]


@app.command(cls=Command)
@shared_options
def run(
    inputs: InputsArgument = None,
    rules: RuleOptions = RULES,
    output: OutputOption = None,
    stats: StatsOption = False,
    preview: Annotated[
        bool, typer.Option("--preview", help="Show the KV lines of a few messages before and after, instead of the output.")
    ] = False,
    preview_count: Annotated[
        int,
        typer.Option(
            "--preview-count", parser=PREVIEW_COUNT, metavar=PREVIEW_COUNT.metavar,
            help="How many messages --preview shows (default 3).",
        ),
    ] = DEFAULT_MESSAGES,
    prints_data: Annotated[
        bool,
        typer.Option("--i-know-this-prints-data", help="Let --preview write original values to a file or a pipe."),
    ] = False,
    walk: WalkOptions = WALK,
) -> None:
    """Mask the KV pairs of AttributeUserData, AttributeExtensions and AttributeReason(s)."""
    compiled = rules.compile()
    _check_preview(preview, output, preview_count, prints_data, walk)
    if preview:
        stream(inputs, output, lambda sources, sink: _preview(sources, compiled, sink, preview_count))
        return
    mask_logs(compiled, inputs, output, stats, walk.on_error, walk.engine, walk.output_format, walk.all_lines)


@app.command(cls=Command)
def untag(
    inputs: InputsArgument = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tags", metavar="PREFIX,POSTFIX", help="A tag pair to look for besides <#,#>; repeatable."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "-c", "--config", metavar="FILE", help="Also look for the tag pairs of this file's tag() rules and default."
        ),
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
    output: OutputOption = None,
    stats: StatsOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Hide the values that tag() marked, on any line: <#'8410'#> becomes '****'.

    A tag with no closing tag on its line hides the rest of the line (failed closed). Values
    still wrapped in <!--,--> or <**,**> (the vendor's examples) when untag was not given those
    tags make it fail (exit 1): run it again with --tags or -c.
    """
    from logfilter.engines.untag import DEFAULT_PAIR, UntagStats, config_pairs, parse_tags
    from logfilter.pipeline import untag as run_untag
    from logfilter.rules.config import read_config

    chosen = _untag_filter_type(strip, filter_type, config)
    pairs = [DEFAULT_PAIR, *(parse_tags(text) for text in tags or ())]
    if config is not None:
        pairs += config_pairs(config)
        if verbose:
            tell_about((), config, read_config(config)[0].ignored)
    warn = capped_warnings("more tags failed closed; they are counted, not listed")
    retagged = [(chosen.prefix, chosen.postfix)] if chosen is not None and chosen.action == "tag" else []

    def work(sources: list[Source], sink: StreamSink) -> UntagStats:
        spotter = TagSpotter(sink, pairs + retagged)
        counts = run_untag(sources, pairs, chosen, spotter, warn=warn)
        spotter.check()  # values tagged with a known pair untag was not given: fail, the output set aside
        return counts

    counts = stream(inputs, output, work)
    if counts is None:
        return  # the reader went away
    if counts.failed_closed:
        say(f"{counts.failed_closed} tags with no closing tag on their line: the rest of each such line was hidden")
    if not counts.tagged and not tags and config is None:
        say(
            f"no tagged value found: untag looked for {shown(DEFAULT_PAIR)}, the Genesys default; for a log tagged "
            "with other tags, give them: --tags PREFIX,POSTFIX, or -c with the rules file that tagged it"
        )
    if stats:
        say(counts.summary("tags stripped" if chosen is None else chosen.text))


def _check_preview(preview: bool, output: str | None, count: int, prints_data: bool, walk: WalkOptions) -> None:
    """--preview prints original values: only to a terminal, unless the user says they know.

    Its flags without it, or it with --format jsonl, would be silently ignored: refused.
    """
    if not preview:
        if prints_data or count != DEFAULT_MESSAGES:
            msg = "--preview-count and --i-know-this-prints-data go with --preview"
            raise ConfigError(msg)
        return
    if walk.output_format == "jsonl":
        msg = "--preview shows T-Library lines before and after; it does not go with --format jsonl"
        raise ConfigError(msg)
    if prints_data:
        return
    if output not in (None, "-"):
        msg = "--preview prints original values: refusing to write them to a file (-o); add --i-know-this-prints-data"
        raise ConfigError(msg)
    if not sys.stdout.isatty():
        msg = "--preview prints original values: refusing to write them to a pipe or file; run it on a terminal, or add --i-know-this-prints-data"
        raise ConfigError(msg)


def _preview(sources: list[Source], rules: Rules, sink: StreamSink, count: int) -> int:
    shown = 0
    for example in preview_examples(sources, rules, count):
        sink.write(("\n" if shown else "").encode() + "".join(line + "\n" for line in render_preview(example)).encode())
        shown += 1
    if not shown:
        say("no message with KV lines in the input")
    return shown


def _untag_filter_type(strip: bool, text: str | None, config: Path | None) -> FilterType | None:
    """None strips the tags; the default is hide. A hash takes its key as run does (the config's file, or the environment)."""
    if strip and text is not None:
        msg = "untag: give at most one of --strip and --filter-type"
        raise ConfigError(msg)
    if strip:
        return None
    from logfilter.rules.config import read_config
    from logfilter.rules.hashing import read_key, weakness

    try:
        chosen = parse_filter_type(text) if text is not None else HIDE
        if not chosen.is_hash:
            return chosen
        options = read_config(config)[0] if config is not None else None
        secret = read_key(options and options.hash_key_file, options and options.hash_key_where)
        tell_about([weak] if (weak := weakness(secret)) else [], None, ())
        return chosen.keyed(secret)
    except FilterTypeError as exc:
        msg = f"--filter-type: {exc}"
        raise ConfigError(msg) from None
