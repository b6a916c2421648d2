"""``code_web``: retrieve code-related pages from the web corpus **before** the prose heuristics
(GLM-4.5: "pages with HTML code tags, or pages a fastText classifier flags as code-related").

Inputs: ``input`` = the pages (``extract`` or ``langid`` output: ``id``, ``text``), ``html`` =
the ``warc`` stage's output (raw HTML in ``text``, same ``id``). Per page:

* ``code_tag_blocks`` / ``code_tag_lines`` / ``code_tag_highlighted``: HTML code tags counted by
  :func:`corpus.code.code_signal.code_tags` (``<pre>``, multi-line ``<code>``, highlighter
  markup; rules in that module; 0 when the page has no HTML row);
* ``score_<classifier name>``: the fastText code-related classifier's score of the extracted
  text (default ``classifiers/code_web``, P(page of a programming manual));
* a page is **selected** when ``code_tag_blocks >= min_blocks`` or the score ``>= threshold``
  (default: the model card's threshold); ``code_signal`` = ``tags`` | ``classifier`` | ``both``.

The stage is a **branch**, not a filter: selected pages are written (with ``source`` set to
``source``, default ``code_web``) and every input page also goes on along the prose path
(``heuristics`` reads the same input). Pages not selected are written nowhere by this stage,
so it is *unbalanced*: the manifest records ``rows_in`` (every input page) and
``metrics.selected`` / ``metrics.not_selected`` / ``metrics.by_signal`` /
``metrics.without_html``, and ``rows_in == selected + not_selected``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field

from corpus.errors import UserError
from corpus.stages.base import Outside, Role, StageContext, StageOutput, StageParams

INPUTS = {
    "input": Role("dataset", help="pages before the prose heuristics (extract or langid output)"),
    "html": Role("dataset", help="the warc stage's output: raw HTML in `text`, same id"),
}
HTML = "_html"
SELECTED = "_selected"


class Params(StageParams):
    classifier: str | None = Field(
        "classifiers/code_web", description="fastText classifier folder; None: tags only"
    )
    threshold: float | None = Field(None, description="score >= threshold selects; default the card's")
    min_lines: int = Field(2, ge=1, description="non-empty lines a block without markup needs")
    min_blocks: int = Field(1, ge=1, description="code blocks that give the tag signal")
    source: str | None = Field("code_web", description="`source` of selected pages; None keeps it")
    text_column: str = "text"


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    return [Outside(params.classifier, "tree")] if params.classifier else []


def code_web_batch(batch: pa.RecordBatch, spec: tuple[Params, str | None, float]) -> pa.RecordBatch:
    """Adds the code tag counts, the classifier score, ``code_signal`` and ``_selected`` to a
    batch holding the page's text and its raw HTML in ``_html`` (dropped here)."""
    from corpus.code.code_signal import code_tags
    from corpus.engine.arrow_map import with_columns

    params, folder, threshold = spec
    tags = [code_tags(h, params.min_lines) for h in batch.column(HTML).to_pylist()]
    tagged = [t.blocks >= params.min_blocks for t in tags]
    cols: dict[str, pa.Array] = {
        "code_tag_blocks": pa.array([t.blocks for t in tags], pa.int32()),
        "code_tag_lines": pa.array([t.lines for t in tags], pa.int32()),
        "code_tag_highlighted": pa.array([t.highlighted for t in tags], pa.int32()),
    }
    flagged = [False] * batch.num_rows
    if folder is not None:
        from corpus.scoring import classifier

        scores = classifier.score(folder, batch.column(params.text_column).to_pylist())
        flagged = [bool(s >= threshold) for s in scores]
        cols[f"score_{_name(folder)}"] = pa.array(scores, pa.float32())
    signal = [
        ("both" if c else "tags") if t else ("classifier" if c else None)
        for t, c in zip(tagged, flagged, strict=True)
    ]
    cols["code_signal"] = pa.array(signal, pa.string())
    cols[SELECTED] = pa.array([s is not None for s in signal], pa.bool_())
    if params.source is not None:
        cols["source"] = pa.array([params.source] * batch.num_rows, pa.string())
    return with_columns(batch, cols).drop_columns([HTML])


def _name(folder: str) -> str:
    """The classifier's name from its card (the score column is ``score_<name>``)."""
    from corpus.scoring import classifier

    return json.loads((Path(folder) / classifier.CARD).read_text())["name"]


def _classifier(ctx: StageContext, params: Params) -> tuple[str | None, float]:
    """``(folder, threshold)``; a missing folder is one line (UserError)."""
    if params.classifier is None:
        return None, float("inf")
    from corpus.scoring import classifier

    folder = ctx.resolve(params.classifier)
    try:
        model = classifier.describe(folder)
    except FileNotFoundError as e:
        raise UserError(f"stage {ctx.name!r}: {e}") from None
    if model["kind"] != "fasttext":
        raise UserError(f"stage {ctx.name!r}: {folder} is a {model['kind']} model, not fastText")
    card = json.loads((Path(folder) / classifier.CARD).read_text())
    threshold = params.threshold if params.threshold is not None else card.get("threshold", 0.5)
    return folder, float(threshold)


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    from corpus.engine.arrow_map import extend_schema, map_batches

    folder, threshold = _classifier(ctx, params)
    df, html = ctx.inputs["input"], ctx.inputs["html"]
    for role, frame, col in (("input", df, params.text_column), ("html", html, "text")):
        if "id" not in frame.columns or col not in frame.columns:
            raise UserError(f"stage {ctx.name!r}: input {role!r} needs columns id and {col}")
    # one HTML per id, chosen deterministically (ids are unique in a warc output)
    pages = html.groupBy("id").agg(F.min("text").alias(HTML))
    joined = df.join(pages, "id", "left")
    cores = ctx.spark.sparkContext.defaultParallelism
    joined = joined.repartition(2 * cores, "id")
    added = [("code_tag_blocks", "int"), ("code_tag_lines", "int"), ("code_tag_highlighted", "int")]
    if folder is not None:
        added.append((f"score_{_name(folder)}", "float"))
    added += [("code_signal", "string"), (SELECTED, "boolean")]
    if params.source is not None:
        added.append(("source", "string"))
    schema = extend_schema(joined.drop(HTML).schema, added, reason=False)
    mapped = map_batches(joined, code_web_batch, (params, folder, threshold), schema)
    rows = mapped.where(F.col(SELECTED)).drop(SELECTED)
    manifest = ctx.input_manifests.get("input")
    rows_in = manifest["rows_kept"] if manifest else df.count()
    without_html = df.join(pages, "id", "left_anti").count()

    def after_write(kept) -> dict[str, Any]:
        by = {
            r["code_signal"]: r["n"]
            for r in kept.groupBy("code_signal").agg(F.count("*").alias("n")).collect()
        }
        selected = sum(by.values())
        return {
            "selected": selected,
            "not_selected": rows_in - selected,
            "by_signal": dict(sorted(by.items())),
            "without_html": without_html,
        }

    metrics = {"classifier": params.classifier, "threshold": threshold, "min_blocks": params.min_blocks}
    return StageOutput(rows=rows, balanced=False, rows_in=rows_in, metrics=metrics, after_write=after_write)
