"""Small token streams and train configs for the trainer tests (CPU, fp32, one thread)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from corpus.train.config import TrainConfig
from corpus.train.data import write_stream

TINY_MODEL: dict[str, Any] = {
    "vocab_size": 64,
    "hidden_size": 32,
    "intermediate_size": 64,
    "moe_intermediate_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "first_k_dense_replace": 1,
    "routed_scaling_factor": 1.5,
}


def random_rows(n: int, seq_len: int, vocab: int, seed: int) -> list[dict]:
    """Rows of 1-3 documents of random tokens, a third of them padded at the end."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        pad = rng.choice([0, 0, seq_len // 4])
        body = seq_len - pad
        cuts = sorted(rng.sample(range(1, body), k=rng.randint(0, 2)))
        docs = [b - a for a, b in zip([0, *cuts], [*cuts, body], strict=True)] + ([pad] if pad else [])
        ids = [rng.randrange(2, vocab) for _ in range(body)] + [0] * pad
        rows.append({"input_ids": ids, "doc_lens": docs, "pad_len": pad, "source": "web", "bucket": "high"})
    return rows


def three_stage_config(
    root: Path,
    *,
    steps_per_stage: tuple[int, int, int] = (4, 3, 2),
    stream_metrics: dict | None = None,
    **overrides,
) -> TrainConfig:
    """Random-token streams for a 3-stage table (seq 16 -> 32 -> 64) and a config over them:
    the full batch is 128 tokens, so stage budgets are ``steps x 128`` once warmup is done."""
    stages = []
    for (name, seq, theta, pack), steps in zip(
        [
            ("pretrain_4k", 16, 1e4, "truncate"),
            ("midtrain_32k", 32, 1e6, "best_fit"),
            ("midtrain_128k", 64, 1e6, "best_fit"),
        ],
        steps_per_stage,
        strict=True,
    ):
        folder = root / "tokens" / name
        rows = random_rows(48, seq, TINY_MODEL["vocab_size"], seed=seq)
        write_stream(str(folder), rows, seq, 16, pack, metrics=stream_metrics)
        stages.append(
            {
                "name": name,
                "seq_len": seq,
                "tokens": steps * 128,
                "rope_theta": theta,
                "streams": [str(folder)],
                "packing": pack,
                "phase": "pretrain" if name.startswith("pretrain") else "midtrain",
            }
        )
    raw = {
        "run": {"name": "test", "output": str(root / "run"), "seed": 0, "threads": 1},
        "model": TINY_MODEL,
        "stages": stages,
        "optim": {"lr": 1e-2, "min_lr": 1e-3, "warmup_frac": 0.1, "ns_dtype": "float32"},
        "batch": {"global_tokens": 128, "micro_tokens": 1, "warmup_frac": 0.1},
        "data": {"lanes": 2, "shuffle_tokens": 128},
        "checkpoint": {"every_steps": 1000, "keep_last": 2},
    }
    for section, values in overrides.items():
        raw[section] = {**raw.get(section, {}), **values}
    return TrainConfig.model_validate(raw)
