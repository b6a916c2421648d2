"""The trainer learns: on real English articles (byte-level tokens), the LM loss falls well
below the unigram entropy of the data within a few hundred optimizer steps."""

from __future__ import annotations

import json
import math
from collections import Counter

from corpus.train.config import TrainConfig
from corpus.train.data import write_stream
from corpus.train.loop import train
from corpus.train.report import read_metrics

SEQ, PAD, EOS, OFFSET = 128, 0, 1, 2  # byte b -> id b + 2


def byte_rows(texts: list[str]) -> tuple[list[dict], list[int]]:
    """Documents (bytes + EOS) laid end to end and cut into rows of SEQ: truncate packing."""
    ids, bounds = [], []
    for t in texts:
        ids += [b + OFFSET for b in t.encode("utf-8")] + [EOS]
        bounds.append(len(ids))
    rows, doc = [], 0
    for start in range(0, len(ids) - SEQ + 1, SEQ):
        stop, cuts = start + SEQ, [start]
        while doc < len(bounds) and bounds[doc] <= start:
            doc += 1
        k = doc
        while k < len(bounds) and bounds[k] < stop:
            cuts.append(bounds[k])
            k += 1
        cuts.append(stop)
        docs = [b - a for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
        rows.append(
            {"input_ids": ids[start:stop], "doc_lens": docs, "pad_len": 0, "source": "web", "bucket": "gold"}
        )
    return rows, ids


def test_loss_falls_well_below_unigram_entropy(tmp_path, shared_data):
    gold = json.loads((shared_data / "extraction/article_extraction_benchmark/ground-truth.json").read_text())
    texts = [v["articleBody"] for v in gold.values() if v.get("articleBody")]
    rows, ids = byte_rows(texts)
    counts = Counter(ids)
    unigram = -sum(c / len(ids) * math.log(c / len(ids)) for c in counts.values())
    write_stream(str(tmp_path / "tokens"), rows, SEQ, rows_per_group=256)

    steps, batch_rows = 200, 8
    cfg = TrainConfig.model_validate(
        {
            "run": {"name": "learning", "seed": 0, "threads": 1},
            "model": {
                "vocab_size": 256 + OFFSET,
                "hidden_size": 64,
                "intermediate_size": 128,
                "moe_intermediate_size": 32,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "head_dim": 16,
                "n_routed_experts": 4,
                "num_experts_per_tok": 2,
                "first_k_dense_replace": 1,
            },
            "stages": [
                {
                    "name": "pretrain_4k",
                    "seq_len": SEQ,
                    "tokens": steps * batch_rows * SEQ,
                    "rope_theta": 1e4,
                    "streams": [str(tmp_path / "tokens")],
                }
            ],
            "optim": {"lr": 2e-2, "min_lr": 2e-3, "warmup_frac": 0.02, "ns_dtype": "float32"},
            "batch": {
                "global_tokens": batch_rows * SEQ,
                "micro_tokens": batch_rows * SEQ,
                "warmup_frac": 0.0,
            },
            "data": {"lanes": 1, "shuffle_tokens": 512 * SEQ},
            "checkpoint": {"every_steps": 10_000},
        }
    )
    train(cfg, tmp_path / "run", quiet=True)
    records = read_metrics(tmp_path / "run")
    first = records[0]["lm_loss"]
    last = sum(r["lm_loss"] for r in records[-10:]) / 10
    print(
        f"unigram entropy {unigram:.3f} nats/byte; lm loss {first:.3f} -> {last:.3f} over {len(records)} steps"
    )
    assert first > unigram  # starts near log(vocab): nothing is learned before training
    assert last < 0.75 * unigram
