"""``dataset``: published document shards (FineWeb, FineWeb-2, The Stack ...) -> documents.

Reads Parquet or JSON Lines (plain, gzip or zstd — told apart by magic bytes, not by name)
from globs (``paths``) and/or a list file (``manifest``, one path or glob a line), local or
any fsspec path (``s3://``, ``hf://`` with the right package, ``hdfs://``). Columns map onto
the document schema:

* ``text`` <- ``columns.text`` (rows without a string there: ``dataset:no_text``),
* ``id`` <- ``columns.id`` when set and non-null, else a stable hash of (source, file key,
  row number in the file) — the file key is the path relative to the pipeline's base
  directory, as for ``warc``, so the same checkout gives the same ids anywhere,
* ``lang``, ``url`` <- ``columns.lang`` / ``columns.url`` (null when absent),
* ``source`` <- ``columns.source`` when set, else the constant ``source``,
* ``dataset_file``, ``dataset_row`` (where the row came from),
* every other column of the first file, with its type (``extra: all``), or the listed ones;
  a column named like one of the above is kept as ``orig_<name>``.

Work is split per file, and per ``row_groups_per_task`` row groups for Parquet (FineWeb
shards are ~1 GB). Nothing is dropped silently; removal reasons:
``dataset:bad_json`` (a line that is not a JSON object; its text is the line),
``dataset:bad_utf8``, ``dataset:no_text``,
``dataset:truncated_file:EOFError`` (a gzip/zstd stream cut short: the rows before it are
kept, this row holds the partial tail), ``dataset:unreadable_file:<Error>`` (cannot be
opened or decoded; rows read before the error are kept).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from corpus.engine.listing import listing_map
from corpus.errors import UserError
from corpus.stages.base import REASON, Outside, Role, StageContext, StageOutput, StageParams

INPUTS: dict[str, Role] = {}

BATCH_ROWS = 1_000
READ_CHUNK = 1 << 20
MAX_REMOVED_TEXT = 10_000
"""Characters of a bad line (or truncated tail) kept in its ``_removed`` row."""
SAMPLE_LINES = 200
"""JSONL lines of the first file read on the driver to infer the extra columns' types."""

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_PARQUET = b"PAR1"

BASE_FIELDS = [
    ("id", pa.string()),
    ("text", pa.string()),
    ("source", pa.string()),
    ("url", pa.string()),
    ("lang", pa.string()),
    ("dataset_file", pa.string()),
    ("dataset_row", pa.int64()),
]
BASE_NAMES = frozenset(n for n, _ in BASE_FIELDS) | {REASON}


class Columns(BaseModel):
    """Which source column feeds each document column (None: not in the source)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = "text"
    id: str | None = "id"
    lang: str | None = None
    """e.g. ``language`` for FineWeb-2."""
    url: str | None = "url"
    source: str | None = None


class Params(StageParams):
    paths: list[str] = Field(default_factory=list)
    """Files or globs (``**`` allowed), relative to the pipeline's base directory."""
    manifest: str | None = None
    """A file listing shard paths or globs, one a line, ``#`` comments, relative to itself."""
    format: Literal["auto", "parquet", "jsonl"] = "auto"
    """``auto``: Parquet by magic bytes, else JSON Lines."""
    source: str = "dataset"
    columns: Columns = Field(default_factory=Columns)
    extra: Literal["all"] | list[str] = "all"
    """Other source columns to keep (types from the first file)."""
    row_groups_per_task: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _some_input(self) -> Params:
        if not self.paths and not self.manifest:
            raise ValueError("give 'paths' (globs) or 'manifest' (a file listing shards)")
        return self


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    """What the stage reads: the ``paths`` globs, the list file and each glob it lists (the
    plan fingerprints them; a changed or added shard reruns the stage)."""
    from corpus.engine import fs
    from corpus.warc.paths import read_manifest

    def abs_(p: str) -> str:
        return p if "://" in p or Path(p).is_absolute() else str(base_dir / p)

    out = [Outside(abs_(p), "glob") for p in params.paths]
    if params.manifest:
        manifest = abs_(params.manifest)
        out.append(Outside(manifest, "file"))
        if fs.is_file(manifest):  # a missing one is reported by the plan, naming the field
            out += [Outside(entry, "glob") for entry in read_manifest(manifest)]
    return out


