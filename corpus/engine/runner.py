"""Run a pipeline's stages: plan (skip what is committed and unchanged), run, write, commit.

Each stage writes into ``<output>/.<stage>.tmp-<uuid>/`` and is renamed into place with its
manifest written last, so a killed run leaves either the previous committed dataset or
nothing at ``<output>/<stage>/`` — never a half-written one that a later stage would read.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import corpus
from corpus import stages
from corpus.engine import fs
from corpus.engine.manifest import (
    REMOVED,
    SHARD_RE,
    manifest_sha256,
    read_manifest,
    shard_entries,
    write_manifest,
)
from corpus.engine.plan import PlanItem, check_writable, plan, skipped_result
from corpus.engine.progress import Timer, spark_progress
from corpus.errors import UserError
from corpus.spec import Pipeline, StageSpec, is_dataset_path
from corpus.stages.base import ARTIFACTS, REASON, Binding, StageContext, StageOutput

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_ROWS_PER_SHARD = 20_000
CACHE = "_cache"
"""``<output>/_cache/<stage>/``: a stage's paid or slow work, kept across killed runs."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_dataset(spark: SparkSession, path: str, manifest: dict[str, Any]) -> DataFrame:
    """Kept rows of a committed dataset, read from exactly the shards its manifest lists."""
    from pyspark.sql.types import StructType

    if manifest.get("schema") is None:
        raise UserError(f"{path}: stage {manifest.get('stage')!r} committed artifacts only, no rows to read")
    files = [fs.spark_path(fs.join(path, s["file"])) for s in manifest.get("shards", [])]
    schema = StructType.fromJson(manifest["schema"])
    if not files:
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).parquet(*files)


