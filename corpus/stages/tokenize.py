"""``tokenize``: token ids per document with HF ``tokenizers``, EOS appended.

Adds ``input_ids list<int32>`` (the document's ids followed by EOS), ``n_tokens int`` and
``fim`` (``psm`` / ``spm`` for a document rearranged by Fill-in-the-Middle, else null), and
leaves ``text`` out unless ``keep_text``. A committed input is read shard by shard
(:mod:`corpus.engine.shard_map`) and output shard i holds input shard i's documents in the same
order — deterministic without a shuffle — written by pyarrow (the runner's Arrow writer):
one pass over the data, and the same bytes on any master.
Documents with no text (null, empty or whitespace only) are removed with reason
``tokenize:empty``. A per-source transform (``transforms: {source: name}``, see
:mod:`corpus.tokens.transforms`) rewrites text just before encoding. Fill-in-the-Middle
(``fim: {sources: [code], rate, spm_rate}``, :mod:`corpus.tokens.fim`) works on ids, not text:
its sentinels must be control ids while the code around them encodes special-token strings
as plain text.

The tokenizer is one of: ``tokenizer`` (a ``tokenizer.json`` or a folder holding one, read from
outside the output and fingerprinted); the artifact of an earlier tokenize stage given by role
(``inputs: {input: docs, tokenizer: tokenize_web}``); or, with ``train_vocab_size``, one trained
first on a hashed sample of the input (``train_sample_docs`` documents, chosen by hash(seed,
id), read in hash order so training is deterministic) and committed as this stage's artifact
``artifacts/tokenizer/`` (``tokenizer.json`` + the transformers config files). Either way the
tokenizer's sha256, eos and pad ids go into the manifest, where stream stages read them.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from corpus.engine import fs
from corpus.engine.arrow_map import map_batches
from corpus.engine.shard_map import map_shards, shard_files
from corpus.errors import UserError
from corpus.stages.base import ARTIFACTS, REASON, Outside, Role, StageContext, StageOutput, StageParams
from corpus.tokens import encode, fim, transforms
from corpus.tokens import tokenizer as tk

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class Fim(StageParams):
    """Fill-in-the-Middle: GLM-4.5 applies it to all source code."""

    sources: list[str] = Field(default_factory=lambda: ["code"], min_length=1)
    rate: float = Field(0.5, ge=0, le=1)
    """Share of documents rearranged (FIM rate)."""
    spm_rate: float = Field(0.5, ge=0, le=1)
    """Share of rearranged documents in SPM order (the rest PSM)."""


class Params(StageParams):
    tokenizer: str | None = None
    """Path of ``tokenizer.json`` or of a folder holding it (relative to the working directory);
    or leave it out and give a ``tokenizer`` input role, or ``train_vocab_size``."""
    train_vocab_size: int | None = Field(None, ge=len(tk.SPECIAL_TOKENS) + 256)
    """When set: train a tokenizer of this size on the input first; committed as the stage's
    artifact ``artifacts/tokenizer/``."""
    train_sample_docs: int = Field(50_000, gt=0)
    eos_token: str = tk.EOS
    pad_token: str = tk.PAD
    special_token_sources: list[str] = Field(default_factory=lambda: list(CHAT_SOURCES))
    """Sources whose text our chat renderer wrote (reasoning traces, agent trajectories): a
    special-token string the template wrote (``<|user|>``, ``<think>``, ``<tool_call>``) is the
    control token it renders. The renderer's ``content_spans`` column marks the text that came
    from the messages (:func:`corpus.agent.glm_format.content_spans`): a special-token string
    inside a span (a user or tool output quoting ``<|assistant|>`` or ``</think>``) is plain
    text; ``content_spans`` leaves with ``text`` unless ``keep_text``. A row of such a source
    without spans (chat text rendered elsewhere, or rewritten by a ``transforms`` entry) gets
    control ids for every special-token string. Every other row — raw text from the web, code,
    GitHub, repositories, multilingual or math/science sources, or a row without ``source`` —
    encodes such strings as plain text, so a page quoting ``<|endoftext|>`` never ends a
    document mid-row (default safe: a source must be listed to get control ids from its text)."""
    transforms: dict[str, str] = Field(default_factory=dict)
    """``{source: transform name}`` applied before encoding."""
    fim: Fim | None = None
    """Fill-in-the-Middle for these sources (:mod:`corpus.tokens.fim`); None: off."""
    separator_sources: dict[str, str] = Field(default_factory=lambda: {"repo": tk.FILE_SEP})
    """``{source: special token}``: raw-text sources whose documents are joined by that token
    (repository contexts: ``<|file_sep|>``). It becomes its control id; everything between
    stays plain text."""
    keep_text: bool = False
    """Copy ``text`` into the output too. Off: streams need ids only, the text stays in the
    input dataset (same ids), and copying it would double what this stage writes."""

    @field_validator("transforms")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v.values():
            transforms.get(name)
        return v


CHAT_SOURCES = ("reasoning", "agent")
"""Chat-formatted sources (rendered with GLM-4.5's special tokens by our renderer)."""

INPUTS = {
    "input": Role("dataset", help="documents with `text` (and `id`, `source`)"),
    "tokenizer": Role("artifact", required=False, help="an earlier tokenize stage's tokenizer"),
}
TOKENIZER_ARTIFACT = "tokenizer"
"""Folder of a trained tokenizer inside the stage's artifacts."""


def check_inputs(params: Params, roles: set[str]) -> None:
    """Exactly one tokenizer source: ``tokenizer``, a ``tokenizer`` input, or ``train_vocab_size``."""
    given = [params.tokenizer is not None, "tokenizer" in roles, params.train_vocab_size is not None]
    if sum(given) != 1:
        raise ValueError(
            "give exactly one of `tokenizer` (a tokenizer.json), a `tokenizer` input (an earlier "
            "tokenize stage) or `train_vocab_size` (train one here)"
        )


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    """The ``tokenizer.json`` given by ``tokenizer`` (a file, or a folder holding one); a
    trained tokenizer or one from an input role is an artifact, not an outside file."""
    if params.tokenizer is None or params.train_vocab_size is not None:
        return []
    given = params.tokenizer
    if fs.is_dir(given if "://" in given else str(base_dir / given)):
        given = fs.join(given, tk.TOKENIZER_FILE)
    return [Outside(given, "file")]


def tokenize_batch(batch: pa.RecordBatch, params: Params, digest: str = "", seed: int = 0) -> pa.RecordBatch:
    """Encode a batch of documents; ``params.tokenizer`` is an absolute path here. Rows of a
    ``special_token_sources`` source encode special-token strings as control ids, all others as
    plain text (two encoder instances; results scattered back into row order)."""
    text = batch.column("text")
    empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), True)
    keep = pc.invert(empty)
    texts = pc.filter(text, keep).to_pylist()
    has_source = "source" in batch.schema.names
    sources = pc.filter(batch.column("source"), keep).to_pylist() if has_source else [None] * len(texts)
    if params.transforms:
        ids = pc.filter(batch.column("id"), keep).to_pylist()
        texts = [
            transforms.get(params.transforms[s])(t, i, seed) if s in params.transforms else t
            for t, s, i in zip(texts, sources, ids, strict=True)
        ]
    chat = [s in params.special_token_sources for s in sources]
    spans = (
        pc.filter(batch.column("content_spans"), keep).to_pylist()
        if "content_spans" in batch.schema.names
        else [None] * len(texts)
    )
    spans = [None if s in params.transforms else sp for sp, s in zip(spans, sources, strict=True)]
    encoded = _encode_by_policy(texts, chat, params, digest, spans)
    if any(s in params.separator_sources for s in sources):
        encoded = _separated(encoded, texts, sources, params, digest)
    modes: list[str | None] = [None] * len(texts)
    if params.fim is not None:
        ids = pc.filter(batch.column("id"), keep).to_pylist() if "id" in batch.schema.names else []
        encoded, modes = _fim(encoded, texts, ids, sources, params, digest, seed)
    # Scatter the encoded rows back into place; empty documents get nulls and a reason.
    slot = pc.subtract(pc.cumulative_sum(pc.cast(keep, pa.int64())), 1)
    take = pc.if_else(keep, slot, pa.scalar(None, pa.int64()))
    input_ids = encoded.take(take)
    n_tokens = pc.cast(pc.list_value_length(input_ids), pa.int32())
    fim_mode = pa.array(modes, pa.string()).take(take)
    reason = pc.if_else(empty, pa.scalar("tokenize:empty"), pa.scalar(None, pa.string()))
    return pa.RecordBatch.from_arrays(
        [*batch.columns, input_ids, n_tokens, fim_mode, reason],
        names=[*batch.schema.names, "input_ids", "n_tokens", "fim", REASON],
    )


