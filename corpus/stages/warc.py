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

UNITS_PER_CORE = 8
"""With fewer files than this many per core, files are split (``parts_per_file``)."""
TASKS_PER_CORE = 64
"""Units (files, parts of files) take seconds each: one Spark task each, up to this many a core."""
MAX_PARTS = 4
"""Part ``k`` of a file skims the bytes before it (record numbers make the ids): a part costs
a skim of up to the whole file, so few."""
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
    parts_per_file: int | None = Field(default=None, ge=1, le=MAX_PARTS)
    """Split each file into this many byte ranges of record starts, each its own task (same
    rows and ids as whole files). ``None``: as many as it takes to give every core
    :data:`UNITS_PER_CORE` units when the files are fewer (at most :data:`MAX_PARTS`), so
    that a few big files do not leave cores idle at the end; 1 never splits."""
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
        if self.files_per_task > 1 and (self.parts_per_file or 1) > 1:
            raise ValueError("'parts_per_file' splits files that are one task each: set 'files_per_task: 1'")
        return self


def read_files(
    files: list[tuple[str, str]], params: Params, part: int = 0, parts: int = 1
) -> Iterator[pa.RecordBatch]:
    """Rows of ``files`` (``(path, key)``; of each, part ``part`` of ``parts``) as Arrow batches."""
    opts = ReadOptions(params.source, params.max_record_bytes, params.http_ok_only)
    rows: list[dict] = []
    size = 0
    for path, key in files:
        for row in read_file(path, key, opts, part, parts):
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
    """The rows of one work unit (JSON ``{"files": [[path, key], ...], "part": k, "parts": n}``)
    as Arrow batches."""
    import json

    u = json.loads(unit)
    yield from read_files([tuple(f) for f in u["files"]], params, u["part"], u["parts"])


def plan_units(files: list[tuple[str, str]], params: Params, cores: int) -> list[str]:
    """Work units in file order: ``files_per_task`` files each, or, with one file a task,
    each file in ``parts_per_file`` parts (``None``: enough for :data:`UNITS_PER_CORE` units a
    core, at most :data:`MAX_PARTS`)."""
    import json

    chunk = params.files_per_task
    parts = params.parts_per_file
    if parts is None:
        wanted = UNITS_PER_CORE * max(1, cores)
        parts = 1 if chunk > 1 or not files else min(MAX_PARTS, -(-wanted // len(files)))
    return [
        json.dumps({"files": files[i : i + chunk], "part": k, "parts": parts})
        for i in range(0, len(files), chunk)
        for k in range(parts)
    ]


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql.pandas.types import from_arrow_schema

    from corpus.engine.arrow_map import source_stage

    files = list_files(ctx, params)
    units = plan_units(files, params, ctx.spark.sparkContext.defaultParallelism)
    return source_stage(
        ctx,
        units,
        read_unit,
        params,
        from_arrow_schema(SCHEMA),
        tasks_per_core=TASKS_PER_CORE,
        metrics={"files": len(files)},
    )
