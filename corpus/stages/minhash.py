"""``minhash``: near-duplicate removal with MinHash LSH and distributed connected components.

Per document (on executors, vectorised per Arrow batch): normalise, shingle (word or
character n-grams, default FineWeb's 5 words), MinHash with ``bands x rows`` permutations,
one 64-bit key per band. Then in Spark: documents sharing a band key become candidate edges
(optionally kept only when their exact Jaccard clears ``verify_threshold``), connected
components join them into clusters, and each cluster keeps one representative — highest
``quality_score`` if the column exists, else smallest id. The others go to ``_removed`` with
``minhash_duplicate_of:<id>``; every row gets ``dup_cluster_size``.

A pair with Jaccard ``s`` becomes a candidate with probability ``1-(1-s^rows)^bands``: an
S-curve whose midpoint ``(1/bands)^(1/rows)`` (0.72 for 14 x 8) is logged and recorded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import Field

from corpus.dedup.components import connected_components
from corpus.dedup.duplicates import cluster_sizes, histogram, mark, representatives
from corpus.dedup.lsh import candidate_edges, verified_edges
from corpus.dedup.minhash_sig import band_keys, s_curve_threshold, signatures
from corpus.engine.arrow_map import map_batches
from corpus.stages.base import StageContext, StageOutput, StageParams
from corpus.text.shingles import shingle_hashes_by_lang, shingle_spec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

REASON_PREFIX = "minhash_duplicate_of:"


class Shingling(StageParams):
    unit: Literal["word", "char"]
    ngram: int = Field(ge=1)


class Params(StageParams):
    ngram: int = Field(5, ge=1, description="shingle size in units (languages written with spaces)")
    unit: Literal["word", "char"] = "word"
    per_lang: dict[str, Shingling] = Field(
        default_factory=dict,
        description="shingling per `lang`, over the defaults for unspaced scripts "
        "(corpus.text.shingles.LANG_SHINGLING: zh/ja 5 characters, th/lo/km/my/bo 10)",
    )
    bands: int = Field(14, ge=1)
    rows: int = Field(8, ge=1, description="signature values per band")
    seed: int | None = Field(None, description="permutation seed; default derived from the run seed")
    verify_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="keep only candidate pairs with exact Jaccard >= this (slower)"
    )


_SIG_SCHEMA = "id string, bands array<bigint>, shingles array<bigint>"


def _list_array(offsets: np.ndarray, values: np.ndarray, valid: np.ndarray) -> pa.Array:
    mask = pa.array(~valid)
    return pa.LargeListArray.from_arrays(
        pa.array(offsets, pa.int64()), pa.array(values, pa.int64()), mask=mask
    )


def _distinct_per_doc(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct shingle hashes of each document (flat values, new offsets)."""
    doc = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    order = np.lexsort((hashes, doc))
    h, d = hashes[order], doc[order]
    first = np.ones(len(h), dtype=bool)
    first[1:] = (h[1:] != h[:-1]) | (d[1:] != d[:-1])
    counts = np.bincount(d[first], minlength=len(offsets) - 1)
    return h[first], np.concatenate([[0], np.cumsum(counts)])


def shingling_table(params: Params, langs: list[str | None]) -> dict[str, dict[str, object]]:
    """``{"default" | lang: {"unit", "ngram"}}`` for the languages seen (manifest metric)."""
    default = (params.unit, params.ngram)
    overrides = {lang: (s.unit, s.ngram) for lang, s in params.per_lang.items()}
    table = {"default": {"unit": params.unit, "ngram": params.ngram}}
    for lang in sorted(x for x in langs if x):
        unit, n = shingle_spec(lang, default, overrides)
        table[lang] = {"unit": unit, "ngram": n}
    return table


