"""``code_reparse``: selected code-related pages -> their text re-parsed from the raw HTML with
every code block verbatim (:mod:`corpus.code.html_code`; GLM-4.5's "fine-grained parser that
keeps code formatting and content").

Inputs: ``input``, the selected pages (rows with ``id``, from extract / langid / a code-web
selection stage), and ``html``, the ``warc`` stage's output (``text`` holds the raw HTML, same
``id``). Rows are joined by ``id``; ``text`` is replaced by the re-parsed text (prose plus
Markdown-fenced code blocks), ``code_blocks`` (int) and ``code_langs`` (sorted distinct
language hints) are added and every other input column is kept.

A re-parsed page is a new document of its own source (``code_web``): its ``id`` becomes
``blake2b("code_reparse:" + id)`` (32 hex digits, the warc ids' shape) and ``page_id`` keeps the
page's id, so a page kept on the prose path too is two documents in a mixture, never two rows
with one id (streams refuse duplicate ids).

Removal reasons: ``code_reparse:no_html`` (no ``html`` row with that id, or an empty one),
``code_reparse:parse_error`` (lxml cannot parse it). Rows in = rows of ``input``.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from corpus.stages.base import Role, StageContext, StageOutput, StageParams

INPUTS = {
    "input": Role("dataset", help="selected pages: rows with id (text is replaced)"),
    "html": Role("dataset", help="the warc stage's output: id, text = raw HTML"),
}
HTML = "_html"
ID_PREFIX = "code_reparse:"


def reparsed_id(page_id: str) -> str:
    """The re-parsed document's id: ``blake2b(ID_PREFIX + page_id)``, 16 bytes as hex."""
    return hashlib.blake2b((ID_PREFIX + page_id).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Params(StageParams):
    pass


def reparse_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """Re-parse the ``_html`` column of ``batch`` into ``text``, ``code_blocks``, ``code_langs``."""
    from lxml import etree

    from corpus.code.html_code import ParseError, reparse
    from corpus.engine.arrow_map import with_columns

    texts = batch.column("text").to_pylist()
    urls = batch.column("url").to_pylist() if "url" in batch.schema.names else [None] * len(texts)
    htmls = batch.column(HTML).to_pylist()
    out, blocks, langs, reasons = [], [], [], []
    for text, url, html in zip(texts, urls, htmls, strict=True):
        result, reason = None, None
        if not html or not html.strip():
            reason = "code_reparse:no_html"
        else:
            try:
                result = reparse(html, url)
            except (ParseError, etree.LxmlError, RecursionError):
                reason = "code_reparse:parse_error"
        out.append(text if result is None else result.text)
        blocks.append(None if result is None else result.code_blocks)
        langs.append(None if result is None else list(result.languages))
        reasons.append(reason)
    ids = batch.column("id").to_pylist()
    columns = {
        "id": pa.array([reparsed_id(i) for i in ids], batch.schema.field("id").type),
        "page_id": pa.array(ids, batch.schema.field("id").type),
        "text": pa.array(out, pa.large_string()),
        "code_blocks": pa.array(blocks, pa.int32()),
        "code_langs": pa.array(langs, pa.list_(pa.string())),
    }
    return with_columns(batch, columns, reasons).drop_columns([HTML])


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    from corpus.engine.arrow_map import extend_schema, map_batches

    pages = ctx.inputs["input"]
    html = (
        ctx.inputs["html"]
        .select("id", F.col("text").alias(HTML))
        .join(pages.select("id"), "id", "left_semi")  # only the selected pages' HTML moves on
        .groupBy("id")
        .agg(F.min(HTML).alias(HTML))  # one HTML per id (deterministic) so rows in == rows out
    )
    joined = pages.join(html, "id", "left")
    schema = extend_schema(
        pages.schema, [("page_id", "string"), ("code_blocks", "int"), ("code_langs", "array<string>")]
    )
    manifest = ctx.input_manifests.get("input")
    rows_in = manifest["rows_kept"] if manifest else pages.count()
    return StageOutput(rows=map_batches(joined, reparse_batch, params, schema), rows_in=rows_in)
