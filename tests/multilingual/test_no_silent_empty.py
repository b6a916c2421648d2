"""Nothing silent (issue 11, failure 5): empty outputs and language-wide removals are warned.

A 4,096-token truncate stream over 177 tokens used to write 0 rows with "kept 0, removed 0"
and no word about it. Now such outcomes leave a line in ``metrics["warnings"]`` of the
manifest, which ``corpus run`` prints after its summary table.
"""

from __future__ import annotations

import json

from corpus.engine import stage_warnings


def test_warning_rules():
    assert stage_warnings.zero_output("s", 0, 0, {}) == []
    assert stage_warnings.zero_output("s", 5, 1, {"x": 4}) == []
    assert stage_warnings.zero_output("s", 12, 0, {"filter:a": 10, "filter:b": 2}) == [
        "s: 0 rows written from 12 input rows; removed: filter:a 10, filter:b 2"
    ]
    groups = {"web": {"rows": 0, "doc_tokens": 177, "docs": 3, "epochs_requested": 1.0}}
    (line,) = stage_warnings.unfilled_stream_groups("pretrain_4k", groups, 4096)
    assert "group web has 177 tokens in 3 documents, fewer than one row of seq_len 4,096" in line
    assert (
        stage_warnings.unfilled_stream_groups("s", {"web": {**groups["web"], "epochs_requested": 0}}, 4096)
        == []
    )
    rows_in, kept = {"de": 100, "fr": 100, "xx": 5}, {"de": 9, "fr": 11, "xx": 0}
    (line,) = stage_warnings.language_removal("heuristics", rows_in, kept)
    assert line.startswith("heuristics: removed 91.0% of language de (91 of 100 rows)")
    results = [{"metrics": {"warnings": ["a"]}}, {"metrics": {}}, {}]
    assert stage_warnings.summary_lines(results) == ["warning: a"]


def _commit_tokens(spark, folder, docs):
    from corpus.engine.manifest import write_manifest
    from corpus.engine.write import write_output
    from corpus.stages.base import StageOutput

    df = spark.createDataFrame(docs, "id string, source string, input_ids array<int>, n_tokens int")
    counts = write_output(StageOutput(rows=df, balanced=False, shards=1), str(folder))
    meta = {"tokenizer": "t.json", "tokenizer_sha256": "0" * 64, "vocab_size": 512, "eos_id": 0, "pad_id": 1}
    write_manifest(
        str(folder), {**counts, "rows_in": counts["rows_kept"], "balanced": False, "metrics": meta}
    )


def test_stream_longer_than_the_corpus_and_all_removed_heuristics_warn(spark, tmp_path):
    from corpus.engine.runner import run_stage_for_test

    sizes = [60, 60, 57]  # 177 tokens
    docs = [
        {"id": f"d{i}", "source": "web", "input_ids": list(range(2, 2 + n)), "n_tokens": n}
        for i, n in enumerate(sizes)
    ]
    _commit_tokens(spark, tmp_path / "tok", docs)
    m = run_stage_for_test(
        spark,
        "stream",
        {"pack": "truncate", "seq_len": 4096, "epochs": {"web": 1.0}},
        str(tmp_path / "out"),
        inputs={"input": str(tmp_path / "tok")},
        name="pretrain_4k",
    )
    assert m["rows_kept"] == 0
    warnings = m["metrics"]["warnings"]
    assert any("group web has 177 tokens in 3 documents" in w for w in warnings), warnings
    assert any(w.startswith("pretrain_4k: 0 rows written from 3 input rows") for w in warnings), warnings
    on_disk = json.loads((tmp_path / "out" / "pretrain_4k" / "_manifest.json").read_text())
    assert on_disk["metrics"]["warnings"] == warnings

    # A filter that removes (here: all) German rows says so, per language.
    rows = [{"id": f"g{i}", "text": f"Kurzer Satz Nummer {i}.", "lang": "de"} for i in range(12)]
    rows += [{"id": f"e{i}", "text": "Too short.", "lang": "en"} for i in range(3)]
    from corpus.engine.manifest import write_manifest
    from corpus.engine.write import write_output
    from corpus.stages.base import StageOutput

    df = spark.createDataFrame(rows, "id string, text string, lang string")
    counts = write_output(StageOutput(rows=df, balanced=False, shards=1), str(tmp_path / "docs"))
    write_manifest(str(tmp_path / "docs"), {**counts, "rows_in": counts["rows_kept"], "balanced": False})
    m = run_stage_for_test(
        spark, "heuristics", {}, str(tmp_path / "out"), inputs={"input": str(tmp_path / "docs")}
    )
    warnings = m["metrics"]["warnings"]
    assert any(w.startswith("heuristics: removed 100.0% of language de (12 of 12 rows)") for w in warnings)
    assert not any("language en" in w for w in warnings)  # 3 rows: too few to judge
    assert any(
        w.startswith("heuristics: 0 rows written from 15 input rows; removed: filter:") for w in warnings
    )
