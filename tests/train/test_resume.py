"""Resume is exact: N steps straight == N/2 steps, a fresh process state from the checkpoint,
then the rest (same losses and weights, bitwise on fp32 CPU) — across a stage change."""

from __future__ import annotations

import json

import pytest
import torch

from corpus.train import checkpoint
from corpus.train.loop import train
from corpus.train.report import read_metrics
from tests.train.helpers import three_stage_config

KEYS = (
    "step",
    "stage",
    "tokens",
    "loss",
    "lm_loss",
    "mtp_loss",
    "aux_loss",
    "lr",
    "expert_load",
    "rope_theta",
)


@pytest.mark.slow  # two training runs (one interrupted, one through)
def test_resume_is_exact(tmp_path):
    cfg = three_stage_config(tmp_path)
    straight, split = tmp_path / "straight", tmp_path / "split"
    summary = train(cfg, straight, quiet=True)
    assert summary["complete"]
    full = read_metrics(straight)
    n = len(full)
    assert [r["stage"] for r in full].count("midtrain_32k") >= 2
    # stop in the middle of the 32K stage: after the RoPE switch, with a non-zero data cursor
    half = next(i for i, r in enumerate(full) if r["stage"] == "midtrain_32k") + 2
    first = train(cfg, split, max_steps=half, quiet=True)
    assert not first["complete"] and first["steps"] == half
    meta = json.loads((checkpoint.latest(split / "checkpoints") / "meta.json").read_text())
    assert (
        meta["state"]["stage"] == 1
        and meta["state"]["stage_micro"] > 0
        and meta["state"]["rope_theta"] == 1e6
    )

    torch.manual_seed(1234)  # a different process state must not matter
    train(cfg, split, quiet=True)
    resumed = read_metrics(split)
    assert len(resumed) == n
    for a, b in zip(full, resumed, strict=True):
        assert {k: a[k] for k in KEYS} == {k: b[k] for k in KEYS}  # bitwise: same floats
    wa, _ = checkpoint.load(checkpoint.latest(straight / "checkpoints"))
    wb, _ = checkpoint.load(checkpoint.latest(split / "checkpoints"))
    for k, v in wa["model"].items():
        assert torch.equal(v, wb["model"][k]), k
    assert any("e_score_correction_bias" in k and v.abs().sum() > 0 for k, v in wa["model"].items())


def test_checkpoints_atomic_and_pruned(tmp_path):
    root = tmp_path / "ck"
    for step in (1, 2, 3, 4):
        checkpoint.save(root, step, {"w": torch.full((2,), float(step))}, {"step": step}, keep_last=2)
    (root / ".step-00000005.tmp").mkdir()  # an interrupted write is never picked up
    assert [p.name for p in checkpoint.checkpoint_dirs(root)] == ["step-00000003", "step-00000004"]
    tensors, meta = checkpoint.load(checkpoint.latest(root))
    assert meta == {"step": 4} and torch.equal(tensors["w"], torch.full((2,), 4.0))
    assert checkpoint.resolve(tmp_path / "ck") == root / "step-00000004"
    with pytest.raises(FileNotFoundError):
        checkpoint.resolve(tmp_path / "nothing")


def test_no_resume_starts_over(tmp_path):
    cfg = three_stage_config(tmp_path, steps_per_stage=(2, 1, 1))
    out = tmp_path / "run"
    train(cfg, out, max_steps=2, quiet=True)
    again = train(cfg, out, resume=False, max_steps=1, quiet=True)
    assert again["steps"] == 1 and [r["step"] for r in read_metrics(out)] == [1]
    assert [p.name for p in checkpoint.checkpoint_dirs(out / "checkpoints")] == ["step-00000001"]


def test_activation_checkpointing_trains_the_same(tmp_path):
    """Recomputing each block in backward changes memory, not the numbers."""
    plain = three_stage_config(tmp_path / "a", steps_per_stage=(2, 1, 1))
    ckpt = three_stage_config(
        tmp_path / "b", steps_per_stage=(2, 1, 1), run={"activation_checkpointing": True}
    )
    train(plain, tmp_path / "plain", max_steps=3, quiet=True)
    train(ckpt, tmp_path / "ckpt", max_steps=3, quiet=True)
    a, b = read_metrics(tmp_path / "plain"), read_metrics(tmp_path / "ckpt")
    assert len(a) == len(b) == 3
    for ra, rb in zip(a, b, strict=True):
        for key in ("loss", "lm_loss", "mtp_loss", "aux_loss", "grad_norm"):
            assert abs(ra[key] - rb[key]) <= 1e-6, (ra["step"], key)
