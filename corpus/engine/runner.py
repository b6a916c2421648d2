"""Run a pipeline's stages: plan (:mod:`~corpus.engine.plan`), run, write (:mod:`~corpus.engine.write`),
commit (:mod:`~corpus.engine.commit`).

A per-document stage (:func:`~corpus.engine.arrow_map.document_stage`) is applied to its
committed input piece by piece (:mod:`~corpus.engine.pieces`: no shuffle, no sort), and the
per-document stages that follow it, each reading only the one before, join the same pass
(fusion; ``corpus run --no-fuse`` turns it off, with the same committed output). A source
stage that reads work units (:func:`~corpus.engine.arrow_map.source_stage`: warc, repos) is
read the same way, its work units as the pieces, with the per-document stages after it in
the pass.

Each stage writes into ``<output>/.<stage>.tmp-<uuid>/`` and is renamed into place with its
manifest written last, so a killed run leaves either the previous committed dataset or
nothing at ``<output>/<stage>/`` — never a half-written one that a later stage would read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import corpus
from corpus import stages
from corpus.engine import fs, pieces, stage_warnings
from corpus.engine.commit import clean_stale, commit_artifacts, staging_folder, swap_into_place
from corpus.engine.manifest import (
    manifest_sha256,
    read_manifest,
    write_manifest,
)
from corpus.engine.plan import PlanItem, check_writable, input_path, plan, skipped_result
from corpus.engine.progress import Timer, spark_progress
from corpus.engine.timings import StageTiming, stage_timing
from corpus.engine.write import finish, write_output
from corpus.errors import UserError
from corpus.spec import Pipeline, StageSpec, is_dataset_path
from corpus.stages.base import REASON, Binding, Collect, RowsNeeded, StageContext, StageOutput

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
    fuse: bool = True,
) -> list[dict[str, Any]]:
    """Run the planned stages in order; returns one summary dict per stage. ``items``: the
    plan already made for these arguments (the CLI plans before starting Spark), so outside
    files are listed and hashed once. ``fuse``: run consecutive per-document stages in one
    pass over the data (:mod:`corpus.engine.pieces`; same committed output either way)."""
    output = output or pipeline.output
    if items is None:
        items = plan(pipeline, output, only, force)  # missing inputs fail before anything is created
    check_writable(output)
    results: dict[int, dict[str, Any]] = {}
    collected: dict[str, tuple[list[str], pieces.Collected]] = {}
    pending = list(range(len(items)))
    while pending:
        i = pending[0]
        if items[i].action == "skip":
            results[i] = skipped_result(items[i], output)
            pending.pop(0)
            continue
        chain = [i]
        while fuse and (
            j := next((j for j in pending if j > chain[-1] and _feeds(items[chain[-1]], items[j])), None)
        ):
            chain.append(j)  # safe to run early: its one input is committed by then
        manifests = run_chain(
            spark, pipeline, [items[j] for j in chain], output, progress=progress, collected=collected
        )
        for j, m in zip(chain, manifests, strict=False):
            results[j] = {**_summary(m), "stage": items[j].spec.name, "status": "ran", "why": items[j].why}
            pending.remove(j)
    return [results[i] for i in range(len(items))]


def _feeds(item: PlanItem, nxt: PlanItem) -> bool:
    """``nxt`` runs and reads only ``item``'s rows: a candidate to fuse after it."""
    spec = nxt.spec
    return (
        nxt.action == "run"
        and len(spec.bindings) == 1
        and spec.bindings[0][1] == item.spec.name
        and spec.roles[spec.bindings[0][0]].kind == "dataset"
    )


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("rows_in", "rows_kept", "rows_removed", "removed_by_reason", "seconds", "timings", "metrics")
    return {k: m[k] for k in keys if k in m}


@dataclass
class _Stage:
    """One stage between its ``run`` and its commit."""

    item: PlanItem
    ctx: StageContext
    recorded: list[dict[str, Any]]
    manifests: dict[str, dict[str, Any]]
    tmp: str
    started: str
    timer: Timer
    out: StageOutput | None = None


