"""Schedules as functions of tokens seen, checked at the stage-table boundaries."""

from __future__ import annotations

import math

import pytest

from corpus.train.config import TrainConfig
from corpus.train.schedule import Schedule

PRETRAIN = 23_000  # tokens: the recipe's 23T of pre-training scaled so milestones land on integers
TOTAL = 29_000  # plus 6_000 of mid-training
STAGES = [  # budgets 23000 / 4000 / 2000
    {"name": "pretrain_4k", "seq_len": 40, "tokens": 23_000, "rope_theta": 1e4, "streams": ["a"]},
    {
        "name": "midtrain_32k",
        "seq_len": 320,
        "tokens": 4_000,
        "rope_theta": 1e6,
        "streams": ["b"],
        "packing": "best_fit",
        "phase": "midtrain",
    },
    {
        "name": "midtrain_128k",
        "seq_len": 1280,
        "tokens": 2_000,
        "rope_theta": 1e6,
        "streams": ["c"],
        "packing": "best_fit",
        "phase": "midtrain",
    },
]


def make_config(stages=STAGES, **sections) -> TrainConfig:
    raw = {
        "model": {},
        "stages": stages,
        "batch": {"global_tokens": 1280, "micro_tokens": 80},
        "optim": {"warmup_frac": 0.01},
        "data": {"lanes": 2},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return TrainConfig.model_validate(raw)


@pytest.fixture
def sched() -> Schedule:
    cfg = make_config()
    assert (cfg.total_tokens, cfg.pretrain_tokens) == (TOTAL, PRETRAIN)
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
    for boundary in (23_000, 27_000):
        assert sched.lr(boundary - 1) > sched.lr(boundary) > sched.lr(boundary + 1)
    t = 23_000
    expected = 2.5e-5 + 0.5 * (2.5e-4 - 2.5e-5) * (1 + math.cos(math.pi * (t - warm) / (TOTAL - warm)))
    assert sched.lr(t) == pytest.approx(expected)


def test_step_lr_is_never_zero_and_ends_on_min_lr(sched):
    """A step uses the curve at its end: step 0 (a 320-token batch) already moves."""
    assert sched.lr(0) == 0.0
    long_warmup = Schedule(make_config(optim={"warmup_frac": 0.1}))
    first = long_warmup.step_lr(0)
    assert first == pytest.approx(2.5e-4 * 320 / (0.1 * TOTAL)) and first > 0
    # the step starting at 27_000 (2 rows of 1280) reaches the end of the table: min_lr
    assert sched.step_lr(27_000) == pytest.approx(2.5e-5) and sched.lr(27_000) > 2.5e-5


def test_stage_table_boundaries(sched):
    points = (0, 22_999, 23_000, 26_999, 27_000, 28_999, 29_000)
    assert [sched.stage_index(t) for t in points] == [0, 0, 1, 1, 2, 2, 2]
    assert (
        sched.rope_theta(22_999) == 1e4
        and sched.rope_theta(23_000) == 1e6
        and sched.rope_theta(28_999) == 1e6
    )
    assert (sched.seq_len(22_999), sched.seq_len(23_000), sched.seq_len(27_000)) == (40, 320, 1280)


def test_batch_warmup_quarter_to_full_over_500_of_23000(sched):
    warm = 500  # 500/23000 of the 23000 pre-training tokens
    assert sched.batch_tokens(0) == pytest.approx(1280 / 4)
    assert sched.batch_tokens(warm / 2) == pytest.approx(1280 * (0.25 + 0.75 / 2))
    assert sched.batch_tokens(warm - 1e-9) == pytest.approx(1280)
    assert sched.batch_tokens(warm) == 1280 and sched.batch_tokens(TOTAL) == 1280
    # rows: 320/40 = 8 at the start, full 32 rows of 40 after warmup; 320-token rows: 4; 1280-token rows: 1,
    # rounded down to the lanes x micro_rows unit (2 x 2 rows of 40; 2 x 1 row after), at least one unit
    assert [sched.micro_rows(t) for t in (0, 23_000, 27_000)] == [2, 1, 1]
    assert sched.batch_rows(0) == 8
    assert sched.batch_rows(50) == 8  # 416 tokens = 10.4 rows -> 8
    assert sched.batch_rows(warm) == 32
    assert sched.batch_rows(23_000) == 4
    assert sched.batch_rows(27_000) == 2


def test_milestones_at_fractions_of_pretraining_tokens(sched):
    """15T of 23T pre-training tokens: the switch lands at 15/23 of pre-training, not of the run."""
    switch = 15_000
    assert sched.bias_rate(0) == 0.001 and sched.bias_rate(switch - 1) == 0.001
    assert sched.bias_rate(switch) == 0.0 and sched.bias_rate(TOTAL) == 0.0
    assert sched.mtp_weight(switch - 1) == 0.3 and sched.mtp_weight(switch) == 0.1

    total_basis = Schedule(make_config(milestones={"basis": "total"}))
    at = 15 / 23 * TOTAL  # 18913.04...
    assert total_basis.bias_rate(at - 1) == 0.001 and total_basis.bias_rate(at + 1) == 0.0
    assert total_basis.mtp_weight(at - 1) == 0.3 and total_basis.mtp_weight(at + 1) == 0.1
    assert total_basis.batch_tokens(500) < 1280 <= total_basis.batch_tokens(500 / 23_000 * TOTAL)


def test_stage_table_checks():
    with pytest.raises(ValueError, match="must come before"):
        make_config(stages=[STAGES[1], STAGES[0]])
    with pytest.raises(ValueError, match="at least one `phase: pretrain`"):
        make_config(stages=STAGES[1:])
    from corpus.train.config import config_warnings

    assert config_warnings(make_config()) == []
    low = [STAGES[0], {**STAGES[1], "rope_theta": 1e4}, STAGES[2]]
    (msg,) = config_warnings(make_config(stages=low))
    assert "midtrain_32k" in msg and "1e+06" in msg


def test_demo_config_keeps_the_recipe_shape(repo_root):
    """pipelines/train.yaml parses, switches RoPE at the 32K stage, and asks for exactly the
    streams pipelines/tokens_demo.yaml and midtrain_demo.yaml build (same folders, lengths,
    packing; vocab fits)."""
    import yaml

    from corpus.train.config import config_warnings, load_config

    cfg = load_config(repo_root / "pipelines/train.yaml")
    s = Schedule(cfg)
    ends = s.stage_ends()
    pre = [st for st in cfg.stages if st.phase == "pretrain"]
    mid = [st for st in cfg.stages if st.phase == "midtrain"]
    assert pre and [st.name for st in mid] == ["midtrain_32k", "midtrain_128k"]
    assert s.rope_theta(ends[len(pre) - 1] - 1) == 1e4 and s.rope_theta(ends[len(pre) - 1]) == 1e6
    assert config_warnings(cfg) == []
    assert s.lr(s.total) == pytest.approx(cfg.optim.min_lr)
    assert cfg.balance.bias_until_frac == pytest.approx(15 / 23, abs=1e-4)
    assert cfg.mtp.switch_frac == pytest.approx(15 / 23, abs=1e-4)
    demo = repo_root / "pipelines/tokens_demo.yaml"
    if demo.is_file():
        spec = yaml.safe_load(demo.read_text())
        built = {
            f"{s['output']}/{st['name']}": (st["seq_len"], st["pack"])
            for s in (spec, yaml.safe_load((repo_root / "pipelines/midtrain_demo.yaml").read_text()))
            for st in s["stages"]
            if st["kind"] == "stream"
        }
        for st in cfg.stages:
            assert [built[p] for p in st.streams] == [(st.seq_len, st.packing)] * len(st.streams)
        vocab = [st.get("train_vocab_size") for st in spec["stages"] if st["kind"] == "tokenize"]
        assert vocab and vocab[0] is not None and vocab[0] <= cfg.model["vocab_size"]