def row_id(source: str, key: str, row: int) -> str:
    """Stable id of row ``row`` (0-based, counting every record incl. removed ones) of a file."""
    raw = "\x1f".join((source, key, str(row)))
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# --- schema ----------------------------------------------------------------------------------


def _spark_safe(t: pa.DataType) -> pa.DataType:
    """``t`` when Spark's Arrow conversion takes it, else string (values JSON-encoded)."""
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_large_string(t):
        return pa.string()
    try:
        from pyspark.sql.pandas.types import from_arrow_type

        from_arrow_type(t)
    except Exception:
        return pa.string()
    return t


def output_schema(first_schema: pa.Schema | None, params: Params) -> pa.Schema:
    """Document columns, then the extra columns (named ``orig_<name>`` on a clash), then
    :data:`REASON`."""
    fields = [pa.field(n, t) for n, t in BASE_FIELDS]
    mapped = {c for c in params.columns.model_dump().values() if c}
    if first_schema is not None:
        wanted = first_schema.names if params.extra == "all" else params.extra
        for name in wanted:
            if name in mapped or name not in first_schema.names:
                continue
            out_name = f"orig_{name}" if name in BASE_NAMES else name
            fields.append(pa.field(out_name, _spark_safe(first_schema.field(name).type)))
    fields.append(pa.field(REASON, pa.string()))
    return pa.schema(fields)


def extra_sources(schema: pa.Schema) -> list[tuple[str, str, pa.DataType]]:
    """``(source column, output column, type)`` of the extra columns of ``schema``."""
    base = {n for n, _ in BASE_FIELDS} | {REASON}
    out = []
    for f in schema:
        if f.name in base:
            continue
        src = f.name.removeprefix("orig_") if f.name.startswith("orig_") else f.name
        out.append((src, f.name, f.type))
    return out


# --- reading ---------------------------------------------------------------------------------


def _open(path: str) -> IO[bytes]:
    from corpus.engine import fs

    return fs.open_binary(path)


def _magic(path: str) -> bytes:
    with _open(path) as f:
        return f.read(4)


def _is_parquet(path: str, params: Params) -> bool:
    if params.format != "auto":
        return params.format == "parquet"
    return _magic(path) == _PARQUET


class StreamError(Exception):
    """Reading stopped midway: ``reason`` (``truncated_file`` / ``unreadable_file``), the
    original error's type name and the partial line read before it."""

    def __init__(self, reason: str, error: BaseException, tail: bytes) -> None:
        super().__init__(f"{reason}: {type(error).__name__}: {error}")
        self.reason = reason
        self.error = type(error).__name__
        self.tail = tail


def _new_decompressor(codec: str) -> Any:
    if codec == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def _decompressed(raw: IO[bytes], codec: str | None) -> Iterator[bytes]:
    """Decompressed chunks of ``raw`` (gzip or zstd, several members/frames allowed), every
    byte that decodes before a cut or a corruption included. Raises ``EOFError`` when the
    stream ends inside a member (a truncated file)."""
    if codec is None:
        while chunk := raw.read(READ_CHUNK):
            yield chunk
        return
    d, fed = _new_decompressor(codec), False
    while chunk := raw.read(READ_CHUNK):
        while chunk:
            if d.eof:
                d, fed = _new_decompressor(codec), False
            yield d.decompress(chunk)
            fed = True
            chunk = d.unused_data if d.eof else b""
    if fed and not d.eof:
        raise EOFError("compressed stream ended before its end-of-stream marker")