def _prepare(
    spark: SparkSession,
    pipeline: Pipeline,
    item: PlanItem,
    output: str,
    placeholder: Any = None,
    clean: bool = True,
) -> _Stage:
    """Bind a stage's inputs and make its context. ``placeholder``: the schema of the rows a
    fused upstream stage has not committed yet (an empty DataFrame stands in for them);
    ``clean``: remove leftovers of an interrupted run first (not when a fused pass has
    just written this stage's rows)."""
    spec = item.spec
    if clean:
        clean_stale(output, spec.name)
    tmp = staging_folder(output, spec.name)
    started, timer = _now(), Timer()
    if placeholder is not None:
        role, ref = spec.bindings[0]
        key = ref if spec.roles[role].many else role
        bindings, recorded, manifests = [], [], {}
        inputs = {key: spark.createDataFrame([], placeholder)}
        paths = {key: input_path(output, ref)}
    else:
        bindings, recorded = _bind_inputs(spec, item.inputs)
        keyed = {(b.ref if spec.roles[b.role].many else b.role): b for b in bindings}
        manifests = {k: b.manifest for k, b in keyed.items() if b.kind == "dataset"}
        inputs = {k: read_dataset(spark, b.path, b.manifest) for k, b in keyed.items() if b.kind == "dataset"}
        paths = {k: b.path for k, b in keyed.items() if b.kind == "dataset"}
    ctx = StageContext(
        spark=spark,
        name=spec.name,
        seed=pipeline.seed,
        inputs=inputs,
        base_dir=Path.cwd(),
        output_dir=output,
        input_manifests=manifests,
        input_paths=paths,
        bindings=bindings,
        artifacts_dir=tmp
        + ".artifacts",  # moved under tmp after the rows: the writer prunes non-shard entries
        cache_dir=fs.join(output, CACHE, spec.name),
        planning=placeholder is not None,
    )
    fs.makedirs(ctx.artifacts_dir)
    fs.makedirs(ctx.cache_dir)
    return _Stage(item, ctx, recorded, manifests, tmp, started, timer)


def _piece_input(stage: _Stage) -> list[str] | None:
    """The shard files a per-document stage can read piece by piece, or None when it cannot
    (not a :class:`DocumentMap`, several inputs, its own sharding asked for)."""
    out = stage.out
    if (
        out is None
        or out.document is None
        or out.rows is None
        or out.keep_partitions
        or out.shards is not None
        or len(stage.manifests) != 1
        or tuple(out.partition_by) != ("id",)
        or tuple(out.sort_by) != ("id",)
    ):
        return None
    key, m = next(iter(stage.manifests.items()))
    path = stage.ctx.input_paths[key]
    return [fs.join(path, s["file"]) for s in m.get("shards", [])]


def run_stage(
    spark: SparkSession, pipeline: Pipeline, item: PlanItem, output: str, progress: bool = True
) -> dict[str, Any]:
    """Run one stage and commit its dataset; returns the manifest written."""
    return run_chain(spark, pipeline, [item], output, progress=progress)[0]


