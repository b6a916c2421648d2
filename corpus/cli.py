"""The ``corpus`` command line. Thin: parses arguments, calls the engine, prints results.

User mistakes (bad YAML, unknown stage, missing input, unwritable output) print one line and
exit with code 2; ``verify`` exits 1 when a dataset fails its checks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corpus.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Build GLM-4.5-style corpora on Spark.")
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
        str | None, typer.Option(help="Spark master URL (default: YAML, $CORPUS_SPARK_MASTER, local[*])")
    ] = None,
    output: Annotated[str | None, typer.Option(help="output root (default: the pipeline's `output`)")] = None,
    only: Annotated[list[str] | None, typer.Option(help="run only this stage (repeatable)")] = None,
    force: Annotated[
        list[str] | None, typer.Option(help="rerun this stage even if committed (repeatable)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan and exit")] = False,
    progress: Annotated[bool, typer.Option(help="live progress bars")] = True,
) -> None:
    """Run a pipeline; stages committed with the same config, input files and inputs are skipped."""
    from corpus.engine.plan import OUT_OF_DATE, check_writable, plan, skipped_result
    from corpus.engine.progress import Timer, cluster_lines, summary_table
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

    if all(item.action == "skip" for item in items):  # answered from the manifests: no JVM
        results = [skipped_result(item, root) for item in items]
        where = "nothing to run"
    else:
        from corpus.engine.runner import run_pipeline
        from corpus.engine.spark import get_spark, resolve_master

        check_writable(root)
        where = f"on {resolve_master(master, p.master)}"
        spark = get_spark(resolve_master(master, p.master), conf=p.spark_conf, app_name=f"corpus:{p.name}")
        try:
            results = run_pipeline(spark, p, root, only, force, progress=progress)
        finally:
            spark.stop()
    out.print(summary_table(results, f"{p.name}: {timer.seconds:.1f} s {where}"))
    for line in cluster_lines(results):
        out.print(line, highlight=False)
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
    sql: Annotated[str | None, typer.Option(help="SQL over views `data` (kept) and `removed`")] = None,
    limit: Annotated[int, typer.Option(help="sample rows to show")] = 5,
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
        list[str], typer.Argument(help="pipeline output roots, e.g. out/web (several: one page for all)")
    ],
    html: Annotated[
        str | None, typer.Option(help="where to write the HTML page (default: FIRST_OUTPUT/report.html)")
    ] = None,
    train: Annotated[
        list[str] | None, typer.Option(help="a `corpus train` run folder to add (repeatable)")
    ] = None,
    png: Annotated[str | None, typer.Option(help="also save the funnel plot as a PNG here")] = None,
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
    from corpus.tokens.cli import tokenizer_app
    from corpus.train.cli import train_app

    app.add_typer(train_app, name="train")
    app.add_typer(tokenizer_app, name="tokenizer")


def main() -> None:
    """Console entry point: user mistakes become one line and exit code 2."""
    _mount_subapps()
    try:
        rc = app(standalone_mode=False)  # non-standalone click returns typer.Exit codes
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except (typer.Exit, SystemExit) as e:
        sys.exit(getattr(e, "exit_code", getattr(e, "code", 0)))
    except typer.Abort:
        sys.exit(130)
    except Exception as e:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