def _lines(path: str) -> Iterator[bytes]:
    """Lines of a JSONL file (decompressed), without the newline. Raises
    :class:`StreamError` after the complete lines when the stream breaks (a compressed
    stream cut short is ``truncated_file``)."""
    with _open(path) as raw:
        head = raw.read(4)
        raw.seek(0)
        codec = "gzip" if head[:2] == _GZIP else "zstd" if head == _ZSTD else None
        pending: list[bytes] = []  # pieces of the line being read (no quadratic joins)
        chunks = _decompressed(raw, codec)
        while True:
            try:
                chunk = next(chunks, None)
            except Exception as e:
                reason = "truncated_file" if isinstance(e, EOFError) else "unreadable_file"
                raise StreamError(reason, e, b"".join(pending)) from e
            if chunk is None:
                break
            parts = chunk.split(b"\n")
            if len(parts) > 1:
                yield b"".join(pending) + parts[0]
                yield from parts[1:-1]
                pending = []
            if parts[-1]:
                pending.append(parts[-1])
        if pending:
            yield b"".join(pending)


def sample_schema(path: str, params: Params) -> pa.Schema | None:
    """The first file's columns: its Parquet schema, or types inferred from its first
    :data:`SAMPLE_LINES` good JSON lines. None when nothing readable."""
    try:
        if _is_parquet(path, params):
            import pyarrow.parquet as pq

            with _open(path) as f:
                return pq.read_schema(f)
        rows = []
        for line in _lines(path):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                rows.append(obj)
            if len(rows) >= SAMPLE_LINES:
                break
        return pa.Table.from_pylist(rows).schema if rows else None
    except Exception:
        return None


