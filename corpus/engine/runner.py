"""Run a pipeline's stages: plan (:mod:`~corpus.engine.plan`), run, write (:mod:`~corpus.engine.write`),
commit (:mod:`~corpus.engine.commit`).

Each stage writes into ``<output>/.<stage>.tmp-<uuid>/`` and is renamed into place with its
manifest written last, so a killed run leaves either the previous committed dataset or
nothing at ``<output>/<stage>/`` — never a half-written one that a later stage would read.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import corpus
from corpus import stages
from corpus.engine import fs, stage_warnings
from corpus.engine.commit import clean_stale, commit_artifacts, staging_folder, swap_into_place
from corpus.engine.manifest import (
    manifest_sha256,
    read_manifest,
    write_manifest,
)
from corpus.engine.plan import PlanItem, check_writable, plan, skipped_result
from corpus.engine.progress import Timer, spark_progress
from corpus.engine.timings import stage_timing
from corpus.engine.write import write_output
from corpus.errors import UserError
from corpus.spec import Pipeline, StageSpec, is_dataset_path
from corpus.stages.base import Binding, StageContext, StageOutput

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

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
    items: list[PlanItem] | None = None,
) -> list[dict[str, Any]]:
    """Run the planned stages in order; returns one summary dict per stage. ``items``: the
    plan already made for these arguments (the CLI plans before starting Spark), so outside
    files are listed and hashed once."""
    output = output or pipeline.output
    if items is None:
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
    keys = ("rows_in", "rows_kept", "rows_removed", "removed_by_reason", "seconds", "timings", "metrics")
    return {k: m[k] for k in keys if k in m}


def run_stage(
    spark: SparkSession, pipeline: Pipeline, item: PlanItem, output: str, progress: bool = True
) -> dict[str, Any]:
    """Run one stage and commit its dataset; returns the manifest written."""
    spec = item.spec
    final = fs.join(output, spec.name)
    clean_stale(output, spec.name)
    bindings, recorded = _bind_inputs(spec, item.inputs)
    keyed = {(b.ref if spec.roles[b.role].many else b.role): b for b in bindings}
    dataset_manifests = {k: b.manifest for k, b in keyed.items() if b.kind == "dataset"}

    started, timer = _now(), Timer()
    tmp = staging_folder(output, spec.name)
    artifacts_tmp = tmp + ".artifacts"  # moved under tmp after the rows: the writer prunes non-shard entries
    ctx = StageContext(
        spark=spark,
        name=spec.name,
        seed=pipeline.seed,
        inputs={k: read_dataset(spark, b.path, b.manifest) for k, b in keyed.items() if b.kind == "dataset"},
        base_dir=Path.cwd(),
        output_dir=output,
        input_manifests=dataset_manifests,
        input_paths={k: b.path for k, b in keyed.items() if b.kind == "dataset"},
        bindings=bindings,
        artifacts_dir=artifacts_tmp,
        cache_dir=fs.join(output, CACHE, spec.name),
    )
    fs.makedirs(artifacts_tmp)
    fs.makedirs(ctx.cache_dir)
    sc = spark.sparkContext
    with (
        spark_progress(sc, f"{spec.name} ({spec.kind})", enabled=progress),
        stage_timing(sc, spec.name) as timing,
    ):
        out = stages.load(spec.kind).run(ctx, spec.params)
        if out.rows is None:
            fs.makedirs(tmp)
            counts = {"rows_kept": 0, "rows_removed": 0, "removed_by_reason": {}, "schema": None}
            counts.update(shards=[], removed_shards=[])
        else:
            counts = write_output(out, tmp, _rows_in(out, dataset_manifests, None), timing)
        metrics = dict(out.metrics)
        if out.rows is not None and (out.after_write is not None or out.retry_column):
            written = read_dataset(spark, tmp, counts)
            if out.after_write is not None:
                metrics.update(out.after_write(written))
            if out.retry_column:
                counts["transient_failures"] = written.where(written[out.retry_column].isNotNull()).count()
    breakdown = timing.result(timer.seconds)
    artifacts = commit_artifacts(artifacts_tmp, tmp)

    rows_in = _rows_in(out, dataset_manifests, counts)
    if out.rows is not None:
        stage_warnings.add(
            metrics,
            stage_warnings.zero_output(spec.name, rows_in, counts["rows_kept"], counts["removed_by_reason"]),
        )
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
        "timings": breakdown,
        "balanced": balanced,
        "rows_in": rows_in,
        **counts,
        "artifacts": artifacts,
        "metrics": metrics,
    }
    write_manifest(tmp, manifest)
    swap_into_place(tmp, final, output, spec.name)
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
