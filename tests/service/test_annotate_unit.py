"""The annotate stage's pure parts: score parsing, templates, one row against a real server."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from corpus.engine.service import KeyCache, Secret, http_client
from corpus.spec import SpecError, load_pipeline_dict
from corpus.stages.annotate import Job, Params, annotate_batch, annotate_one, parse_score, request_key
from tests.service.server import OpenAIServer

KEY = "sk-unit-51b0c7d2e9a84f36"
ROOT = Path(__file__).resolve().parents[2]
EDU = str(ROOT / "classifiers/prompts/edu_additive_0_5.txt")


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("3", 3.0),
        ("Score: 4", 4.0),
        ("Educational score: 3", 3.0),
        ("**4**/5", 4.0),
        ("I would rate it 2 out of 5.", 2.0),
        ("The extract covers basics (points 1 and 2).\nEducational score: 2", 2.0),
        ("Score - **5**", 5.0),
        ("score: 2.5", 2.5),
        ("I'd say 3.", 3.0),
        ("Sure! Here is my rating.\nEducational score: **4**/5 because it explains things.", 4.0),
    ],
)
def test_parse_score_tolerates_chatter(answer, score):
    assert parse_score(answer) == score


@pytest.mark.parametrize(
    "answer", ["", None, "I cannot rate this text.", "Score: 7", "between 2 and 4", "9/10"]
)
def test_parse_score_rejects_answers_without_one_score(answer):
    assert parse_score(answer) is None


def test_shipped_templates_have_the_slot_and_ask_for_a_score():
    for name in ("edu_additive_0_5.txt", "math_sci_0_5.txt"):
        text = (ROOT / "classifiers/prompts" / name).read_text(encoding="utf-8")
        assert text.count("{text}") == 1
        assert "Score: <points>" in text


def _pipeline(template: str) -> dict:
    return {
        "name": "t",
        "output": "out/t",
        "stages": [
            {"kind": "dataset", "paths": ["x.jsonl"]},
            {"kind": "annotate", "template": template, "model": "m", "sample_size": 10},
        ],
    }


def test_template_without_slot_or_missing_is_one_line_spec_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Rate this page from 0 to 5.", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_pipeline_dict(_pipeline(str(bad)), "p.yaml")
    msg = str(err.value)
    assert "\n" not in msg and "annotate" in msg and "{text}" in msg
    with pytest.raises(SpecError, match="not found"):
        load_pipeline_dict(_pipeline(str(tmp_path / "nope.txt")), "p.yaml")
    assert load_pipeline_dict(_pipeline(EDU), "p.yaml").stages[1].params.sample_size == 10


def test_sample_size_xor_fraction():
    with pytest.raises(ValueError, match="exactly one"):
        Params(template=EDU, model="m")
    with pytest.raises(ValueError, match="exactly one"):
        Params(template=EDU, model="m", sample_size=3, sample_fraction=0.5)


def _job(base_url: str, cache_dir: str, per_task: int = 4) -> Job:
    return Job(
        backend="openai",
        url=base_url + "/chat/completions",
        model="test-model",
        template="Rate: {text}",
        template_sha256="x",
        max_chars=1000,
        text_column="text",
        temperature=0.0,
        max_tokens=8,
        timeout_s=5.0,
        per_task=per_task,
        retries=2,
        backoff_s=0.0,
        max_backoff_s=0.0,
        cache_dir=cache_dir,
    )


def test_one_row_cache_hit_failure_kinds(tmp_path):
    with OpenAIServer(api_key=KEY) as srv:
        job = _job(srv.base_url, str(tmp_path / "cache"))
        cache = KeyCache(job.cache_dir)
        client = http_client(5.0, 4)
        secret = Secret(KEY)

        ok = annotate_one("doc-9 a page", job, client, cache, secret)
        assert (ok.score, ok.raw, ok.error, ok.cached, ok.calls) == (3.0, "Score: 3", None, False, 1)
        again = annotate_one("doc-9 a page", job, client, cache, secret)
        assert again.cached and again.score == 3.0 and srv.calls["doc-9"] == 1

        chatter = annotate_one("doc-1 CHATTER", job, client, cache, secret)
        assert chatter.score == 4.0

        nonsense = annotate_one("doc-2 NONSENSE", job, client, cache, secret)
        assert nonsense.score is None and nonsense.error.startswith("unparseable:") and not nonsense.transient
        assert nonsense.raw == "I cannot rate this text."

        failing = annotate_one("doc-3 FAIL500", job, client, cache, secret)
        assert failing.transient and failing.error.startswith("transient: HTTP 500")
        assert srv.calls["doc-3"] == 3

        # failures are never cached: asking again pays again
        annotate_one("doc-2 NONSENSE", job, client, cache, secret)
        annotate_one("doc-3 FAIL500", job, client, cache, secret)
        assert srv.calls["doc-2"] == 2 and srv.calls["doc-3"] == 6
        assert set(cache.keys()) == {request_key(job, "doc-9 a page"), request_key(job, "doc-1 CHATTER")}

        refused = annotate_one("doc-4", job, client, cache, Secret("wrong"))
        assert refused.error.startswith("refused: HTTP 401") and not refused.transient


def test_batch_keeps_every_row_with_its_error_and_bounds_concurrency(tmp_path):
    texts = [f"doc-{i} SLOW" for i in range(10)] + ["doc-10 FAIL500", "doc-11 NONSENSE"]
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(12)], "text": texts})
    with OpenAIServer(slow_s=0.2) as srv:
        out, results = annotate_batch(batch, _job(srv.base_url, str(tmp_path / "c"), per_task=3), None)
        assert 2 <= srv.max_in_flight <= 3
    assert out.num_rows == 12 and out.column("id").to_pylist() == batch.column("id").to_pylist()
    assert out.column("annotation").to_pylist() == [float(i % 6) for i in range(10)] + [None, None]
    errors = out.column("annotation_error").to_pylist()
    assert (
        errors[:10] == [None] * 10
        and errors[10].startswith("transient:")
        and errors[11].startswith("unparseable:")
    )
    assert out.column("annotation_retry").to_pylist() == [None] * 10 + [errors[10], None]
    assert sum(r.calls for r in results) == 10 + 3 + 1


def test_transformers_backend_model_that_does_not_exist_is_a_field_error(tmp_path):
    with pytest.raises(ValueError, match="not installed"):
        Params(template=EDU, backend="transformers", model="pkg:no_such_pkg_xyz/m.gguf", sample_size=3)
    with pytest.raises(ValueError, match="does not exist"):
        Params(template=EDU, backend="transformers", model=str(tmp_path / "none.gguf"), sample_size=3)


def test_outside_files_fingerprint_the_template_and_a_local_model(tmp_path):
    from corpus.stages.annotate import outside_files

    (tmp_path / "t.txt").write_text("Rate: {text}", encoding="utf-8")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    remote = Params(template=str(tmp_path / "t.txt"), model="m", sample_size=1)
    assert [(f.path, f.kind) for f in outside_files(remote, tmp_path)] == [(str(tmp_path / "t.txt"), "file")]
    local = Params(template=str(tmp_path / "t.txt"), backend="transformers", model=str(model), sample_size=1)
    assert [(f.path, f.kind) for f in outside_files(local, tmp_path)] == [
        (str(tmp_path / "t.txt"), "file"),
        (str(model), "file"),
    ]