def run_pipeline(
    spark: SparkSession,
    pipeline: Pipeline,
    output: str | None = None,
    only: list[str] | None = None,
    force: list[str] | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run the planned stages in order; returns one summary dict per stage."""
    output = output or pipeline.output
    items = plan(pipeline, output, only, force)  # missing inputs fail before anything is created
    check_writable(output)
    results = []
    for item in items:
        if item.action == "skip":
            results.append(skipped_result(item, output))
            continue
        m = run_stage(spark, pipeline, item, output, progress=progress)
        results.append({**_summary(m), "stage": item.spec.name, "status": "ran", "why": item.why})
    return results


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("rows_in", "rows_kept", "rows_removed", "removed_by_reason", "seconds", "metrics")
    return {k: m[k] for k in keys if k in m}


def run_stage(
    spark: SparkSession, pipeline: Pipeline, item: PlanItem, output: str, progress: bool = True
) -> dict[str, Any]:
    """Run one stage and commit its dataset; returns the manifest written."""
    spec = item.spec
    final = fs.join(output, spec.name)
    _clean_stale(output, spec.name)
    bindings, recorded = _bind_inputs(spec, item.inputs)
    datasets = [b for b in bindings if b.kind == "dataset"]
    keyed = {(b.ref if spec.roles[b.role].many else b.role): b for b in bindings}
    manifests = {k: b.manifest for k, b in keyed.items() if b.manifest is not None}
    dataset_manifests = {k: b.manifest for k, b in keyed.items() if b.kind == "dataset"}

    started, timer = _now(), Timer()
    tmp = fs.join(output, f".{spec.name}.tmp-{uuid.uuid4().hex[:12]}")
    artifacts_tmp = tmp + ".artifacts"  # moved under tmp after the rows: Spark's writer clears tmp
    ctx = StageContext(
        spark=spark,
        name=spec.name,
        seed=pipeline.seed,
        inputs={k: read_dataset(spark, b.path, b.manifest) for k, b in keyed.items() if b in datasets},
        base_dir=Path.cwd(),
        output_dir=output,
        input_manifests=manifests,
        input_paths={k: b.path for k, b in keyed.items() if b in datasets},
        bindings=bindings,
        artifacts_dir=artifacts_tmp,
        cache_dir=fs.join(output, CACHE, spec.name),
    )
    fs.makedirs(artifacts_tmp)
    fs.makedirs(ctx.cache_dir)
    with spark_progress(spark.sparkContext, f"{spec.name} ({spec.kind})", enabled=progress):
        out = stages.load(spec.kind).run(ctx, spec.params)
        if out.rows is None:
            fs.makedirs(tmp)
            counts = {"rows_kept": 0, "rows_removed": 0, "removed_by_reason": {}, "schema": None}
            counts.update(shards=[], removed_shards=[])
        else:
            counts = write_output(out, tmp, _rows_in(out, dataset_manifests, None))
        metrics = dict(out.metrics)
        if out.rows is not None and (out.after_write is not None or out.retry_column):
            written = read_dataset(spark, tmp, counts)
            if out.after_write is not None:
                metrics.update(out.after_write(written))
            if out.retry_column:
                counts["transient_failures"] = written.where(written[out.retry_column].isNotNull()).count()
    artifacts = _commit_artifacts(artifacts_tmp, tmp)

    rows_in = _rows_in(out, dataset_manifests, counts)
    balanced = out.balanced and out.rows is not None
    if balanced and rows_in != counts["rows_kept"] + counts["rows_removed"]:
        raise RuntimeError(
            f"stage {spec.name!r} lost rows: in={rows_in} kept={counts['rows_kept']} removed={counts['rows_removed']}"
        )
    import pyspark

    manifest = {
        "stage": spec.name,
        "kind": spec.kind,
        "pipeline": pipeline.name,
        "config_hash": item.config_hash,
        "params": spec.params.model_dump(mode="json"),
        "seed": pipeline.seed,
        "inputs": recorded,
        "outside_files": item.outside,
        "outside_fingerprint": item.outside_fingerprint,
        "code_version": corpus.__version__,
        "engine": {"name": "spark", "version": pyspark.__version__, "master": spark.sparkContext.master},
        "started": started,
        "finished": _now(),
        "seconds": round(timer.seconds, 3),
        "balanced": balanced,
        "rows_in": rows_in,
        **counts,
        "artifacts": artifacts,
        "metrics": metrics,
    }
    write_manifest(tmp, manifest)
    _swap_into_place(tmp, final, output, spec.name)
    return manifest


def _bind_inputs(
    spec: StageSpec, inputs: list[tuple[str, str]]
) -> tuple[list[Binding], list[dict[str, Any]]]:
    """Each ``(role, ref)`` with its folder and manifest, and the manifest's ``inputs`` record.
    A dataset must be committed; an artifact role may also name a plain folder."""
    paths = dict(inputs)
    bindings, recorded = [], []
    for role, ref in spec.bindings:
        path, kind = paths[ref], spec.roles[role].kind
        m = read_manifest(path)
        if m is None and (kind == "dataset" or not is_dataset_path(ref)):
            raise UserError(
                f"stage {spec.name!r}: input {ref!r} has no committed dataset at {path} (run it first)"
            )
        if m is None and not fs.exists(path):
            raise UserError(f"stage {spec.name!r}: input {role!r}: no such folder {path}")
        bindings.append(Binding(role, ref, kind, path, m))
        recorded.append(
            {
                "name": ref,
                "role": role,
                "path": path,
                "manifest_sha256": manifest_sha256(path) if m is not None else None,
            }
        )
    return bindings, recorded


def _commit_artifacts(staged: str, tmp: str) -> list[dict[str, Any]]:
    """Move the stage's artifact files under ``tmp/artifacts`` (committed by the stage's
    rename) and list them with size and sha256; no folder when the stage wrote none."""
    files = fs.walk_files(staged)
    if not files:
        fs.remove(staged)
        return []
    target = fs.join(tmp, ARTIFACTS)
    fs.rename(staged, target)
    return [
        {
            "file": f"{ARTIFACTS}/{rel}",
            "bytes": fs.size(fs.join(target, rel)),
            "sha256": fs.sha256(fs.join(target, rel)),
        }
        for rel in files
    ]


def _rows_in(
    out: StageOutput, manifests: dict[str, dict[str, Any]], counts: dict[str, Any] | None
) -> int | None:
    """Rows the stage read; before the write (``counts`` None) None for a source stage that
    does not say."""
    if out.rows_in is not None:
        return out.rows_in
    if manifests:
        return sum(m["rows_kept"] for m in manifests.values())
    return None if counts is None else counts["rows_kept"] + counts["rows_removed"]


def write_output(out: StageOutput, folder: str, rows_hint: int | None = None) -> dict[str, Any]:
    """Write kept rows to ``folder`` and removed ones to ``folder/_removed``; return the
    counts, shard list and schema for the manifest. ``rows_hint`` (rows in, when known) lets
    the Arrow writer size shards without a counting pass."""
    if REASON not in out.rows.columns and out.balanced:
        raise RuntimeError(f"a balanced stage must return a {REASON!r} column")
    if out.writer == "arrow":
        return _write_output_arrow(out, folder, rows_hint)
    if out.keep_partitions:
        raise RuntimeError("keep_partitions needs the Arrow writer (writer='arrow')")
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    rows = out.rows
    has_reason = REASON in rows.columns
    rows = rows.persist(StorageLevel.DISK_ONLY)
    try:
        removed_by_reason: dict[str, int] = {}
        if has_reason:
            group = F.regexp_replace(F.col(REASON), r"^(.*_of):.*$", "$1")
            kept = 0
            for r in rows.groupBy(group.alias("g")).count().collect():
                if r["g"] is None:
                    kept = r["count"]
                else:
                    removed_by_reason[r["g"]] = r["count"]
            kept_df = rows.filter(F.col(REASON).isNull()).drop(REASON)
            removed_df = rows.filter(F.col(REASON).isNotNull()).withColumnRenamed(REASON, "reason")
        else:
            kept = rows.count()
            kept_df, removed_df = rows, None
        removed = sum(removed_by_reason.values())

        shards = out.shards or max(1, math.ceil(kept / DEFAULT_ROWS_PER_SHARD))
        part_by = [c for c in out.partition_by if c in kept_df.columns]
        sort_by = [c for c in out.sort_by if c in kept_df.columns]
        kept_sorted = kept_df.repartition(shards, *part_by) if part_by else kept_df.repartition(shards)
        _write(
            kept_sorted.sortWithinPartitions(*sort_by) if sort_by else kept_sorted, folder, out.write_options
        )
        if removed_df is not None and removed:
            rshards = max(1, math.ceil(removed / DEFAULT_ROWS_PER_SHARD))
            rpart = (
                removed_df.repartition(rshards, "id")
                if "id" in removed_df.columns
                else removed_df.coalesce(rshards)
            )
            _write(
                rpart.sortWithinPartitions("id") if "id" in removed_df.columns else rpart,
                fs.join(folder, REMOVED),
                {},
            )
        schema = kept_df.schema.jsonValue()
    finally:
        rows.unpersist()
    return {
        "rows_kept": kept,
        "rows_removed": removed,
        "removed_by_reason": dict(sorted(removed_by_reason.items())),
        "schema": schema,
        "shards": shard_entries(folder),
        "removed_shards": shard_entries(fs.join(folder, REMOVED)),
    }


def _write_output_arrow(out: StageOutput, folder: str, rows_hint: int | None) -> dict[str, Any]:
    """The Arrow writer's path (:mod:`corpus.engine.arrow_write`): all rows hash-partitioned
    and sorted once, each task writing its kept and its removed shard, so the stage's rows
    are computed once. Shard count: ``out.shards``, else from ``rows_hint``, else counted;
    with ``out.keep_partitions`` the rows' own partitions are the shards."""
    from corpus.engine import arrow_write

    rows = out.rows
    reason = REASON if REASON in rows.columns else None
    df = rows if out.keep_partitions else _partitioned(out, rows_hint)
    removed_folder = fs.join(folder, REMOVED)
    written = arrow_write.write_partitions(df, folder, removed_folder, out.row_group_bytes, reason)
    kept_df = rows.drop(reason) if reason else rows
    for part, target in ((arrow_write.KEPT, folder), (arrow_write.REMOVED_PART, removed_folder)):
        files = sorted({(w["partition"], w["file"]) for w in written if w["part"] == part})
        for i, (_, name) in enumerate(files):
            fs.rename(fs.join(target, name), fs.join(target, f"part-{i:05d}.parquet"))
        for name in fs.listdir(target):  # attempts of failed or speculative tasks
            if not SHARD_RE.match(name) and name != REMOVED:
                fs.remove(fs.join(target, name))
    if not any(w["part"] == arrow_write.KEPT for w in written):
        schema = arrow_write.arrow_schema(kept_df.schema)
        arrow_write.write_empty(schema, fs.join(folder, "part-00000.parquet"))
    removed_by_reason: dict[str, int] = {}
    for w in written:
        if w["part"] == arrow_write.REMOVED_PART:
            removed_by_reason[w["reason"]] = removed_by_reason.get(w["reason"], 0) + w["rows"]
    return {
        "rows_kept": sum(w["rows"] for w in written if w["part"] == arrow_write.KEPT),
        "rows_removed": sum(removed_by_reason.values()),
        "removed_by_reason": dict(sorted(removed_by_reason.items())),
        "schema": kept_df.schema.jsonValue(),
        "shards": shard_entries(folder),
        "removed_shards": shard_entries(removed_folder),
    }