def _separated(
    encoded: pa.ListArray, texts: list[str], sources: list[str | None], params: Params, digest: str
) -> pa.ListArray:
    """Rows of ``separator_sources``: the parts between separators encoded as plain text and
    joined by the separator's control id (EOS last)."""
    raw_tok = encode.encoder(params.tokenizer, digest, True)
    eos = tk.special_id(raw_tok, params.eos_token)
    rows = []
    for k, (text, source) in enumerate(zip(texts, sources, strict=True)):
        sep = params.separator_sources.get(source)
        if sep is None:
            rows.append(encoded[k].as_py())
            continue
        sep_id = tk.special_id(raw_tok, sep)
        ids: list[int] = []
        for i, part in enumerate(text.split(sep)):
            if i:
                ids.append(sep_id)
            ids += raw_tok.encode(part, add_special_tokens=False).ids if part else []
        rows.append([*ids, eos])
    return pa.array(rows, pa.list_(pa.int32()))


def _fim(
    encoded: pa.ListArray,
    texts: list[str],
    ids: list[str],
    sources: list[str | None],
    params: Params,
    digest: str,
    seed: int,
) -> tuple[pa.ListArray, list[str | None]]:
    """Replace the ids of the documents chosen for FIM by their PSM/SPM layout; the mode per row."""
    fim_params = params.fim
    assert fim_params is not None
    chosen = {
        k: sp
        for k, (t, i, s) in enumerate(zip(texts, ids, sources, strict=True))
        if s in fim_params.sources
        and (sp := fim.split(t, i, seed, fim_params.rate, fim_params.spm_rate)) is not None
    }
    modes: list[str | None] = [chosen[k].mode if k in chosen else None for k in range(len(texts))]
    if not chosen:
        return encoded, modes
    raw_tok = encode.encoder(params.tokenizer, digest, True)
    rows = fim.assemble(raw_tok, list(chosen.values()), tk.special_id(raw_tok, params.eos_token))
    replaced = dict(zip(chosen, rows, strict=True))
    lists = [replaced.get(k) for k in range(len(texts))]
    merged = [v if v is not None else encoded[k].as_py() for k, v in enumerate(lists)]
    return pa.array(merged, pa.list_(pa.int32())), modes


