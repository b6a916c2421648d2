"""The ``corpus`` command line. Thin: parses arguments, calls the engine, prints results.

User mistakes (bad YAML, unknown stage, missing input, unwritable output) print one line and
exit with code 2; ``verify`` exits 1 when a dataset fails its checks.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from corpus.errors import UserError

if TYPE_CHECKING:
    import click

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: no per-flag "<bool>" type column
    pretty_exceptions_enable=False,
    help="Build GLM-4.5-style corpora on Spark.\n\n"
    "A mistake (bad file, option or value) prints one line and exits with code 2; any other "
    "error prints one line and the file holding its traceback (--debug, anywhere on the line, "
    "prints the traceback instead; so does CORPUS_DEBUG=1).",
)
out = Console(width=None if sys.stdout.isatty() else 160)


@app.command()
def validate(pipeline: Annotated[Path, typer.Argument(help="pipeline YAML")]) -> None:
    """Check a pipeline file against the schema and find the files its stages read (no Spark)."""
    from corpus.engine.fingerprint import resolve
    from corpus.spec import load_pipeline

    p = load_pipeline(pipeline)
    found = sum(len(resolve(p, s)) for s in p.stages)  # a missing input file: one line, exit 2
    out.print(
        f"{pipeline}: ok — {len(p.stages)} stages: {' → '.join(s.name for s in p.stages)}; "
        f"{found} input files/globs found"
    )


@app.command()
def run(
    pipeline: Annotated[Path, typer.Argument(help="pipeline YAML")],
    master: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Spark master URL (default: YAML, $CORPUS_SPARK_MASTER, local[*])"),
    ] = None,
    output: Annotated[
        str | None, typer.Option(metavar="DIR", help="output root (default: the pipeline's output)")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option(metavar="STAGE", help="run only this stage (repeatable)")
    ] = None,
    force: Annotated[
        list[str] | None,
        typer.Option(metavar="STAGE", help="rerun this stage even if committed (repeatable)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan and exit")] = False,
    progress: Annotated[bool, typer.Option(help="live progress bars")] = True,
    fuse: Annotated[
        bool,
        typer.Option(
            help="run consecutive per-document stages in one pass over the data (same committed output)"
        ),
    ] = True,
) -> None:
    """Run a pipeline; stages committed with the same config, input files and inputs are skipped."""
    from corpus.engine.plan import OUT_OF_DATE, check_writable, plan, skipped_result
    from corpus.engine.progress import Timer, cluster_lines, summary_table
    from corpus.engine.stage_warnings import summary_lines
    from corpus.spec import load_pipeline

    timer = Timer()
    p = load_pipeline(pipeline)
    root = output or p.output
    items = plan(p, root, only, force)  # missing inputs, unknown names: one line, nothing created
    if dry_run:
        table = Table(title=f"plan: {p.name} → {root}", title_justify="left")
        for col in ("#", "stage", "kind", "inputs", "action", "why"):
            table.add_column(col)
        for item in items:
            s = item.spec
            table.add_row(str(s.index), s.name, s.kind, ", ".join(s.inputs) or "—", item.action, item.why)
        out.print(table)
        return

    startup_s = None
    if all(item.action == "skip" for item in items):  # answered from the manifests: no JVM
        results = [skipped_result(item, root) for item in items]
        where = "nothing to run"
    else:
        from corpus.engine.runner import run_pipeline
        from corpus.engine.spark import check_master, get_spark, resolve_master

        check_master(resolve_master(master, p.master))  # before the output folder exists
        check_writable(root)
        where = f"on {resolve_master(master, p.master)}"
        started = Timer()
        from corpus.engine.daemon import modules_for

        kinds = [item.spec.kind for item in items if item.action == "run"]
        spark = get_spark(
            resolve_master(master, p.master),
            conf=p.spark_conf,
            app_name=f"corpus:{p.name}",
            preload=modules_for(kinds),
        )
        startup_s = started.seconds
        try:
            results = run_pipeline(spark, p, root, only, force, progress=progress, items=items, fuse=fuse)
        finally:
            spark.stop()
    startup = f" (Spark start-up {startup_s:.1f} s)" if startup_s is not None else ""
    out.print(summary_table(results, f"{p.name}: {timer.seconds:.1f} s {where}{startup}"))
    if startup_s is not None:
        out.print("overhead: wall × cores ÷ per-document CPU; + fused with its neighbours", highlight=False)
    for line in cluster_lines(results):
        out.print(line, highlight=False)
    for line in summary_lines(results):
        out.print(line, style="yellow", highlight=False, markup=False)
    for r in results:
        if r["status"] == OUT_OF_DATE:
            out.print(f"{r['stage']}: {r['why']}; run without --only to update it", highlight=False)
    last = results[-1]["stage"] if results else ""
    out.print(
        f"output: {root}\nlook: corpus inspect {root}/{last}    or    duckdb -c \"select count(*) from '{root}/{last}/*.parquet'\""
    )


@app.command()
def inspect(
    dataset: Annotated[str, typer.Argument(help="a stage folder, e.g. out/web/heuristics")],
    sql: Annotated[
        str | None, typer.Option(metavar="QUERY", help="SQL over views data (kept rows) and removed")
    ] = None,
    limit: Annotated[int, typer.Option(min=0, metavar="N", help="sample rows to show")] = 5,
    removed: Annotated[bool, typer.Option("--removed", help="sample removed rows instead of kept")] = False,
) -> None:
    """Schema, counts, removal reasons and sample rows of a dataset, read with DuckDB."""
    from corpus.inspect import inspect_dataset

    inspect_dataset(dataset, sql=sql, limit=limit, removed=removed, console=out)


@app.command()
def verify(path: Annotated[str, typer.Argument(help="an output root or one stage folder")]) -> None:
    """Check manifests: every shard present and unaltered (sha256), counts, in == kept + removed."""
    from corpus.engine import fs
    from corpus.engine.manifest import MANIFEST, verify_dataset

    if fs.exists(fs.join(path, MANIFEST)):
        datasets = [path]
    else:
        datasets = [fs.join(path, n) for n in fs.listdir(path) if fs.exists(fs.join(path, n, MANIFEST))]
    if not datasets:
        raise UserError(f"{path}: no committed dataset here (no {MANIFEST})")
    problems = [p for d in datasets for p in verify_dataset(d)]
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if problems:
        raise typer.Exit(1)
    out.print(f"ok: {len(datasets)} datasets verified")


@app.command()
def report(
    outputs: Annotated[
        list[str],
        typer.Argument(metavar="DIR", help="pipeline output roots, e.g. out/web (several: one page for all)"),
    ],
    html: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="where to write the HTML page (default: FIRST_DIR/report.html)"),
    ] = None,
    train: Annotated[
        list[str] | None, typer.Option(metavar="DIR", help="a `corpus train` run folder to add (repeatable)")
    ] = None,
    png: Annotated[
        str | None, typer.Option(metavar="FILE", help="also save the funnel plot as a PNG here")
    ] = None,
    open_: Annotated[bool, typer.Option("--open", help="open the page in a browser")] = False,
) -> None:
    """One self-contained HTML page of a run (funnel, reasons, time, languages, duplicates,
    scores, tokens, samples, training curves), and the funnel in the terminal."""
    from corpus.engine import fs
    from corpus.report import write_html
    from corpus.report.console import report as print_funnel

    for output in outputs:
        print_funnel(output, png if len(outputs) == 1 else None, out)
    path = write_html(outputs, html or fs.join(outputs[0], "report.html"), train or [])
    out.print(f"report: {path}", highlight=False)
    if open_:
        import webbrowser
        from pathlib import Path

        webbrowser.open(Path(path).resolve().as_uri())


def _mount_subapps() -> None:
    """Sub-apps import only typer/rich at this point; torch and tokenizers load lazily."""
    from corpus.scoring.cli import classifier_app
    from corpus.tokens.cli import tokenizer_app
    from corpus.train.cli import train_app

    if any(g.typer_instance is train_app for g in app.registered_groups):
        return  # main() called again in one process (tests)
    app.add_typer(train_app, name="train")
    app.add_typer(tokenizer_app, name="tokenizer")
    app.add_typer(classifier_app, name="classifier")


def _walk(cmd: click.Command) -> Iterator[click.Command]:
    """``cmd`` and every command below it (groups' sub-commands, depth first)."""
    yield cmd
    for sub in getattr(cmd, "commands", {}).values():
        yield from _walk(sub)


def _usage_pieces(cmd: click.Command, ctx: click.Context) -> list[str]:
    """``[OPTIONS] PIPELINE`` rather than Typer 0.29's ``[OPTIONS] {pipeline}``."""
    pieces = [cmd.options_metavar] if cmd.options_metavar else []
    for p in cmd.get_params(ctx):
        if p.param_type_name != "argument":
            continue
        name = (p.metavar or p.name or "").upper() + ("..." if p.nargs != 1 else "")
        pieces.append(name if p.required else f"[{name}]")
    return pieces


def _tidy_help(root: click.Command) -> None:
    """Help as a terminal shows it: docstrings' RST double backticks dropped, conventional
    usage lines (click's ``collect_usage_pieces`` hook, set on each command object)."""
    for cmd in _walk(root):
        for attr in ("help", "short_help"):
            text = getattr(cmd, attr, None)
            if text:
                setattr(cmd, attr, text.replace("``", ""))
        for p in cmd.params:
            if getattr(p, "help", None):
                p.help = p.help.replace("``", "")
        if cmd.help and not cmd.short_help:  # the whole first sentence, not click's 45 characters
            cmd.short_help = cmd.help.split("\n\n")[0].replace("\n", " ").split(". ")[0].rstrip(".")
        if not hasattr(cmd, "commands"):
            cmd.collect_usage_pieces = partial(_usage_pieces, cmd)


def _usage_error(e: Exception) -> int:
    """Show a click usage error (``exit_code`` + ``format_message``, whatever class Typer
    raises it as) as the usage line and one ``error:`` line on stderr; a command group called
    without a command gets its help on stdout. Returns the error's exit code (2 for usage)."""
    message = e.format_message().strip()  # type: ignore[attr-defined]
    ctx = getattr(e, "ctx", None)
    code = getattr(e, "exit_code", 2) or 2
    if not message or "\n" in message:  # no-args-is-help: Typer's rich mode has printed the
        if message:  # help already, plain click carries it as the message
            print(message)
        return code
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
        message = message.rstrip(".") + f" (see '{ctx.command_path} --help')"
    print(f"error: {message}", file=sys.stderr)
    return code


def _unexpected(e: BaseException, debug: bool) -> int:
    """Any other failure: one line with the error and where the full traceback went."""
    from corpus.errors import describe, write_traceback

    if debug:
        traceback.print_exception(type(e), e, e.__traceback__)
        return 1
    try:
        where = f"full traceback in {write_traceback(e)}"
    except OSError:
        where = "no traceback file could be written"
    print(f"error: {describe(e)}\n  ({where}; rerun with --debug to print it)", file=sys.stderr)
    return 1


def _is_click_error(e: BaseException) -> bool:
    """Click's usage/parameter errors, by their interface rather than their class: Typer
    0.29 raises its own vendored copies (``typer._click``), older Typers click's."""
    return isinstance(getattr(e, "exit_code", None), int) and callable(getattr(e, "format_message", None))


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Exit codes: 0 ok, 1 a failed check or an unexpected error (one
    line, traceback in a file), 2 a user mistake (one line or the usage), 130 interrupted."""
    _mount_subapps()
    args = list(sys.argv[1:] if argv is None else argv)
    # --debug is a root option; accept it anywhere before ``--`` (``corpus run x.yaml --debug``)
    head = args[: args.index("--")] if "--" in args else args
    debug = "--debug" in head or os.environ.get("CORPUS_DEBUG", "") not in ("", "0")
    if "--debug" in head:
        args.remove("--debug")
    cmd = typer.main.get_command(app)
    _tidy_help(cmd)
    try:
        rc = cmd.main(args=args, prog_name="corpus", standalone_mode=False)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        rc = 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        rc = 130
    except (typer.Exit, SystemExit) as e:
        rc = getattr(e, "exit_code", getattr(e, "code", 0))
        if isinstance(rc, str):  # sys.exit("message"): Python prints it and exits 1
            print(rc, file=sys.stderr)
            rc = 1
    except typer.Abort as e:  # click 8.1 turns Ctrl-C into Abort (Typer 0.29: returns 130)
        print("interrupted" if isinstance(e.__cause__, KeyboardInterrupt) else "aborted", file=sys.stderr)
        rc = 130
    except Exception as e:  # noqa: BLE001 - the one place every other error is shown
        rc = _usage_error(e) if _is_click_error(e) else _unexpected(e, debug)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
