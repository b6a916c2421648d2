"""Schedules as functions of tokens seen, checked at the stage-table boundaries."""

from __future__ import annotations

import math

import pytest

from corpus.train.config import TrainConfig
from corpus.train.schedule import Schedule

TOTAL = 23_000  # tokens: the recipe's 23T scaled so milestones land on integers
STAGES = [  # budgets 17000 / 4000 / 2000
    {"name": "pretrain_4k", "seq_len": 40, "tokens": 17_000, "rope_theta": 1e4, "streams": ["a"]},
    {
        "name": "midtrain_32k",
        "seq_len": 320,
        "tokens": 4_000,
        "rope_theta": 1e6,
        "streams": ["b"],
        "packing": "best_fit",
    },
    {
        "name": "midtrain_128k",
        "seq_len": 1280,
        "tokens": 2_000,
        "rope_theta": 1e6,
        "streams": ["c"],
        "packing": "best_fit",
    },
]


@pytest.fixture
def sched() -> Schedule:
    cfg = TrainConfig.model_validate(
        {
            "model": {},
            "stages": STAGES,
            "batch": {"global_tokens": 1280, "micro_tokens": 80},
            "optim": {"warmup_frac": 0.01},
            "data": {"lanes": 2},
        }
    )
    assert cfg.total_tokens == TOTAL
    return Schedule(cfg)


def test_lr_warmup_then_one_cosine_across_stages(sched):
    warm = 0.01 * TOTAL
    assert sched.lr(0) == 0.0
    assert sched.lr(warm / 2) == pytest.approx(1.25e-4)
    assert sched.lr(warm) == pytest.approx(2.5e-4)
    mid = warm + (TOTAL - warm) / 2
    assert sched.lr(mid) == pytest.approx((2.5e-4 + 2.5e-5) / 2)
    assert sched.lr(TOTAL) == pytest.approx(2.5e-5)
    assert sched.lr(TOTAL + 500) == pytest.approx(2.5e-5)
    # one curve: no restart at the stage boundaries
    for boundary in (17_000, 21_000):
        assert sched.lr(boundary - 1) > sched.lr(boundary) > sched.lr(boundary + 1)
    t = 17_000
    expected = 2.5e-5 + 0.5 * (2.5e-4 - 2.5e-5) * (1 + math.cos(math.pi * (t - warm) / (TOTAL - warm)))
    assert sched.lr(t) == pytest.approx(expected)


def test_stage_table_boundaries(sched):
    assert [sched.stage_index(t) for t in (0, 16_999, 17_000, 20_999, 21_000, 22_999, 23_000)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        2,
    ]
    assert (
        sched.rope_theta(16_999) == 1e4
        and sched.rope_theta(17_000) == 1e6
        and sched.rope_theta(22_999) == 1e6
    )
    assert (sched.seq_len(16_999), sched.seq_len(17_000), sched.seq_len(21_000)) == (40, 320, 1280)


def test_batch_warmup_quarter_to_full_over_500_of_23000(sched):
    warm = 500  # 500/23000 of the planned 23000 tokens
    assert sched.batch_tokens(0) == pytest.approx(1280 / 4)
    assert sched.batch_tokens(warm / 2) == pytest.approx(1280 * (0.25 + 0.75 / 2))
    assert sched.batch_tokens(warm - 1e-9) == pytest.approx(1280)
    assert sched.batch_tokens(warm) == 1280 and sched.batch_tokens(TOTAL) == 1280
    # rows: 320/40 = 8 at the start, full 32 rows of 40 after warmup; 320-token rows: 4; 1280-token rows: 1,
    # rounded down to the lanes x micro_rows unit (2 x 2 rows of 40; 2 x 1 row after), at least one unit
    assert [sched.micro_rows(t) for t in (0, 17_000, 21_000)] == [2, 1, 1]
    assert sched.batch_rows(0) == 8
    assert sched.batch_rows(50) == 8  # 416 tokens = 10.4 rows -> 8
    assert sched.batch_rows(warm) == 32
    assert sched.batch_rows(17_000) == 4
    assert sched.batch_rows(21_000) == 2


def test_bias_rate_and_mtp_weight_switch_at_15_of_23(sched):
    switch = 15_000
    assert sched.bias_rate(0) == 0.001 and sched.bias_rate(switch - 1) == 0.001
    assert sched.bias_rate(switch) == 0.0 and sched.bias_rate(TOTAL) == 0.0
    assert sched.mtp_weight(switch - 1) == 0.3 and sched.mtp_weight(switch) == 0.1


def test_demo_config_keeps_the_recipe_shape(repo_root):
    """pipelines/train.yaml parses, switches RoPE at the 32K stage, and asks for exactly the
    streams pipelines/tokens_demo.yaml builds (same folders, lengths, packing; vocab fits)."""
    import yaml

    from corpus.train.config import load_config

    cfg = load_config(repo_root / "pipelines/train.yaml")
    s = Schedule(cfg)
    ends = s.stage_ends()
    assert [st.name for st in cfg.stages] == ["pretrain_4k", "midtrain_32k", "midtrain_128k"]
    assert s.rope_theta(ends[0] - 1) == 1e4 and s.rope_theta(ends[0]) == 1e6
    assert s.lr(s.total) == pytest.approx(cfg.optim.min_lr)
    assert cfg.balance.bias_until_frac == pytest.approx(15 / 23, abs=1e-4)
    assert cfg.mtp.switch_frac == pytest.approx(15 / 23, abs=1e-4)
    demo = repo_root / "pipelines/tokens_demo.yaml"
    if demo.is_file():
        spec = yaml.safe_load(demo.read_text())
        built = {
            f"{spec['output']}/{st['name']}": (st["seq_len"], st["pack"])
            for st in spec["stages"]
            if st["kind"] == "stream"
        }
        for st in cfg.stages:
            assert [built[p] for p in st.streams] == [(st.seq_len, st.packing)] * len(st.streams)
        vocab = [st.get("train_vocab_size") for st in spec["stages"] if st["kind"] == "tokenize"]
        assert vocab and vocab[0] is not None and vocab[0] <= cfg.model["vocab_size"]