def _partitioned(out: StageOutput, rows_hint: int | None) -> DataFrame:
    """``out.rows`` hash-partitioned into shards and sorted within each."""
    rows = out.rows
    shards = out.shards
    if shards is None:
        n = rows_hint if rows_hint is not None else rows.count()
        shards = max(1, math.ceil(n / DEFAULT_ROWS_PER_SHARD))
    part_by = [c for c in out.partition_by if c in rows.columns]
    sort_by = [c for c in out.sort_by if c in rows.columns]
    df = rows.repartition(shards, *part_by) if part_by else rows.repartition(shards)
    return df.sortWithinPartitions(*sort_by) if sort_by else df


def _write(df: DataFrame, folder: str, options: dict[str, str]) -> None:
    """Write Parquet (zstd) and rename Spark's files to ``part-NNNNN.parquet`` in partition
    order, dropping ``_SUCCESS`` and checksum files."""
    writer = df.write.mode("overwrite").option("compression", "zstd")
    for k, v in options.items():
        writer = writer.option(k, v)
    writer.parquet(fs.spark_path(folder))
    names = [n for n in fs.listdir(folder) if n.startswith("part-") and n.endswith(".parquet")]
    for i, name in enumerate(sorted(names)):
        fs.rename(fs.join(folder, name), fs.join(folder, f"part-{i:05d}.parquet"))
    for name in fs.listdir(folder):
        if not SHARD_RE.match(name) and name != REMOVED:
            fs.remove(fs.join(folder, name))