def _encode_by_policy(
    texts: list[str], chat: list[bool], params: Params, digest: str, spans: list[list[int] | None]
) -> pa.Array:
    """``list<int32>`` ids per text, EOS appended: chat rows with special tokens parsed (those
    whose content spans quote a special-token string piece by piece, the spans as plain text),
    the rest with special-token strings split into plain text."""
    raw_tok = encode.encoder(params.tokenizer, digest, True)
    eos = tk.special_id(raw_tok, params.eos_token)
    if not any(chat):
        return encode.encode(raw_tok, texts, eos)
    chat_tok = encode.encoder(params.tokenizer, digest, False)
    pattern = encode.special_pattern(chat_tok)
    quoting = {
        k: sp
        for k, (text, sp, c) in enumerate(zip(texts, spans, chat, strict=True))
        if c and sp and encode.quotes_specials(text, sp, pattern)
    }
    encoded = _encode_whole(texts, chat, raw_tok, chat_tok, eos)
    if not quoting:
        return encoded
    rows = [
        [*encode.encode_segmented(chat_tok, raw_tok, texts[k], quoting[k]), eos]
        if k in quoting
        else encoded[k].as_py()
        for k in range(len(texts))
    ]
    return pa.array(rows, pa.list_(pa.int32()))


def _encode_whole(
    texts: list[str], chat: list[bool], raw_tok: Tokenizer, chat_tok: Tokenizer, eos: int
) -> pa.Array:
    """Each text in one piece: chat rows by ``chat_tok`` (special-token strings parsed), the
    rest by ``raw_tok``; rows keep their order."""
    if not any(chat):
        return encode.encode(raw_tok, texts, eos)
    if all(chat):
        return encode.encode(chat_tok, texts, eos)
    is_chat = np.array(chat)
    order = np.concatenate([np.flatnonzero(~is_chat), np.flatnonzero(is_chat)])
    parts = pa.concat_arrays(
        [
            encode.encode(raw_tok, [texts[i] for i in order[: int((~is_chat).sum())]], eos),
            encode.encode(chat_tok, [texts[i] for i in order[int((~is_chat).sum()) :]], eos),
        ]
    )
    return parts.take(pa.array(np.argsort(order, kind="stable")))


