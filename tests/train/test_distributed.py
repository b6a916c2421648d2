"""Two gloo processes under torchrun train exactly what one process trains with the same global
batch: the same micro-batches reach the model, DDP averages their gradients, the balance
counts are all-reduced."""

from __future__ import annotations

import os
import subprocess
import sys

import torch
import yaml

from corpus.train import checkpoint
from corpus.train.loop import train
from corpus.train.report import read_metrics
from tests.train.helpers import three_stage_config


def test_two_processes_equal_one(tmp_path, repo_root):
    cfg = three_stage_config(tmp_path, steps_per_stage=(3, 2, 1))
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    one, two = tmp_path / "one", tmp_path / "two"
    train(cfg, one, quiet=True)

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "corpus.train", str(config_file), "--output", str(two)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "world 2" in proc.stdout

    a, b = read_metrics(one), read_metrics(two)
    assert len(a) == len(b) >= 6 and {r["stage"] for r in a} == {s.name for s in cfg.stages}
    for ra, rb in zip(a, b, strict=True):
        assert (ra["tokens"], ra["batch_rows"], ra["stage"]) == (rb["tokens"], rb["batch_rows"], rb["stage"])
        for key in ("loss", "lm_loss", "mtp_loss", "aux_loss", "expert_load"):
            assert abs(ra[key] - rb[key]) <= 1e-5, (ra["step"], key, ra[key], rb[key])
    wa, _ = checkpoint.load(checkpoint.latest(one / "checkpoints"))
    wb, meta = checkpoint.load(checkpoint.latest(two / "checkpoints"))
    assert meta["world_size"] == 2
    for k, v in wa["model"].items():
        torch.testing.assert_close(v, wb["model"][k], rtol=0, atol=1e-5, msg=k)
