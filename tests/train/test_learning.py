"""The trainer learns: on real English articles (byte-level tokens), the LM loss falls well
below the unigram entropy of the data within a few hundred optimizer steps, and so does the
loss on held-out articles (never trained on), reported in bits per byte as well."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from corpus.tokens.tokenizer import sha256
from corpus.train.config import TrainConfig
from corpus.train.data import is_heldout, write_stream
from corpus.train.loop import train
from corpus.train.report import read_metrics

SEQ, PAD, EOS, OFFSET = 128, 0, 1, 2  # byte b -> id b + 2
HOLDOUT = 0.1


def byte_tokenizer(out: Path) -> Path:
    """A real byte-level ``tokenizers`` tokenizer whose id for byte ``b`` is ``b + OFFSET``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    # GPT-2's byte -> printable character map, the alphabet of ByteLevel
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    extra = iter(range(256, 512))
    chars = {b: chr(b) if b in printable else chr(next(extra)) for b in range(256)}
    vocab = {"<|pad|>": PAD, "<|endoftext|>": EOS} | {chars[b]: b + OFFSET for b in range(256)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|pad|>", "<|endoftext|>"])
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    assert tok.encode("hé!").ids == [b + OFFSET for b in "hé!".encode()]
    return out / "tokenizer.json"


def byte_rows(docs: list[tuple[str, str]]) -> tuple[list[dict], list[int]]:
    """Documents (bytes + EOS) laid end to end and cut into rows of SEQ: truncate packing, each
    piece with its document id."""
    ids, owner = [], []
    for name, text in docs:
        toks = [b + OFFSET for b in text.encode("utf-8")] + [EOS]
        ids += toks
        owner += [name] * len(toks)
    rows = []
    for start in range(0, len(ids) - SEQ + 1, SEQ):
        lens, names = [], []
        for name in owner[start : start + SEQ]:
            if names and names[-1] == name:
                lens[-1] += 1
            else:
                lens.append(1)
                names.append(name)
        rows.append(
            {"input_ids": ids[start : start + SEQ], "doc_lens": lens, "pad_len": 0, "doc_ids": names,
             "source": "web", "bucket": "gold"}
        )  # fmt: skip
    return rows, ids


def entropy(ids: list[int]) -> float:
    counts = Counter(ids)
    return -sum(c / len(ids) * math.log(c / len(ids)) for c in counts.values())


@pytest.mark.slow
def test_loss_falls_well_below_unigram_entropy(tmp_path, shared_data):
    gold = json.loads((shared_data / "extraction/article_extraction_benchmark/ground-truth.json").read_text())
    docs = [(key, v["articleBody"]) for key, v in sorted(gold.items()) if v.get("articleBody")]
    rows, ids = byte_rows(docs)
    unigram = entropy(ids)
    held = [text for key, text in docs if is_heldout(key, HOLDOUT)]
    val_unigram = entropy([b + OFFSET for t in held for b in t.encode("utf-8")] + [EOS] * len(held))
    tok = byte_tokenizer(tmp_path / "tok")
    write_stream(
        str(tmp_path / "tokens"), rows, SEQ, rows_per_group=256,
        metrics={"tokenizer": str(tok), "tokenizer_sha256": sha256(tok)},
    )  # fmt: skip

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
            "eval": {"holdout": HOLDOUT, "every_steps": 100, "rows": 32},
            "checkpoint": {"every_steps": 10_000},
        }
    )
    summary = train(cfg, tmp_path / "run", quiet=True)
    records = read_metrics(tmp_path / "run")
    first = records[0]["lm_loss"]
    last = sum(r["lm_loss"] for r in records[-10:]) / 10
    evals = [r for r in records if r.get("val_loss") is not None]
    val = evals[-1]
    print(
        f"unigram entropy {unigram:.3f} nats/byte; lm loss {first:.3f} -> {last:.3f} over {len(records)} "
        f"steps; held-out ({len(held)} of {len(docs)} articles): unigram {val_unigram:.3f}, "
        f"val loss {val['val_loss']:.3f} nats/token = {val['val_bpb']:.3f} bits/byte"
    )
    assert first > unigram  # starts near log(vocab): nothing is learned before training
    assert last < 0.75 * unigram
    assert [r["step"] for r in evals] == [100, 200]  # every 100 steps; 200 is also the stage end
    assert val["val_loss"] < 0.8 * val_unigram  # the model generalises to documents it never saw
    # one byte per token, except EOS targets: in the loss, but no bytes of text
    assert val["val_loss"] / math.log(2) < val["val_bpb"] < 1.01 * val["val_loss"] / math.log(2)
    assert summary["stages"]["pretrain_4k"]["val_bpb"] == val["val_bpb"]