def _train(ctx: StageContext, params: Params, path: str) -> int:
    """Train the tokenizer on a hashed sample of the input; returns the sample size. The sample
    (bounded by ``train_sample_docs``) comes to the driver as Arrow and is sorted there."""
    from pyspark.sql.types import StructType

    kept = [m.get("rows_kept") for m in ctx.input_manifests.values()]
    total = sum(kept) if kept and None not in kept else ctx.input.count()
    rate = min(1.0, params.train_sample_docs / max(total, 1))
    schema = StructType.fromDDL("key long, text string")
    sample = map_batches(
        ctx.input.select("id", "text"), functools.partial(tk.sample_batch, rate=rate), ctx.seed, schema
    )
    texts = tk.sample_texts(sample.toArrow())
    tk.train(texts, params.train_vocab_size, path)
    return len(texts)


def _tokenizer_path(ctx: StageContext, params: Params) -> tuple[str, int | None]:
    """Where the tokenizer is (training it first when asked), and how many documents it was
    trained on (None when not trained here)."""
    if params.train_vocab_size is not None:
        if ctx.has("tokenizer"):
            raise UserError(
                f"stage {ctx.name!r}: a `tokenizer` input and `train_vocab_size` exclude each other"
            )
        target = fs.join(ctx.artifacts_dir, TOKENIZER_ARTIFACT)
        if "://" in target:  # train locally, then copy the folder into the staged artifacts
            with tempfile.TemporaryDirectory() as local:
                trained = _train(ctx, params, local)
                for name in os.listdir(local):
                    fs.put(os.path.join(local, name), fs.join(target, name))
        else:
            trained = _train(ctx, params, target)
        return target, trained
    if params.tokenizer is not None:
        return ctx.resolve(params.tokenizer), None
    if ctx.has("tokenizer"):
        return fs.join(ctx.artifact("tokenizer"), TOKENIZER_ARTIFACT), None
    raise UserError(
        f"stage {ctx.name!r}: no tokenizer: give `tokenizer` (a tokenizer.json), a `tokenizer` input "
        "(an earlier tokenize stage), or `train_vocab_size` (train one here)"
    )


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql.types import ArrayType, IntegerType, StringType, StructField, StructType

    path, trained = _tokenizer_path(ctx, params)
    try:
        digest = tk.sha256(path)
        resolved = params.model_copy(update={"tokenizer": str(tk.tokenizer_file(path))})
        tok = encode.encoder(resolved.tokenizer, digest, True)
        committed = (
            fs.join(ctx.output_dir, ctx.name, ARTIFACTS, TOKENIZER_ARTIFACT, tk.TOKENIZER_FILE)
            if trained is not None
            else str(Path(resolved.tokenizer))
        )
        metrics = {
            "tokenizer": committed,
            "tokenizer_sha256": digest,
            "vocab_size": tok.get_vocab_size(),
            "eos_id": tk.special_id(tok, params.eos_token),
            "pad_id": tk.special_id(tok, params.pad_token),
        }
    except (OSError, ValueError) as e:
        raise UserError(f"stage {ctx.name!r}: {e}") from None
    fn = functools.partial(tokenize_batch, digest=digest, seed=ctx.seed)
    drop = {"input_ids", "n_tokens", "fim", REASON} | (
        set() if params.keep_text else {"text", "content_spans"}
    )
    schema = StructType(  # built here, not parsed from DDL: parsing goes through the JVM
        [f for f in ctx.input.schema.fields if f.name not in drop]
        + [
            StructField("input_ids", ArrayType(IntegerType())),
            StructField("n_tokens", IntegerType()),
            StructField("fim", StringType()),
            StructField(REASON, StringType()),
        ]
    )
    files = _input_shards(ctx)
    if files is None:
        rows = map_batches(ctx.input, fn, resolved, schema)
    else:  # a committed dataset: tokenize shard by shard, output shard i = input shard i
        rows = map_shards(ctx.spark, files, fn, resolved, schema)

    def after_write(kept) -> dict:
        from pyspark.sql import functions as F

        per = kept.groupBy("source").agg(F.sum("n_tokens").alias("t")).collect()
        out = {"tokens": sum(r.t for r in per), "tokens_per_source": {r.source: r.t for r in per}}
        if params.fim is not None:
            modes = kept.where(F.col("source").isin(params.fim.sources)).groupBy("fim").count().collect()
            out["fim"] = {(r["fim"] or "none"): r["count"] for r in modes}
        return out

    if trained is not None:
        metrics["tokenizer_trained_on_docs"] = trained
    return StageOutput(rows=rows, metrics=metrics, after_write=after_write, keep_partitions=files is not None)


def _input_shards(ctx: StageContext) -> list[str] | None:
    """The input's shard files when it is a committed dataset, else None."""
    manifest, path = ctx.input_manifests.get("input"), ctx.input_paths.get("input")
    return None if manifest is None or path is None else shard_files(path, manifest)
