"""``corpus train CONFIG`` (default command, as mounted under the top-level app) trains past
the 32K stage switch; ``corpus train export RUN --hf DIR`` writes a folder transformers loads
with the trained weights, balance biases and the current RoPE theta."""

from __future__ import annotations

import os

import pytest
import torch
import typer
import yaml
from typer.testing import CliRunner

from corpus.tokens.tokenizer import sha256
from corpus.tokens.tokenizer import train as train_tokenizer
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


@pytest.mark.slow  # trains through three stages, then exports
def test_train_then_export_loads_in_transformers(tmp_path):
    from transformers import AutoTokenizer, Glm4MoeForCausalLM

    tok = train_tokenizer(
        ["the trainer reads token streams", "and exports to transformers"] * 20, 300, tmp_path / "tok"
    )
    meta = {"tokenizer": str(tok), "tokenizer_sha256": sha256(tok)}
    cfg = three_stage_config(tmp_path, steps_per_stage=(2, 2, 1), stream_metrics=meta)
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    run, hf_dir = tmp_path / "run", tmp_path / "hf"
    runner = CliRunner()
    res = runner.invoke(_app(), ["train", str(config_file), "--output", str(run), "--max-steps", "6"])
    assert res.exit_code == 0, res.output
    assert "midtrain_32k" in res.output and "load max/mean" in res.output
    assert (run / "metrics.jsonl").is_file() and (run / "loss.png").stat().st_size > 0

    umask = os.umask(0o022)
    try:
        res = runner.invoke(_app(), ["train", "export", str(run), "--hf", str(hf_dir)])
    finally:
        os.umask(umask)
    assert res.exit_code == 0, res.output
    # readable by others (safetensors alone writes 0600), tokenizer beside the weights
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"):
        assert (hf_dir / name).stat().st_mode & 0o777 == 0o644, name
    assert (hf_dir / "tokenizer.json").read_bytes() == tok.read_bytes()
    hf_tok = AutoTokenizer.from_pretrained(hf_dir)
    assert hf_tok.eos_token == "<|endoftext|>" and hf_tok.decode(hf_tok("streams")["input_ids"]) == "streams"
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


def test_help_shows_the_short_form():
    res = CliRunner().invoke(_app(), ["train", "--help"])
    assert res.exit_code == 0 and "corpus train pipelines/train.yaml" in res.output


def test_user_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: []\nmodel: {}\nbatch: {global_tokens: 8}\nsurprise: 1\n")
    res = CliRunner().invoke(_app(), ["train", str(bad)])
    assert res.exit_code == 2 and "surprise" in res.output and "stages" in res.output
    res = CliRunner().invoke(_app(), ["train", "export", str(tmp_path), "--hf", str(tmp_path / "hf")])
    assert res.exit_code == 2 and "no checkpoint" in res.output