def _swap_into_place(tmp: str, final: str, output: str, name: str) -> None:
    old = fs.join(output, f".{name}.old-{uuid.uuid4().hex[:12]}")
    if fs.exists(final):
        fs.rename(final, old)
    fs.rename(tmp, final)
    fs.remove(old)


def _clean_stale(output: str, name: str) -> None:
    """Remove leftovers of an interrupted run of this stage (tmp and old folders)."""
    for entry in fs.listdir(output):
        if entry.startswith((f".{name}.tmp-", f".{name}.old-")):
            fs.remove(fs.join(output, entry))


def run_stage_for_test(
    spark: SparkSession,
    kind: str,
    params: dict[str, Any],
    output: str,
    inputs: dict[str, str] | None = None,
    name: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Run one stage through the real runner (validation, write, manifest) in tests.

    ``inputs`` maps the kind's roles (or, for the list form, any names) to folders."""
    from corpus.spec import load_pipeline_dict
    from corpus.stages.base import roles_of

    stage = {"kind": kind, "name": name or kind, **params}
    if inputs:
        by_role = set(inputs) <= set(roles_of(stages.load(kind)))
        stage["inputs"] = dict(inputs) if by_role else list(inputs.values())
    pipeline = load_pipeline_dict({"name": "test", "output": output, "seed": seed, "stages": [stage]})
    item = plan(pipeline, output, force=[stage["name"]])[0]
    return run_stage(spark, pipeline, item, output, progress=False)
