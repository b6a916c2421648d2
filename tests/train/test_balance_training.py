"""Loss-free balancing inside the trainer: on a skewed input distribution (Zipf-distributed
token ids through a router with a wide initialisation), the per-step bias update (rate 0.001,
from the step's expert counts) brings max/mean expert load down over 200 steps. The LR is 0, so
the router weights stay put and only the bias can move the load (with rate 0 as well the
model does not change at all, so a control run would only measure data noise: ~6% between
the first 5 and the last 20 steps when measured). (That the bias changes selection but not gating weights is checked on the
forward in ``test_moe_balance_forward.py``.)"""

from __future__ import annotations

import random

import pytest
import torch

from corpus.train import checkpoint
from corpus.train.config import TrainConfig
from corpus.train.data import write_stream
from corpus.train.loop import train
from corpus.train.report import read_metrics
from tests.train.helpers import TINY_MODEL

SEQ, ROWS, STEPS, RATE = 32, 16, 200, 0.001


def skewed_rows(n: int) -> list[dict]:
    rng = random.Random(0)
    ids = list(range(2, 50))
    weights = [1 / (i + 1) for i in range(len(ids))]  # Zipf: a few ids dominate
    return [
        {
            "input_ids": rng.choices(ids, weights, k=SEQ),
            "doc_lens": [SEQ],
            "pad_len": 0,
            "source": "web",
            "bucket": "b",
        }
        for _ in range(n)
    ]


def run(tmp_path, rate: float) -> tuple[float, float, torch.Tensor]:
    """(load over the first 5 steps, load over the last 20, final balance biases)."""
    cfg = TrainConfig.model_validate(
        {
            "run": {"name": f"balance-{rate}", "seed": 0, "threads": 1},
            "model": {
                **TINY_MODEL,
                "n_routed_experts": 8,
                "num_experts_per_tok": 2,
                "initializer_range": 0.3,
            },
            "stages": [
                {
                    "name": "pretrain_4k",
                    "seq_len": SEQ,
                    "tokens": STEPS * ROWS * SEQ,
                    "rope_theta": 1e4,
                    "streams": [str(tmp_path / "tokens")],
                }  # fmt: skip
            ],
            "optim": {"lr": 0.0, "min_lr": 0.0, "ns_dtype": "float32"},
            "batch": {"global_tokens": ROWS * SEQ, "micro_tokens": ROWS * SEQ, "warmup_frac": 0.0},
            "balance": {"bias_rate": rate, "bias_until_frac": 1.0},
            "data": {"lanes": 1, "shuffle_tokens": 64 * SEQ},
            "checkpoint": {"every_steps": 10_000},
        }
    )
    out = tmp_path / f"run-{rate}"
    train(cfg, out, quiet=True)
    loads = [r["expert_load"] for r in read_metrics(out)]
    assert len(loads) == STEPS
    tensors, _ = checkpoint.load(checkpoint.latest(out / "checkpoints"))
    bias = torch.stack([v for k, v in tensors["model"].items() if k.endswith("e_score_correction_bias")])
    return sum(loads[:5]) / 5, sum(loads[-20:]) / 20, bias


@pytest.mark.slow  # 200 training steps
def test_bias_balances_skewed_load(tmp_path):
    write_stream(str(tmp_path / "tokens"), skewed_rows(512), SEQ, rows_per_group=128)
    before, after, bias = run(tmp_path, RATE)
    print(
        f"\nmax/mean expert load (8 experts, top-2, {ROWS * SEQ} tokens/step; 1.0 = balanced): "
        f"first 5 steps {before:.2f} -> last 20 steps {after:.2f}"
    )
    assert before > 1.6  # the skewed input really concentrates the routing
    assert after < 0.75 * before
    assert bias.abs().max() > 0
    # every step moves each bias by rate * (sign - mean(sign)): at most 2 x rate, and centred,
    # so the biases of a layer keep summing to 0 instead of drifting together
    assert bias.abs().max() <= 2 * RATE * STEPS + 1e-6
    assert bias.sum(dim=-1).abs().max() < 1e-4
