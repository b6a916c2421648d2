"""FSDP2 on two gloo processes (dense weights sharded by rows, experts sharded as whole
experts) trains exactly what one process trains with the same global batch, and its
checkpoints are world-size free: one written by 2 processes continues in 1 process with the
same next-step loss."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

from corpus.train import checkpoint
from corpus.train.loop import train
from corpus.train.report import read_metrics
from tests.train.helpers import three_stage_config

KEYS = ("loss", "lm_loss", "mtp_loss", "aux_loss", "expert_load", "grad_norm")


@pytest.mark.slow
def test_fsdp_two_processes_equal_one_and_resume_across_world_sizes(tmp_path, repo_root):
    # 6 steps over all three stages; checkpoints at steps 3 and 6 (and stage ends)
    cfg = three_stage_config(
        tmp_path, steps_per_stage=(3, 2, 1), checkpoint={"every_steps": 3, "keep_last": 5}
    )
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    one, two = tmp_path / "one", tmp_path / "two"
    train(cfg, one, quiet=True)

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "corpus.train", str(config_file), "--output", str(two)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "world 2" in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]  # nothing a user cannot act on

    a, b = read_metrics(one), read_metrics(two)
    assert len(a) == len(b) >= 6 and {r["stage"] for r in a} == {s.name for s in cfg.stages}
    for ra, rb in zip(a, b, strict=True):
        assert (ra["tokens"], ra["batch_rows"], ra["stage"]) == (rb["tokens"], rb["batch_rows"], rb["stage"])
        for key in KEYS:
            assert abs(ra[key] - rb[key]) <= 1e-5, (ra["step"], key, ra[key], rb[key])
    wa, _ = checkpoint.load(checkpoint.latest(one / "checkpoints"))
    wb, meta = checkpoint.load(checkpoint.latest(two / "checkpoints"))
    assert meta["world_size"] == 2
    for k, v in wa["model"].items():  # gathered full tensors, same names and shapes as 1 process
        torch.testing.assert_close(v, wb["model"][k], rtol=0, atol=1e-5, msg=k)

    # The 2-process checkpoint of step 3 continues in one process: step 4 as the 2-process run had it.
    resumed = tmp_path / "resumed"
    shutil.copytree(two / "checkpoints" / "step-00000003", resumed / "checkpoints" / "step-00000003")
    train(cfg, resumed, max_steps=4, quiet=True)
    (r4,) = [r for r in read_metrics(resumed) if r["step"] == 4]
    for key in KEYS:
        assert abs(r4[key] - b[3][key]) <= 1e-5, (key, r4[key], b[3][key])
