"""The annotate stage through the real runner (Spark local[2]) against a real 127.0.0.1 server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.engine.runner import run_stage_for_test
from tests.service.server import OpenAIServer, expected_score

MARKERS = {3: "FAIL500", 5: "NONSENSE", 7: "FLAKY429", 8: "GARBAGE", 9: "CHATTER", 10: "FLAKY500"}


def _docs(spark, tmp_path: Path, n: int) -> str:
    """A committed ``dataset`` stage with ``n`` documents ``doc-<i>`` (markers above)."""
    src = tmp_path / "docs.jsonl"
    with src.open("w") as f:
        for i in range(n):
            text = f"doc-{i} {MARKERS.get(i, '')} Ein Absatz über Katzen und Mathematik."
            f.write(json.dumps({"id": f"d{i:03d}", "text": text}) + "\n")
    out = str(tmp_path / "src")
    run_stage_for_test(spark, "dataset", {"paths": [str(src)]}, out, name="docs")
    return f"{out}/docs"


@pytest.fixture
def docs(spark, tmp_path):
    return _docs(spark, tmp_path, 14)


def _params(srv: OpenAIServer, template: Path, **kw) -> dict:
    return {
        "template": str(template),
        "base_url": srv.base_url,
        "model": "test-model",
        "concurrency": 4,
        "retries": 2,
        "backoff_s": 0.0,
        **kw,
    }


@pytest.fixture
def template(tmp_path) -> Path:
    p = tmp_path / "rate.txt"
    p.write_text("Rate this from 0 to 5. {text}\nScore: <points>", encoding="utf-8")
    return p


def test_annotate_keeps_failures_caches_successes_and_retries_only_failures(spark, tmp_path, docs, template):
    out = str(tmp_path / "out")
    with OpenAIServer() as srv:
        m = run_stage_for_test(
            spark, "annotate", _params(srv, template, sample_fraction=1.0), out, inputs={"input": docs}
        )
        first = dict(srv.calls)
        rows = {r["id"]: r for r in spark.read.parquet(f"{out}/annotate").collect()}
        assert m["rows_in"] == 14 and m["rows_kept"] == 14 and m["metrics"]["not_sampled"] == 0
        assert m["transient_failures"] == 1
        assert m["metrics"]["failed"] == 2 and m["metrics"]["annotated"] == 12
        assert m["metrics"]["requests"] == sum(first.values())
        for i in range(14):
            r = rows[f"d{i:03d}"]
            if i == 3:
                assert r["annotation"] is None and r["annotation_error"].startswith("transient: HTTP 500")
                assert r["annotation_retry"] == r["annotation_error"]
            elif i == 5:
                assert r["annotation"] is None and r["annotation_error"].startswith("unparseable")
                assert r["annotation_retry"] is None and r["annotation_raw"] == "I cannot rate this text."
            elif i == 9:
                assert r["annotation"] == 4.0
            else:
                assert r["annotation"] == expected_score(i) and r["annotation_error"] is None
            assert r["text"].startswith(f"doc-{i} ")  # input columns kept
        assert first["doc-3"] == 3  # 1 + 2 retries
        assert first["doc-7"] == first["doc-8"] == first["doc-10"] == 2  # retried once, then fine
        assert all(first[f"doc-{i}"] == 1 for i in range(14) if i not in (3, 7, 8, 10))

        srv.reset_counts()
        srv.healed = True
        m2 = run_stage_for_test(
            spark, "annotate", _params(srv, template, sample_fraction=1.0), out, inputs={"input": docs}
        )
        # only the rows that failed are paid for again (failures are never cached)
        assert dict(srv.calls) == {"doc-3": 1, "doc-5": 1}
        assert m2["transient_failures"] == 0 and m2["metrics"]["cache_hits"] == 12
    again = {r["id"]: r["annotation"] for r in spark.read.parquet(f"{out}/annotate").collect()}
    assert again["d003"] == expected_score(3)


def test_sample_is_seeded_nested_and_accounted(spark, tmp_path, docs, template):
    with OpenAIServer() as srv:

        def sample(name: str, **kw) -> tuple[dict, set[str]]:
            out = str(tmp_path / name)
            m = run_stage_for_test(
                spark, "annotate", _params(srv, template, **kw), out, inputs={"input": docs}
            )
            return m, {r["id"] for r in spark.read.parquet(f"{out}/annotate").select("id").collect()}

        m5, five = sample("s5", sample_size=5)
        _, eight = sample("s8", sample_size=8)
        _, five_again = sample("s5b", sample_size=5)
        _, other_split = sample("s5c", sample_size=5, concurrency=1)
    assert len(five) == 5 and len(eight) == 8 and five < eight and five == five_again == other_split
    assert m5["balanced"] is False and m5["rows_in"] == 14
    assert m5["metrics"]["sample_rows"] == 5 and m5["metrics"]["not_sampled"] == 9


def test_missing_key_variable_and_unreachable_endpoint_stop_before_any_data(spark, tmp_path, docs, template):
    from corpus.errors import UserError

    with OpenAIServer() as srv:
        params = _params(srv, template, sample_size=3, api_key_env="CORPUS_TEST_NO_SUCH_KEY")
        with pytest.raises(UserError, match="CORPUS_TEST_NO_SUCH_KEY") as err:
            run_stage_for_test(spark, "annotate", params, str(tmp_path / "o1"), inputs={"input": docs})
        assert "\n" not in str(err.value)
        gone = srv.base_url
    with pytest.raises(UserError, match="unreachable"):
        run_stage_for_test(
            spark,
            "annotate",
            {**_params(srv, template, sample_size=3), "base_url": gone},
            str(tmp_path / "o2"),
            inputs={"input": docs},
        )
    assert not (tmp_path / "o2" / "annotate").exists()