def run_chain(
    spark: SparkSession,
    pipeline: Pipeline,
    chain: list[PlanItem],
    output: str,
    progress: bool = True,
    collected: dict[str, tuple[list[str], pieces.Collected]] | None = None,
) -> list[dict[str, Any]]:
    """Run the first stage of ``chain`` and as many of the following per-document stages as
    can go in the same pass over its input (each reads the previous one's rows only);
    commit each in order. Returns the manifests of the stages run (at least the first).

    ``collected``: the run's store of :class:`~corpus.stages.base.Collect` results, by the
    name of the stage they are for, with the input shards they were computed on: the pass
    fills it for the stage after the chain, that stage's run takes it when its input is
    those shards."""
    sc = spark.sparkContext
    store = collected if collected is not None else {}
    first = _prepare(spark, pipeline, chain[0], output)
    early = store.pop(chain[0].spec.name, None)
    if early is not None and early[0] == _input_shards(first):
        first.ctx.collected = early[1].rows
    with spark_progress(sc, f"{chain[0].spec.name} ({chain[0].spec.kind})", enabled=progress):
        with stage_timing(sc, chain[0].spec.name) as timing:
            if first.ctx.collected is not None:
                timing.extra_document_cpu_s += early[1].cpu_s  # spent in the upstream pass
            first.out = stages.load(chain[0].spec.kind).run(first.ctx, chain[0].spec.params)
            source = (
                first.out.source if first.out.source is not None and _piece_input_shape(first.out) else None
            )
            files = [] if source is not None else _piece_input(first)
            if files is None:
                return [_finish_stage(spark, pipeline, first, output, timing)]
        staged = [first]
        timings_ = [timing]
        collect, collect_for = None, None
        for item in chain[1:]:
            planned, collect = _plan_fused(spark, pipeline, item, output, staged[-1].out.document.schema)
            if planned is None:
                collect_for = item.spec.name if collect is not None else None
                break
            staged.append(planned)
        steps = [pieces.Step(s.out.document, s.tmp, s.out.row_group_bytes) for s in staged]
        names = " + ".join(s.item.spec.name for s in staged)
        job = Timer()
        with stage_timing(sc, names) as job_timing:
            written, gathered = pieces.run_chain(spark, files, steps, source, collect)
        job_s, job_extra = job.seconds, job_timing.result(job.seconds)
    cpu = [sum(w["doc_cpu_s"] + w["cpu_s"] for w in rows) for rows in written]
    manifests = []
    for k, stage in enumerate(staged):
        share = job_s * (cpu[k] / sum(cpu) if sum(cpu) > 0 else 1 / len(staged))
        fused = [s.item.spec.name for s in staged] if len(staged) > 1 else None
        if k == 0:
            timing = timings_[0]
        else:
            # the stage's own run, now on its committed input: metrics and checks as when alone
            real = _prepare(spark, pipeline, stage.item, output, clean=False)
            fs.remove(stage.ctx.artifacts_dir)
            real.tmp = stage.tmp
            with stage_timing(sc, stage.item.spec.name) as timing:
                real.out = stages.load(stage.item.spec.kind).run(real.ctx, stage.item.spec.params)
            if not stage.out.document.same_work(real.out.document) or _piece_input(real) is None:
                fs.remove(stage.tmp)  # not the map the pass applied: write it on its own
                real.tmp = staging_folder(output, stage.item.spec.name)
                with stage_timing(sc, stage.item.spec.name) as timing:
                    manifests.append(_finish_stage(spark, pipeline, real, output, timing))
                for later in staged[k + 1 :]:
                    fs.remove(later.tmp)
                    fs.remove(later.ctx.artifacts_dir)
                return manifests
            stage = real
        rows = [w for w in written[k] if w["part"] != pieces.STATS]
        stats = [w for w in written[k] if w["part"] == pieces.STATS]
        timing.write_cpu_s += sum(w["cpu_s"] for w in stats)
        timing.extra_document_cpu_s += sum(w["doc_cpu_s"] for w in stats)
        counts = finish(stage.tmp, rows, _kept_schema(stage.out.document.schema))
        timing.add_share(job_extra, share / job_s if job_s else 0.0)
        timing.wall_adjust_s = share - (
            job_s if k == 0 else 0.0
        )  # the first stage's timer ran through the pass
        manifests.append(
            _finish_stage(spark, pipeline, stage, output, timing, counts=counts, fused_with=fused)
        )
    if collect_for is not None and gathered is not None:
        store[collect_for] = ([s["file"] for s in manifests[-1].get("shards", [])], gathered)
    return manifests


def _input_shards(stage: _Stage) -> list[str] | None:
    """The shard files of a stage's one dataset input (None for other shapes)."""
    if len(stage.manifests) != 1:
        return None
    return [s["file"] for s in next(iter(stage.manifests.values())).get("shards", [])]