def signature_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """``(id, bands, shingles)`` per document: its ``bands`` LSH keys (null when the text has no
    shingle) and, when verifying, its sorted distinct shingle hashes. Each row is shingled by
    its ``lang`` when the batch has one (:func:`shingling_table`). ``params.seed`` must be set."""
    langs = batch.column("lang").to_pylist() if "lang" in batch.schema.names else [None] * batch.num_rows
    overrides = {lang: (s.unit, s.ngram) for lang, s in params.per_lang.items()}
    hashes, offsets = shingle_hashes_by_lang(
        batch.column("text"), langs, (params.unit, params.ngram), overrides
    )
    n = batch.num_rows
    valid = np.diff(offsets) > 0
    keys = band_keys(
        signatures(hashes, offsets, params.bands * params.rows, params.seed), params.bands, params.rows
    )
    band_offsets = np.arange(n + 1, dtype=np.int64) * params.bands
    columns = {"id": batch.column("id"), "bands": _list_array(band_offsets, keys.reshape(-1), valid)}
    if params.verify_threshold is not None:
        values, sh_offsets = _distinct_per_doc(hashes, offsets)
        columns["shingles"] = _list_array(sh_offsets, values.view(np.int64), valid)
    return pa.RecordBatch.from_pydict(columns)


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F
    from pyspark.sql.types import _parse_datatype_string

    if params.seed is None:
        params = params.model_copy(update={"seed": xxhash.xxh32_intdigest(f"{ctx.seed}:minhash".encode())})
    threshold = s_curve_threshold(params.bands, params.rows)
    log.info(
        "minhash: %d-%s shingles, %d bands x %d rows, S-curve threshold (1/b)^(1/r) = %.3f%s",
        params.ngram,
        params.unit,
        params.bands,
        params.rows,
        threshold,
        "" if params.verify_threshold is None else f", verified at Jaccard >= {params.verify_threshold}",
    )
    docs = ctx.input
    has_lang = "lang" in docs.columns
    sigs = map_batches(
        docs.select("id", "text", *(["lang"] if has_lang else [])),
        signature_batch,
        params,
        _parse_datatype_string(_SIG_SCHEMA),
    )
    if params.verify_threshold is not None:
        sigs = sigs.localCheckpoint(eager=True)  # read twice: bands now, shingles for verification
    band_rows = sigs.select("id", F.posexplode("bands").alias("band", "key"))
    edges = candidate_edges(band_rows)
    if params.verify_threshold is not None:
        edges = verified_edges(edges, sigs.select("id", "shingles"), params.verify_threshold)
    members = connected_components(edges).withColumnRenamed("node", "id")
    reps = representatives(docs, members).localCheckpoint(eager=True)

    sizes = cluster_sizes(reps)  # one small job gives every count below
    removed = sum((size - 1) * n for size, n in sizes.items())
    rows_in = _rows_in(ctx, docs)
    langs = [r[0] for r in docs.select("lang").distinct().collect()] if has_lang else []
    metrics = {
        "ngram": params.ngram,
        "unit": params.unit,
        "shingling": shingling_table(params, langs),
        "bands": params.bands,
        "rows": params.rows,
        "permutation_seed": params.seed,
        "s_curve_threshold": round(threshold, 4),
        "verify_threshold": params.verify_threshold,
        "duplicates_removed": removed,
        "removed_pct": round(100.0 * removed / rows_in, 3) if rows_in else 0.0,
        "docs_in_clusters": sum(size * n for size, n in sizes.items()),
        "cluster_size_histogram": histogram(sizes),
    }
    log.info("minhash: %d of %d documents are duplicates (%.2f%%)", removed, rows_in, metrics["removed_pct"])
    return StageOutput(rows=mark(docs, reps, REASON_PREFIX), metrics=metrics)


def _rows_in(ctx: StageContext, docs: DataFrame) -> int:
    """Input rows: from the committed input's manifest when there is one (no pass over the data)."""
    manifests = list(ctx.input_manifests.values())
    if len(manifests) == 1 and "rows_kept" in manifests[0]:
        return int(manifests[0]["rows_kept"])
    return docs.count()
