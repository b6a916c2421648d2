"""``warc``: WARC/ARC files -> one row per record: HTML pages kept, everything else removed
with a ``warc:*`` reason, damaged files ending in one ``warc:corrupt_file:<Error>`` row.

Inputs are globs (``paths``) and/or a manifest file (``manifest``, one path or glob a line,
relative to the manifest). The driver lists the files and hands them to tasks,
``files_per_task`` at a time; each task streams its files with warcio (never holding more
than one record of at most ``max_record_bytes``) and yields Arrow batches.

Removal reasons: ``warc:revisit``, ``warc:not_response`` (request, metadata, warcinfo ...),
``warc:http_status`` (non-2xx, when ``http_ok_only``), ``warc:non_html``, ``warc:too_large``,
``warc:empty_payload``, ``warc:decode_error``, ``warc:corrupt_file:<Error>``,
``warc:empty_file``, ``warc:unreadable_file``.

Ids hash (source, file key, record offset, url); the file key is the path relative to the
pipeline's base directory (see :mod:`corpus.warc.paths`), so a cluster run over the same
checkout layout produces the same ids as a local one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from corpus.engine import fs
from corpus.stages.base import Outside, StageContext, StageOutput, StageParams
from corpus.warc.paths import expand, file_key, read_manifest
from corpus.warc.records import SCHEMA, ReadOptions, read_file

BATCH_ROWS = 1_000
BATCH_TEXT_BYTES = 64 << 20
"""Flush an Arrow batch at this many rows or this much text (keeps 2 GB string offsets and
executor memory far away)."""


class Params(StageParams):
    paths: list[str] = Field(default_factory=list)
    """Files or globs (``**`` allowed); relative to the pipeline's base directory."""
    manifest: str | None = None
    """A file listing archive paths or globs, one a line, ``#`` comments, relative to itself."""
    source: str = "web"
    max_record_bytes: int = Field(default=50 << 20, gt=0)
    """Records (and decompressed payloads) larger than this are removed, never loaded."""
    files_per_task: int = Field(default=1, ge=1)
    http_ok_only: bool = True
    """Remove responses whose HTTP status is not 2xx (redirects, errors)."""

    @field_validator("paths", mode="before")
    @classmethod
    def _one_path(cls, value: object) -> object:
        """``paths: data/x.warc.gz`` means a list of one, as a single ``inputs:`` ref does."""
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _some_input(self) -> Params:
        if not self.paths and not self.manifest:
            raise ValueError("give 'paths' (globs) or 'manifest' (a file listing archives)")
        return self


def read_files(batch: pa.RecordBatch, params: Params) -> Iterator[pa.RecordBatch]:
    """Rows of the files named in ``batch`` (columns ``path``, ``key``), as Arrow batches."""
    opts = ReadOptions(params.source, params.max_record_bytes, params.http_ok_only)
    rows: list[dict] = []
    size = 0
    for path, key in zip(batch.column("path").to_pylist(), batch.column("key").to_pylist(), strict=True):
        for row in read_file(path, key, opts):
            rows.append(row)
            size += len(row["text"] or "")
            if len(rows) >= BATCH_ROWS or size >= BATCH_TEXT_BYTES:
                yield pa.RecordBatch.from_pylist(rows, schema=SCHEMA)
                rows, size = [], 0
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=SCHEMA)


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    """What the stage reads: the ``paths`` globs, the manifest file and each glob it lists
    (the plan fingerprints them and records the matched files in the manifest)."""
    out = [Outside(p, "glob") for p in params.paths]
    if params.manifest:
        out.append(Outside(params.manifest, "file"))
        manifest = params.manifest if "://" in params.manifest else str(base_dir / params.manifest)
        if fs.is_file(manifest):  # a missing one is reported by the plan, naming the field
            out += [Outside(entry, "glob") for entry in read_manifest(manifest)]
    return out


def list_files(ctx: StageContext, params: Params) -> list[tuple[str, str]]:
    """``(path, key)`` of every input file, sorted, without repeats."""
    patterns = [ctx.resolve(p) for p in params.paths]
    if params.manifest:
        patterns += read_manifest(ctx.resolve(params.manifest))
    return [(path, file_key(path, ctx.base_dir)) for path in expand(patterns)]


def read_unit(unit: str, params: Params) -> Iterator[pa.RecordBatch]:
    """The rows of one work unit (JSON ``[[path, key], ...]``) as Arrow batches."""
    import json

    pairs = json.loads(unit)
    listing = pa.RecordBatch.from_pydict({"path": [p for p, _ in pairs], "key": [k for _, k in pairs]})
    yield from read_files(listing, params)


def run(ctx: StageContext, params: Params) -> StageOutput:
    import json

    from pyspark.sql.pandas.types import from_arrow_schema

    from corpus.engine.arrow_map import source_stage

    files = list_files(ctx, params)
    chunk = params.files_per_task
    units = [json.dumps(files[i : i + chunk]) for i in range(0, len(files), chunk)]
    return source_stage(
        ctx, units, read_unit, params, from_arrow_schema(SCHEMA), metrics={"files": len(files)}
    )