class _Rows:
    """Accumulates output rows of one file and flushes Arrow batches."""

    def __init__(self, schema: pa.Schema, params: Params, key: str) -> None:
        self.schema = schema
        self.params = params
        self.key = key
        self.extras = extra_sources(schema)
        self.rows: list[dict[str, Any]] = []

    def add(self, obj: dict[str, Any] | None, row: int, reason: str | None = None, text: str | None = None):
        c = self.params.columns
        out: dict[str, Any] = {REASON: reason, "dataset_file": self.key, "dataset_row": row}
        source = obj.get(c.source) if obj is not None and c.source else None
        out["source"] = source if isinstance(source, str) and source else self.params.source
        given = obj.get(c.id) if obj is not None and c.id else None
        out["id"] = str(given) if given not in (None, "") else row_id(out["source"], self.key, row)
        if obj is not None and reason is None:
            t = obj.get(c.text)
            if isinstance(t, str):
                out["text"] = t
            else:
                out[REASON] = "dataset:no_text"
            for col, name in (("lang", c.lang), ("url", c.url)):
                v = obj.get(name) if name else None
                out[col] = None if v is None else str(v)
            for src, dst, typ in self.extras:
                v = obj.get(src)
                out[dst] = (
                    json.dumps(v, ensure_ascii=False)
                    if pa.types.is_string(typ) and not isinstance(v, (str, type(None)))
                    else v
                )
        else:
            out["text"] = text[:MAX_REMOVED_TEXT] if text is not None else None
        self.rows.append(out)

    def flush(self) -> Iterator[pa.RecordBatch]:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        try:
            yield pa.RecordBatch.from_pylist(rows, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # a value that does not fit its column's type (from the first file): that
            # column becomes null for this batch's offending rows, one row at a time
            yield pa.RecordBatch.from_pylist([self._fit(r) for r in rows], schema=self.schema)

    def _fit(self, row: dict[str, Any]) -> dict[str, Any]:
        for f in self.schema:
            try:
                pa.array([row.get(f.name)], f.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                row[f.name] = None
        return row


def read_jsonl(path: str, key: str, schema: pa.Schema, params: Params) -> Iterator[pa.RecordBatch]:
    out = _Rows(schema, params, key)
    row = 0
    try:
        for line in _lines(path):
            if not line.strip():
                continue
            try:
                decoded = line.decode("utf-8")
            except UnicodeDecodeError:
                out.add(None, row, "dataset:bad_utf8", line.decode("utf-8", "replace"))
            else:
                try:
                    obj = json.loads(decoded)
                except ValueError:
                    obj = None
                if isinstance(obj, dict):
                    out.add(obj, row)
                else:
                    out.add(None, row, "dataset:bad_json", decoded)
            row += 1
            if len(out.rows) >= BATCH_ROWS:
                yield from out.flush()
    except StreamError as e:
        out.add(None, row, f"dataset:{e.reason}:{e.error}", e.tail.decode("utf-8", "replace"))
    except Exception as e:  # cannot open the file
        out.add(None, row, f"dataset:unreadable_file:{type(e).__name__}")
    yield from out.flush()


def read_parquet(
    path: str, key: str, first_rg: int, n_rg: int, schema: pa.Schema, params: Params
) -> Iterator[pa.RecordBatch]:
    """Row groups ``first_rg .. first_rg + n_rg`` of a Parquet file. Row numbers count from
    the file's start (row group sizes come from the footer)."""
    import pyarrow.parquet as pq

    out = _Rows(schema, params, key)
    row = 0
    try:
        with _open(path) as f:
            pf = pq.ParquetFile(f)
            meta = pf.metadata
            row = sum(meta.row_group(i).num_rows for i in range(first_rg))
            groups = list(range(first_rg, min(first_rg + n_rg, meta.num_row_groups)))
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=groups):
                for obj in batch.to_pylist():
                    out.add(obj, row)
                    row += 1
                yield from out.flush()
    except Exception as e:
        out.add(None, row, f"dataset:unreadable_file:{type(e).__name__}")
    yield from out.flush()


def read_units(batch: pa.RecordBatch, schema: pa.Schema, params: Params) -> Iterator[pa.RecordBatch]:
    """Rows of the work units in ``batch`` (columns path, key, parquet, first_rg, n_rg)."""
    for u in batch.to_pylist():
        if u["parquet"]:
            yield from read_parquet(u["path"], u["key"], u["first_rg"], u["n_rg"], schema, params)
        else:
            yield from read_jsonl(u["path"], u["key"], schema, params)


def plan_units(files: list[tuple[str, str]], params: Params) -> list[tuple[str, str, bool, int, int]]:
    """``(path, key, is_parquet, first row group, row groups)`` per task; Parquet footers are
    read on the driver to split big files; an unreadable file is one unit (its task reports it)."""
    import pyarrow.parquet as pq

    units = []
    for path, key in files:
        try:
            parquet = _is_parquet(path, params)
        except Exception:
            units.append((path, key, False, 0, 0))
            continue
        if not parquet:
            units.append((path, key, False, 0, 0))
            continue
        try:
            with _open(path) as f:
                groups = pq.ParquetFile(f).metadata.num_row_groups
        except Exception:
            groups = 1
        step = params.row_groups_per_task
        for first in range(0, max(groups, 1), step):
            units.append((path, key, True, first, step))
    return units


def list_files(ctx: StageContext, params: Params) -> list[tuple[str, str]]:
    from corpus.warc.paths import expand, file_key, read_manifest

    patterns = [ctx.resolve(p) for p in params.paths]
    try:
        if params.manifest:
            patterns += read_manifest(ctx.resolve(params.manifest))
        return [(path, file_key(path, ctx.base_dir)) for path in expand(patterns)]
    except (FileNotFoundError, OSError) as e:
        raise UserError(f"stage {ctx.name!r}: {e}") from None


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql.pandas.types import from_arrow_schema

    files = list_files(ctx, params)
    first = next((s for s in (sample_schema(p, params) for p, _ in files) if s is not None), None)
    schema = output_schema(first, params)
    units = plan_units(files, params)
    names = ["path", "key", "parquet", "first_rg", "n_rg"]
    types = [pa.string(), pa.string(), pa.bool_(), pa.int32(), pa.int32()]
    listing = pa.table([pa.array([u[i] for u in units], t) for i, t in enumerate(types)], names=names)
    rows = listing_map(
        ctx.spark,
        listing,
        lambda batch: read_units(batch, schema, params),
        from_arrow_schema(schema),
        min(len(units), 10_000),
    )
    metrics = {"files": len(files), "tasks": len(units), "file_list": [k for _, k in files][:1000]}
    return StageOutput(rows=rows, metrics=metrics)
