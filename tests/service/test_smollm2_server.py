"""Annotate's two backends on one real model and the same prompts: the ``openai`` backend, through
the annotate stage (Spark local[2]), against SmolLM2-135M-Instruct served by ``transformers
serve`` on 127.0.0.1 (the ``smollm2_server`` fixture), and the ``transformers`` backend running
the same weights in-process.

What must agree: the server answers greedily, so where its answer is ``Score: <d>`` the digit
``d`` is the most likely next token after ``Score: `` — the in-process backend's distribution
over ``0``–``5`` at that very position (same chat template, same prompt, same fp32 weights)
must have its maximum at ``d``. A 135M model rates documents badly, so the scores themselves
are not judged; the rank correlation of the server's scores with the in-process expected scores
is computed and reported (Spearman, n = the rows the server scored), not asserted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpus.engine.local_lm import resolve_model
from corpus.engine.runner import run_stage_for_test
from corpus.engine.service import KeyCache
from corpus.stages.annotate import Job, annotate_local, read_template
from tests.service.smollm2 import MODEL

pytestmark = pytest.mark.slow  # a model server and a forward pass per prompt on CPU

# FineWeb-Edu's closing instruction (classifiers/prompts/edu_additive_0_5.txt) after a short
# rubric: the shipped rubric is ~430 tokens, this prompt ~100, and a request's cost grows with it.
TEMPLATE = (
    "Below is an extract from a web page. Evaluate whether it has educational value for grade "
    "school with a 0-5 score.\n\n<extract>\n{text}\n</extract>\n\nAfter examining the extract, reply "
    "with one line only, giving the total points (an integer from 0 to 5):\nScore: <points>"
)
TEXTS = [
    "Photosynthesis is how green plants turn light, water and carbon dioxide into sugar and oxygen. "
    "Exercise: explain why leaves are green.",
    "BUY NOW!!! Cheap watches, best prices, free shipping. Click here to win an iPhone!!!",
    "To add fractions with the same denominator, add the numerators: 1/5 + 2/5 = 3/5.",
    "lol that game last night was insane, cant believe we lost again smh",
    "Die Addition ist eine der vier Grundrechenarten. Beispiel: 3 + 4 = 7. Übung: Berechne 12 + 15.",
    "Login | Register | Forgot password? | Terms | Privacy | Cookies",
]
MAX_CHARS = 300
GREEDY = re.compile(r"^\s*Score:\s*(\d)")


def _spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rho (average ranks for ties); None when either side is constant."""
    import numpy as np
    from scipy.stats import rankdata

    ra, rb = rankdata(a), rankdata(b)
    if len(set(ra)) < 2 or len(set(rb)) < 2:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def test_openai_backend_on_the_smollm2_server_agrees_with_the_in_process_backend(
    spark, tmp_path: Path, smollm2_server
):
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    run_stage_for_test(spark, "dataset", {"paths": [str(src)]}, str(tmp_path / "src"), name="docs")
    template = tmp_path / "edu_short.txt"
    template.write_text(TEMPLATE, encoding="utf-8")
    params = {
        "template": str(template),
        "base_url": smollm2_server.base_url,
        "model": smollm2_server.model,
        "sample_fraction": 1.0,
        "max_chars": MAX_CHARS,
        "max_tokens": 4,  # "Score", ":", " ", digit
        "concurrency": 2,
        "retries": 1,
        "timeout_s": 600.0,  # a loaded 2-core machine stretches one request to a minute
    }
    m = run_stage_for_test(
        spark, "annotate", params, str(tmp_path / "out"), inputs={"input": str(tmp_path / "src/docs")}
    )
    assert m["rows_kept"] == len(TEXTS) and m["transient_failures"] == 0
    assert m["metrics"]["requests"] == len(TEXTS)  # one request per row, none retried
    served = {r["id"]: r for r in spark.read.parquet(str(tmp_path / "out/annotate")).collect()}

    job = Job(
        backend="transformers",
        url="",
        model=MODEL,
        template=read_template(template),
        template_sha256="",
        max_chars=MAX_CHARS,
        text_column="text",
        temperature=0.0,
        max_tokens=1,
        timeout_s=1.0,
        per_task=1,
        retries=0,
        backoff_s=0.0,
        max_backoff_s=0.0,
        cache_dir=str(tmp_path / "local_cache"),
        model_path=resolve_model(MODEL),
        batch_size=len(TEXTS),
    )
    local = annotate_local(TEXTS, job, KeyCache(job.cache_dir))

    greedy, pairs = 0, []
    for i, res in enumerate(local):
        row = served[f"d{i}"]
        # every answer is either a 0-5 score or a failure that keeps the model's text
        if row["annotation"] is None:
            assert row["annotation_error"].startswith("unparseable: ") and row["annotation_raw"]
        else:
            assert 0 <= row["annotation"] <= 5 and row["annotation_error"] is None
            pairs.append((row["annotation"], res.score))
        probs = json.loads(res.raw)
        if (g := GREEDY.match(row["annotation_raw"] or "")) and int(g.group(1)) <= 5:
            greedy += 1
            assert int(g.group(1)) == max(range(6), key=probs.__getitem__), (row["annotation_raw"], probs)
    assert greedy >= len(TEXTS) // 2, "the server should answer 'Score: <d>' for most of these prompts"
    rho = _spearman([a for a, _ in pairs], [b for _, b in pairs])
    print(
        f"server vs in-process: greedy digit = argmax {greedy}/{len(TEXTS)}; Spearman {rho} (n={len(pairs)})"
    )
