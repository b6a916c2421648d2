"""``code_tier``: per-language code quality tiers — each file is scored by the quality model of
its language and put into ``low`` / ``medium`` / ``high`` (GLM-4.5: language-specific quality
models tier source code; the mixture up-samples high and excludes low).

Models: ``models`` is a folder of classifier folders, one per language group
(:data:`corpus.code.tier.GROUPS`, picked by the ``lang`` column; every other language uses
``other``), default ``classifiers/code_quality`` (fastText on proxy labels, see its
MODEL_CARD.md). Scoring is :func:`corpus.scoring.classifier.score`, rounded to 4 decimals.

Tiers are the bucket mechanism of :mod:`corpus.scoring.buckets` applied per language group:
the group's scores are cut at token-weighted ``percentiles`` (default 25 and 75: three
buckets), so ``bucket`` 0 / 1 / 2 = ``quality_level`` low / medium / high, each language
judged against its own files (scores of different models are not comparable). Thresholds
are exact: tokens are summed per (group, rounded score) in the tasks and only those sums are
collected (at most 10,001 per group and task). Two passes: the first scores every file for those
sums (inside the pass that writes the input when that is a fused per-document pass:
:class:`~corpus.stages.base.Collect`) and keeps the scores per row group in the stage's cache
folder; the second buckets every row group with them (scoring again one it does not find) and
writes the rows (:mod:`corpus.engine.pieces`); a code_tier after a per-document stage runs
once that stage is committed (it needs all of its rows). Tokens per file: ``n_tokens`` when present, else
``length(text) / chars_per_token``, at least 1.

Frozen thresholds: ``thresholds_from`` (an earlier code_tier stage folder, or any folder with
a ``thresholds.json`` such as ``classifiers/code_quality``) or the artifact role
``thresholds``; a language group in the input that the frozen file lacks is an error. The
thresholds used are this stage's artifact ``thresholds.json``. Every row is kept
(``in == kept``); columns added: ``code_model``, ``score_code_quality``, ``bucket``,
``quality_level``. The manifest has rows and tokens per group and level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field, field_validator

from corpus.code import tier
from corpus.engine import fs
from corpus.errors import UserError
from corpus.stages.base import Collect, Outside, Role, RowsNeeded, StageContext, StageOutput, StageParams
from corpus.stages.bucket import FILE, frozen_thresholds

INPUTS = {
    "input": Role("dataset", help="source files with text and lang columns (repos / code_filter)"),
    "thresholds": Role("artifact", required=False, help="frozen thresholds (an earlier code_tier stage)"),
}
MODEL_COLUMN = "code_model"


class Params(StageParams):
    models: str = Field("classifiers/code_quality", description="folder of per-language classifier folders")
    percentiles: list[float] = Field(default_factory=lambda: list(tier.DEFAULT_PERCENTILES))
    thresholds_from: str | None = Field(
        None, description="an earlier code_tier stage, or a thresholds.json folder"
    )
    text_column: str = "text"
    lang_column: str = "lang"
    score_column: str = "score_code_quality"
    bucket_column: str = "bucket"
    level_column: str = "quality_level"
    token_column: str = "n_tokens"
    chars_per_token: float = Field(4.0, gt=0)

    @field_validator("percentiles")
    @classmethod
    def _two(cls, v: list[float]) -> list[float]:
        if len(v) != len(tier.LEVELS) - 1 or sorted(v) != v or not all(0 < p < 100 for p in v):
            raise ValueError(f"percentiles must be {len(tier.LEVELS) - 1} ascending values in (0, 100)")
        return v


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    out = [Outside(params.models, "tree")]
    return out + ([Outside(params.thresholds_from, "tree")] if params.thresholds_from else [])


def available(folder: str) -> list[str]:
    """Model groups with a classifier folder under ``folder``."""
    from corpus.scoring import classifier

    return [g for g in [*tier.GROUPS, tier.OTHER] if (Path(folder) / g / classifier.CARD).is_file()]


def model_of(lang: str | None, groups: list[str]) -> str:
    g = tier.group_of(lang)
    return g if g in groups else tier.OTHER


def models_of(langs: list[str | None], groups: tuple[str, ...]) -> list[str]:
    """The model group of each row's language."""
    return [model_of(lang, list(groups)) for lang in langs]


def tier_score_batch(batch: pa.RecordBatch, spec: tuple[str, tuple[str, ...], str, str]) -> pa.RecordBatch:
    """Adds ``code_model`` (the group whose model scored the row) and the rounded score."""
    import numpy as np

    from corpus.engine.arrow_map import with_columns
    from corpus.scoring import classifier

    folder, groups, text_column, lang_column = spec
    texts = batch.column(text_column).to_pylist()
    langs = batch.column(lang_column).to_pylist()
    models = models_of(langs, groups)
    scores = np.zeros(len(texts), dtype=np.float64)
    for g in sorted(set(models)):
        idx = [i for i, m in enumerate(models) if m == g]
        scores[idx] = classifier.score(str(Path(folder) / g), [texts[i] for i in idx])
    return with_columns(
        batch,
        {
            MODEL_COLUMN: pa.array(models, pa.string()),
            "_score": pa.array(tier.round_scores(scores), pa.float64()),
        },
        [None] * len(texts),
    )


