"""``corpus inspect``: look at a dataset with DuckDB (schema, counts, reasons, sample rows)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from corpus.engine import fs
from corpus.engine.manifest import REASON_GROUP, REMOVED, SHARD_RE, read_manifest
from corpus.errors import UserError, first_line

TEXT_PREVIEW = 120


def _glob(folder: str) -> str | None:
    return fs.join(folder, "part-*.parquet") if any(SHARD_RE.match(n) for n in fs.listdir(folder)) else None


def connect(dataset: str):
    """A DuckDB connection with views ``data`` (kept rows) and ``removed`` (if any)."""
    import duckdb

    con = duckdb.connect()
    kept = _glob(dataset)
    if kept is None:
        raise UserError(f"{dataset}: no part-*.parquet shards here (is it a stage folder of a finished run?)")
    con.execute(f"create view data as select * from read_parquet('{kept}')")
    rem = _glob(fs.join(dataset, REMOVED))
    if rem is not None:
        con.execute(f"create view removed as select * from read_parquet('{rem}')")
    return con


def _user_sql(con, sql: str) -> Table:
    """The result of ``--sql`` as a table; a query DuckDB rejects (syntax, unknown column or
    table, type) is the user's to fix: :class:`UserError` with DuckDB's first line."""
    import duckdb

    try:
        return _table(con, sql, sql)
    except duckdb.Error as e:
        raise UserError(f"--sql: {first_line(e)} (views: data, removed)") from None


def _table(con, sql: str, title: str) -> Table:
    rel = con.sql(sql)
    table = Table(title=title, title_justify="left")
    for name in rel.columns:
        table.add_column(name, overflow="fold")
    for row in rel.fetchall():
        table.add_row(*[_cell(v) for v in row])
    return table


def _cell(v: object) -> str:
    s = repr(v) if not isinstance(v, str) else v
    s = s.replace("\n", "⏎ ")
    return s if len(s) <= TEXT_PREVIEW else s[:TEXT_PREVIEW] + "…"


def _artifacts_table(m: dict) -> Table:
    table = Table(title="artifacts", title_justify="left")
    for col in ("file", "bytes", "sha256"):
        table.add_column(col)
    for a in m["artifacts"]:
        table.add_row(a["file"], f"{a['bytes']:,}", a["sha256"][:16] + "…")
    return table


def inspect_dataset(dataset: str, sql: str | None, limit: int, removed: bool, console: Console) -> None:
    """Print a dataset's summary (or the ``sql`` result). A shard DuckDB cannot read is
    :class:`UserError` naming the file (DuckDB's first line)."""
    import duckdb

    try:
        _inspect(dataset, sql, limit, removed, console)
    except (duckdb.IOException, duckdb.InvalidInputException) as e:
        raise UserError(f"{dataset}: DuckDB cannot read its shards: {first_line(e)}") from None


def _inspect(dataset: str, sql: str | None, limit: int, removed: bool, console: Console) -> None:
    if not fs.exists(dataset):
        raise UserError(f"{dataset}: no such dataset folder")
    m = read_manifest(dataset)
    if m and m.get("artifacts"):
        console.print(_artifacts_table(m))
        if not m.get("shards"):  # an artifact-only stage: nothing for DuckDB
            return
    con = connect(dataset)
    if sql:
        console.print(_user_sql(con, sql))
        return
    if m:
        console.print(
            f"[bold]{m['stage']}[/bold] ({m['kind']}) — rows in {m.get('rows_in', 0):,}, kept {m.get('rows_kept', 0):,}, "
            f"removed {m.get('rows_removed', 0):,}; {m.get('seconds', 0):.1f} s on {m['engine']['master']}; finished {m['finished']}"
        )
        if t := m.get("timings"):
            overhead = t.get("engine_overhead")
            console.print(
                f"time (core-seconds on {t['cores']} cores): per-document CPU {t['document_cpu_s']:.1f}, "
                f"write {t['write_cpu_s']:.1f}, shuffle {t.get('shuffle_s') or 0:.1f}, "
                f"transfer/other {t['other_s']:.1f}; engine overhead "
                + (f"{overhead:.2f}×" if overhead else "— (no per-document function)"),
                highlight=False,
            )
    else:
        console.print(f"[yellow]{dataset}: no _manifest.json — not a committed dataset[/yellow]")
    console.print(_table(con, "select column_name, column_type from (describe data)", "schema"))
    console.print(f"rows: {con.sql('select count(*) from data').fetchall()[0][0]:,}")
    views = {r[0] for r in con.sql("select view_name from duckdb_views() where not internal").fetchall()}
    if "removed" in views:
        console.print(
            _table(
                con,
                f"select regexp_replace(reason, '{REASON_GROUP}', '\\1') as reason, count(*) as rows "
                "from removed group by 1 order by 2 desc limit 20",
                "removed by reason",
            )
        )
    view = "removed" if removed else "data"
    if removed and "removed" not in views:
        raise UserError(f"{dataset}: nothing was removed by this stage")
    rel = con.sql(f"select * from {view} limit {int(limit)}")
    for i, row in enumerate(rel.fetchall()):
        record = Table(title=f"{view} row {i}", title_justify="left", show_header=False)
        record.add_column("column", style="bold")
        record.add_column("value", overflow="fold")
        for name, value in zip(rel.columns, row, strict=True):
            record.add_row(name, _cell(value))
        console.print(record)