def _plan_fused(
    spark: SparkSession, pipeline: Pipeline, item: PlanItem, output: str, upstream: Any
) -> tuple[_Stage | None, Collect | None]:
    """``item`` prepared on a stand-in for its upstream's rows, when it is a per-document
    stage that can join the pass (else None, and its staging removed); and, when it cannot
    join but asks for a :class:`~corpus.stages.base.Collect` over its input, that."""
    stage = _prepare(spark, pipeline, item, output, placeholder=_kept_schema(upstream))
    collect = None
    try:
        stage.out = stages.load(item.spec.kind).run(stage.ctx, item.spec.params)
    except RowsNeeded as needed:
        stage.out, collect = None, needed.collect
    except Exception:  # e.g. a run() that needs its input's manifest: it runs after, alone
        stage.out = None
    ok = (
        stage.out is not None
        and stage.out.document is not None
        and not fs.walk_files(stage.ctx.artifacts_dir)
    )
    ok = ok and stage.out.retry_column is None and _piece_input_shape(stage.out)
    if not ok:
        fs.remove(stage.ctx.artifacts_dir)
        return None, collect
    return stage, None


def _piece_input_shape(out: StageOutput) -> bool:
    return (
        out.rows is not None
        and not out.keep_partitions
        and out.shards is None
        and tuple(out.partition_by) == ("id",)
        and tuple(out.sort_by) == ("id",)
    )


def _kept_schema(schema: Any) -> Any:
    from pyspark.sql.types import StructType

    return StructType([f for f in schema.fields if f.name != REASON])


def _finish_stage(
    spark: SparkSession,
    pipeline: Pipeline,
    stage: _Stage,
    output: str,
    timing: StageTiming,
    counts: dict[str, Any] | None = None,
    fused_with: list[str] | None = None,
) -> dict[str, Any]:
    """Write the stage's rows unless ``counts`` says they are written, run its after-write
    hooks, commit; returns the manifest."""
    item, out, tmp = stage.item, stage.out, stage.tmp
    spec = item.spec
    dataset_manifests = stage.manifests
    with timing.active():
        if out.rows is None:
            fs.makedirs(tmp)
            counts = {"rows_kept": 0, "rows_removed": 0, "removed_by_reason": {}, "schema": None}
            counts.update(shards=[], removed_shards=[])
        elif counts is None:
            counts = write_output(out, tmp, _rows_in(out, dataset_manifests, None), timing)
        metrics = dict(out.metrics)
        if out.rows is not None and (out.after_write is not None or out.retry_column):
            written = read_dataset(spark, tmp, counts)
            if out.after_write is not None:
                metrics.update(out.after_write(written))
            if out.retry_column:
                counts["transient_failures"] = written.where(written[out.retry_column].isNotNull()).count()
    breakdown = timing.result(stage.timer.seconds + timing.wall_adjust_s)
    if fused_with:
        breakdown["fused_with"] = fused_with
    artifacts = commit_artifacts(stage.ctx.artifacts_dir, tmp)

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
        "index": spec.index,
        "config_hash": item.config_hash,
        "params": spec.params.model_dump(mode="json"),
        "seed": pipeline.seed,
        "inputs": stage.recorded,
        "outside_files": item.outside,
        "outside_fingerprint": item.outside_fingerprint,
        "code_version": corpus.__version__,
        "engine": {"name": "spark", "version": pyspark.__version__, "master": spark.sparkContext.master},
        "started": stage.started,
        "finished": _now(),
        "seconds": round(breakdown["wall_s"], 3),
        "timings": breakdown,
        "balanced": balanced,
        "rows_in": rows_in,
        **counts,
        "artifacts": artifacts,
        "metrics": metrics,
    }
    write_manifest(tmp, manifest)
    swap_into_place(tmp, fs.join(output, spec.name), output, spec.name)
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
