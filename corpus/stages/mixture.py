"""``mixture``: the pre-training mixture — which group each document belongs to and how many
times it enters each phase's token stream.

A policy (:mod:`corpus.scoring.policy`; default: the issue's GLM-4.5 / Nemotron-CC defaults)
maps (source, bucket / level / score) to a group with epochs per phase. Rows of a group with 0
epochs in every phase go to ``_removed`` as ``mixture:dropped_bucket:<b>`` (their bucket), or
``mixture:dropped_group:<g>`` when they have none.

Kept rows get ``mixture_group`` and, per phase, ``mixture_repeats_<phase>``: the whole number
of times the document is used. The fractional part ``f`` of a group's epochs ``e`` is a
systematic sample: within each (source, group), documents are ordered by (tokens,
hash(seed, id, phase)) and the ``k``-th gets ``floor(e) + floor((k+1)·f + u) - floor(k·f + u)``
repeats, ``u`` in [0, 1) from hash(seed, phase, source, group). Every document has the same
chance ``f`` of the extra repeat whatever its length, the group gets ``floor(n·f)`` or
``ceil(n·f)`` extras, and since neighbours in that order have similar lengths the extra tokens
are within about one document's length of ``f`` x the group's tokens: realised epochs match
the requested ones by documents and by tokens, with no sampling noise, whatever the
partitioning. The ``stream`` stage (role ``epochs_from``) reads these counts and this stage's
artifact instead of inline epochs.

Artifact ``mixture.json``: the policy, per phase ``epochs`` (``{source: {group: epochs}}``,
the stream's shape) and per (source, group) documents, tokens (``n_tokens`` when the input is
tokenised — exact — else ``length(text) / chars_per_token``, marked estimated), requested
and realised epochs, effective tokens (tokens × repeats) and share of the phase; plus
``mixture.png``, the token share per phase by source and group. Tokenizer facts of a tokenised
input are copied into the manifest's metrics, so ``stream`` accepts this stage as its input.
Several inputs (one per source, tokenized with one tokenizer) are read as one table.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field

from corpus.errors import UserError
from corpus.scoring import policy as pol
from corpus.stages.base import Role, StageContext, StageOutput, StageParams

INPUTS = {
    "input": Role("dataset", many=True, help="documents with source and bucket / level / score columns")
}
FILE = "mixture.json"
TOKENIZER_KEYS = ("tokenizer", "tokenizer_sha256", "vocab_size", "eos_id", "pad_id")


class Params(StageParams):
    policy: pol.Policy = Field(default_factory=pol.default_policy)
    group_column: str = "mixture_group"
    token_column: str = "n_tokens"
    chars_per_token: float = Field(4.0, gt=0)
    plot: bool = True


def group_batch(batch: pa.RecordBatch, spec: tuple[pol.Policy, str]) -> pa.RecordBatch:
    """Adds the group column and, for groups with no epochs in any phase, the removal reason."""
    from corpus.engine.arrow_map import with_columns

    policy, group_column = spec
    idx, _ = pol.match(batch, policy)
    names = [r.group for r in policy.rules] + [policy.default_group]
    groups = [names[i] for i in idx.tolist()]
    dropped = {g for g in set(names) if not any(policy.epochs_of(g).values())}
    has_bucket = policy.bucket_column in batch.schema.names
    bucket = batch.column(policy.bucket_column).to_pylist() if has_bucket else [None] * batch.num_rows
    reasons = [
        None
        if g not in dropped
        else f"mixture:dropped_bucket:{b}"
        if b is not None
        else f"mixture:dropped_group:{g}"
        for g, b in zip(groups, bucket, strict=True)
    ]
    return with_columns(batch, {group_column: pa.array(groups, pa.string())}, reasons)


def _warnings(policy: pol.Policy, columns: list[str]) -> list[str]:
    empty = pa.RecordBatch.from_pydict({c: pa.array([], pa.null()) for c in columns})
    return pol.match(empty, policy)[1]


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from corpus.engine.arrow_map import map_documents
    from corpus.stages.base import REASON

    p = params.policy
    frames = list(ctx.inputs.values())
    df = functools.reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    if "source" not in df.columns:
        df = df.withColumn("source", F.lit(None).cast("string"))
    warnings = _warnings(p, df.columns)
    grouped = map_documents(df, group_batch, (p, params.group_column), [(params.group_column, "string")])
    if params.token_column in df.columns:
        tokens, estimated = F.col(params.token_column).cast("long"), False
    else:
        text = F.coalesce(F.length("text"), F.lit(0)) if "text" in df.columns else F.lit(0)
        tokens, estimated = F.ceil(text / F.lit(params.chars_per_token)).cast("long"), True

    g = F.col(params.group_column)
    out = grouped.withColumn("_t", tokens)
    for phase in p.phases:
        epochs = F.create_map(
            *[x for name in p.groups() for x in (F.lit(name), F.lit(p.epochs_of(name)[phase]))]
        )[g]
        whole, frac = F.floor(epochs), epochs - F.floor(epochs)
        order = F.xxhash64(F.lit(ctx.seed), F.lit("mixture"), F.lit(phase), F.col("id"))
        window = Window.partitionBy("source", g).orderBy(F.col("_t"), order, F.col("id"))
        k = (F.row_number().over(window) - 1).cast("double")
        start = F.xxhash64(F.lit(ctx.seed), F.lit("mixture_start"), F.lit(phase), F.col("source"), g)
        u = F.pmod(start, F.lit(1 << 20)).cast("double") / F.lit(float(1 << 20))
        extra = F.floor((k + 1) * frac + u) - F.floor(k * frac + u)
        repeats = F.when(F.col(REASON).isNull(), whole + extra).otherwise(F.lit(0))
        out = out.withColumn(f"mixture_repeats_{phase}", repeats.cast("int"))

    stats = (
        out.groupBy("source", g.alias("group"), F.col(REASON).isNotNull().alias("dropped"))
        .agg(
            F.count("*").alias("docs"),
            F.sum("_t").alias("tokens"),
            *[F.sum(f"mixture_repeats_{ph}").alias(f"r_{ph}") for ph in p.phases],
            *[F.sum(F.col(f"mixture_repeats_{ph}") * F.col("_t")).alias(f"t_{ph}") for ph in p.phases],
        )
        .collect()
    )
    doc = _artifact(p, params, stats, estimated)
    Path(ctx.artifacts_dir).mkdir(parents=True, exist_ok=True)
    (Path(ctx.artifacts_dir) / FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    if params.plot:
        _plot(doc, str(Path(ctx.artifacts_dir) / "mixture.png"))
    metas = [(m.get("metrics") or {}) for ref, m in ctx.input_manifests.items() if ref in ctx.inputs]
    if len({m.get("tokenizer_sha256") for m in metas}) > 1:
        raise UserError(
            f"stage {ctx.name!r}: inputs were tokenized with different tokenizers (or some not at all)"
        )
    meta = {k: metas[0][k] for k in TOKENIZER_KEYS if metas and k in metas[0]}
    metrics = {
        **meta,
        "tokens_estimated": estimated,
        "phases": {ph: {k: v for k, v in doc["phases"][ph].items() if k != "epochs"} for ph in p.phases},
        "groups": doc["groups"],
        "warnings": warnings,
    }
    return StageOutput(rows=out.drop("_t"), metrics=metrics)


def _artifact(p: pol.Policy, params: Params, stats, estimated: bool) -> dict[str, Any]:
    """``mixture.json`` (see the module docstring) from per-(source, group) sums."""
    kept = [r for r in stats if not r.dropped]
    groups = []
    for r in sorted(stats, key=lambda r: (r.source or "", r.group, r.dropped)):
        e = p.epochs_of(r.group)
        groups.append(
            {
                "source": r.source,
                "group": r.group,
                "dropped": bool(r.dropped),
                "docs": r.docs,
                "tokens": int(r.tokens or 0),
                "epochs": e,
                "epochs_realised": {ph: (getattr(r, f"r_{ph}") or 0) / r.docs for ph in p.phases},
                "effective_tokens": {ph: int(getattr(r, f"t_{ph}") or 0) for ph in p.phases},
            }
        )
    phases: dict[str, Any] = {}
    for ph in p.phases:
        total = sum(int(getattr(r, f"t_{ph}") or 0) for r in kept)
        epochs: dict[str, dict[str, float]] = {}
        for r in kept:
            epochs.setdefault(r.source, {})[r.group] = p.epochs_of(r.group)[ph]
        phases[ph] = {
            "epochs": epochs,
            "repeats_column": f"mixture_repeats_{ph}",
            "effective_tokens": total,
            "documents": sum(r.docs for r in kept),
        }
        for gr in groups:
            gr.setdefault("share", {})[ph] = gr["effective_tokens"][ph] / total if total else 0.0
    return {
        "policy": pol.describe(p),
        "group_column": params.group_column,
        "tokens_estimated": estimated,
        "phases": phases,
        "groups": groups,
    }


def _plot(doc: dict[str, Any], path: str) -> None:
    """Stacked bars: each phase's effective-token share by source / group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = list(doc["phases"])
    groups = [g for g in doc["groups"] if not g["dropped"]]
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(phases)
    cmap = plt.get_cmap("tab20")
    for i, gr in enumerate(groups):
        vals = [gr["share"][ph] for ph in phases]
        ax.bar(phases, vals, bottom=bottom, color=cmap(i % 20), label=f"{gr['source']}/{gr['group']}")
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("share of effective tokens")
    ax.set_title("pre-training mixture" + (" (tokens estimated)" if doc["tokens_estimated"] else ""))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
