"""``corpus train CONFIG`` (default command, as mounted under the top-level app) trains past
the 32K stage switch; ``corpus train export RUN --hf DIR`` writes a folder transformers loads
with the trained weights, balance biases and the current RoPE theta."""

from __future__ import annotations

import torch
import typer
import yaml
from typer.testing import CliRunner

from corpus.train import checkpoint
from corpus.train.cli import train_app
from corpus.train.model import GLM4MoE, ModelConfig
from tests.train.helpers import three_stage_config


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def other() -> None:  # a sibling command, as in corpus/cli.py
        pass

    app.add_typer(train_app, name="train")
    return app


def test_train_then_export_loads_in_transformers(tmp_path):
    from transformers import Glm4MoeForCausalLM

    cfg = three_stage_config(tmp_path, steps_per_stage=(2, 2, 1))
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    run, hf_dir = tmp_path / "run", tmp_path / "hf"
    runner = CliRunner()
    res = runner.invoke(_app(), ["train", str(config_file), "--output", str(run), "--max-steps", "6"])
    assert res.exit_code == 0, res.output
    assert "midtrain_32k" in res.output and "load max/mean" in res.output
    assert (run / "metrics.jsonl").is_file() and (run / "loss.png").stat().st_size > 0

    res = runner.invoke(_app(), ["train", "export", str(run), "--hf", str(hf_dir)])
    assert res.exit_code == 0, res.output
    tensors, meta = checkpoint.load(checkpoint.resolve(run))
    assert meta["state"]["step"] == 6 and meta["model_config"]["rope_theta"] == 1e6
    ours = GLM4MoE(ModelConfig.from_dict(meta["model_config"]))
    ours.load_state_dict(tensors["model"])
    hf = Glm4MoeForCausalLM.from_pretrained(hf_dir).eval()
    assert hf.config.rope_parameters["rope_theta"] == 1e6
    ids = torch.randint(2, 64, (2, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = (ours.eval()(ids, return_logits=True).logits - hf(ids).logits).abs().max().item()
    assert diff < 1e-5


def test_user_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: []\nmodel: {}\nbatch: {global_tokens: 8}\nsurprise: 1\n")
    res = CliRunner().invoke(_app(), ["train", str(bad)])
    assert res.exit_code == 2 and "surprise" in res.output and "stages" in res.output
    res = CliRunner().invoke(_app(), ["train", "export", str(tmp_path), "--hf", str(tmp_path / "hf")])
    assert res.exit_code == 2 and "no checkpoint" in res.output