def _batch_key(batch: pa.RecordBatch) -> str:
    """A row group's name in the scores cache: a hash of its ids (unique per row)."""
    import hashlib

    ids = "\x1f".join(str(i) for i in batch.column("id").to_pylist())
    return hashlib.blake2b(ids.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _save_scores(folder: str, batch: pa.RecordBatch, scores: Any) -> None:
    """Keep pass 1's rounded scores of ``batch`` for pass 2 (``.npy``, written then renamed)."""
    import io

    import numpy as np

    path = fs.join(folder, _batch_key(batch) + ".npy")
    buf = io.BytesIO()
    np.save(buf, np.asarray(scores, dtype=np.float64), allow_pickle=False)
    with fs.open_binary_write(path + ".tmp") as f:
        f.write(buf.getvalue())
    fs.rename(path + ".tmp", path)


def _load_scores(folder: str, batch: pa.RecordBatch) -> Any:
    """Pass 1's scores of ``batch``, or None (not cached, or not the same rows)."""
    import io

    import numpy as np

    path = fs.join(folder, _batch_key(batch) + ".npy")
    if not fs.is_file(path):
        return None
    with fs.open_binary(path) as f:
        scores = np.load(io.BytesIO(f.read()), allow_pickle=False)
    return scores if len(scores) == batch.num_rows else None


def thresholds(pairs: list[tuple[str, float, float]], percentiles: list[float]) -> dict[str, Any]:
    """Per group ``{thresholds, files, tokens}`` from ``(group, score, tokens)`` rows (a score
    may repeat: :func:`corpus.scoring.buckets.weighted_thresholds` sums ties the same way)."""
    import numpy as np

    from corpus.scoring import buckets

    out = {}
    for g in sorted({p[0] for p in pairs}):
        s = np.array([p[1] for p in pairs if p[0] == g])
        w = np.array([p[2] for p in pairs if p[0] == g])
        t = buckets.weighted_thresholds(s, w, percentiles)
        out[g] = {"thresholds": t, "tokens": int(w.sum())}
    return out


def tier_batch(batch: pa.RecordBatch, spec: tuple) -> pa.RecordBatch:
    """Scores each row with its group's model and puts it in the bucket its group's thresholds
    give (:func:`corpus.scoring.buckets.assign`: how many thresholds the rounded score exceeds)."""
    import numpy as np

    from corpus.engine.arrow_map import with_columns
    from corpus.scoring import buckets

    folder, groups, text_column, lang_column, cuts, columns, cache = spec
    cached = _load_scores(cache, batch) if cache else None
    if cached is None:
        scored = tier_score_batch(batch, (folder, groups, text_column, lang_column))
    else:  # scored by pass 1 in this run: the same function of the same rows
        scored = pa.RecordBatch.from_pydict(
            {
                MODEL_COLUMN: pa.array(models_of(batch.column(lang_column).to_pylist(), groups), pa.string()),
                "_score": pa.array(cached, pa.float64()),
            }
        )
    models = np.asarray(scored.column(MODEL_COLUMN).to_pylist(), dtype=object)
    scores = scored.column("_score").to_numpy()
    bucket_of = np.zeros(len(models), dtype=np.int32)
    for g, thresholds in cuts:
        rows = models == g
        bucket_of[rows] = buckets.assign(scores[rows], thresholds)
    score_column, bucket_column, level_column = columns
    return with_columns(
        batch,
        {
            MODEL_COLUMN: scored.column(MODEL_COLUMN),
            score_column: scored.column("_score"),
            bucket_column: pa.array(bucket_of, pa.int32()),
            level_column: pa.array([tier.LEVELS[b] for b in bucket_of.tolist()], pa.string()),
        },
        [None] * batch.num_rows,
    )


def pairs_batch(batch: pa.RecordBatch, spec: tuple) -> pa.RecordBatch:
    """``(code_model, score, tokens, files)`` summed per (group, rounded score) over the batch:
    what the thresholds are computed from (tokens per file at least 1)."""
    import numpy as np

    folder, groups, text_column, lang_column, token_column, chars_per_token, cache = spec
    scored = tier_score_batch(batch, (folder, groups, text_column, lang_column))
    if cache:
        _save_scores(cache, batch, scored.column("_score").to_numpy())
    if token_column in batch.schema.names:
        tokens = np.nan_to_num(np.asarray(batch.column(token_column).to_pylist(), dtype=np.float64), nan=0.0)
    else:
        lengths = [len(t) if t is not None else 0 for t in batch.column(text_column).to_pylist()]
        tokens = np.ceil(np.asarray(lengths, dtype=np.float64) / chars_per_token)
    sums: dict[tuple[str, float], list[float]] = {}
    keys = zip(scored.column(MODEL_COLUMN).to_pylist(), scored.column("_score").to_pylist(), strict=True)
    for key, t in zip(keys, np.maximum(tokens, 1.0).tolist(), strict=True):
        c = sums.setdefault(key, [0.0, 0])
        c[0], c[1] = c[0] + t, c[1] + 1
    keys = list(sums)
    return pa.RecordBatch.from_pydict(
        {
            MODEL_COLUMN: pa.array([k[0] for k in keys], pa.string()),
            "score": pa.array([k[1] for k in keys], pa.float64()),
            "tokens": pa.array([sums[k][0] for k in keys], pa.float64()),
            "files": pa.array([sums[k][1] for k in keys], pa.int64()),
        }
    )


def run(ctx: StageContext, params: Params) -> StageOutput:
    from corpus.engine.arrow_map import document_stage
    from corpus.engine.pieces import map_collect
    from corpus.engine.shard_map import shard_files

    df = ctx.input
    for c in (params.text_column, params.lang_column):
        if c not in df.columns:
            raise UserError(f"stage {ctx.name!r}: input has no column {c!r} (run repos / code_filter first)")
    folder = ctx.resolve(params.models)
    groups = available(folder)
    if tier.OTHER not in groups:
        raise UserError(
            f"stage {ctx.name!r}: {folder} holds no '{tier.OTHER}' model (classifiers/code_quality's shape)"
        )
    # pass 1: (group, score, tokens) of every row, summed per (group, rounded score) in the
    # tasks, then on the driver; done by the pass that writes the input when it can
    spec = (folder, tuple(groups), params.text_column, params.lang_column)
    # pass 1 keeps its scores for pass 2 in the cache folder, emptied before pass 1 and after
    # the write: pass 2 only reads scores this run's pass 1 wrote
    cache = fs.join(ctx.cache_dir, "scores")
    pairs = Collect(
        pairs_batch,
        (*spec, params.token_column, params.chars_per_token, cache),
        f"{MODEL_COLUMN} string, score double, tokens double, files long",
    )
    if ctx.planning:
        fs.remove(cache)
        fs.makedirs(cache)
        raise RowsNeeded("code_tier's thresholds need every row of its input", pairs)
    frozen = frozen_thresholds(ctx, params.thresholds_from, "code_tier")
    if ctx.collected is not None:
        partial = ctx.collected
    else:
        fs.remove(cache)
        fs.makedirs(cache)
        files = shard_files(ctx.input_paths["input"], ctx.input_manifests["input"])
        partial = map_collect(ctx.spark, files, pairs.fn, pairs.params, pairs.schema)
    sums: dict[tuple[str, float], list[float]] = {}
    for r in partial:
        c = sums.setdefault((r[MODEL_COLUMN], r["score"]), [0.0, 0])
        c[0], c[1] = c[0] + r["tokens"], c[1] + r["files"]
    pairs = [(g, score, w, n) for (g, score), (w, n) in sorted(sums.items())]
    present = sorted({r[0] for r in pairs})
    if frozen is not None:
        per_group = frozen["groups"]
        missing = sorted(set(present) - set(per_group))
        if missing:
            raise UserError(f"stage {ctx.name!r}: frozen thresholds have no language group {missing}")
        percentiles = frozen["percentiles"]
    else:
        per_group = thresholds([(r[0], r[1], float(r[2] or 0)) for r in pairs], params.percentiles)
        percentiles = params.percentiles

    per_level: dict[str, dict[str, Any]] = {}
    counted: dict[tuple[str, str], list[int]] = {}
    for g, score, w, n in pairs:
        level = tier.LEVELS[sum(score > x for x in per_group[g]["thresholds"])]
        c = counted.setdefault((g, level), [0, 0.0])
        c[0], c[1] = c[0] + n, c[1] + (w or 0.0)
    for g, level in sorted(counted, key=lambda k: (k[0], tier.LEVELS.index(k[1]))):
        n, w = counted[(g, level)]
        per_level.setdefault(g, {})[level] = {"rows": n, "tokens": int(w)}
    doc = {
        "percentiles": percentiles,
        "groups": per_group,
        "levels": list(tier.LEVELS),
        "models": params.models,
        "chars_per_token": params.chars_per_token,
    }
    Path(ctx.artifacts_dir).mkdir(parents=True, exist_ok=True)
    (Path(ctx.artifacts_dir) / FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    metrics = {"frozen": frozen is not None, "thresholds": per_group, "tiers": per_level}
    metrics["sums_from"] = "upstream pass" if ctx.collected is not None else "own pass"

    # pass 2: bucket piece by piece, with pass 1's scores (a row group not found in the cache
    # is scored again: scoring is a pure function of the row)
    cuts = tuple((g, tuple(per_group[g]["thresholds"])) for g in present)
    columns = (params.score_column, params.bucket_column, params.level_column)
    added = [(MODEL_COLUMN, "string"), (params.score_column, "double")]
    added += [(params.bucket_column, "int"), (params.level_column, "string")]

    def drop_cache(_kept: Any) -> dict[str, Any]:
        fs.remove(cache)
        return {}

    return document_stage(
        ctx, tier_batch, (*spec, cuts, columns, cache), added, metrics=metrics, after_write=drop_cache
    )
