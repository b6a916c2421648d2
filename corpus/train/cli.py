"""``corpus train``: ``corpus train CONFIG.yaml`` trains, ``corpus train export CKPT --hf DIR`` exports.

Mounted by ``corpus/cli.py`` as ``app.add_typer(train_app, name="train")``; ``python -m
corpus.train`` runs the same app, which is what ``torchrun --nproc_per_node K -m corpus.train
CONFIG.yaml`` starts on every rank. A first argument that is not a sub-command name is the
config of the default ``run`` command, so the short form needs no sub-command.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from typer.core import TyperGroup

err = Console(stderr=True, highlight=False)


class _RunByDefault(TyperGroup):
    """``corpus train FILE.yaml ...`` means ``corpus train run FILE.yaml ...``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


train_app = typer.Typer(
    cls=_RunByDefault,
    help="Train the GLM-4.5-shaped MoE on token streams, or export a checkpoint to transformers.\n\n"
    "\b\nExamples:\n"
    "  corpus train pipelines/train.yaml              train (short for: corpus train run CONFIG)\n"
    "  corpus train pipelines/train.yaml -o out/x     ... into another run folder\n"
    "  corpus train export out/train/demo --hf hf/    newest checkpoint -> transformers folder",
    no_args_is_help=True,
)


@train_app.command("run")
def run(
    config: Path = typer.Argument(..., help="train YAML (see pipelines/train.yaml)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="run folder (default: run.output)"),
    resume: bool = typer.Option(
        True,
        "--resume/--no-resume",
        help="continue from the newest checkpoint; "
        "--no-resume starts over and replaces the folder's checkpoints",
    ),
    max_steps: int | None = typer.Option(
        None, "--max-steps", help="stop (with a checkpoint) once the run has made this many optimizer steps"
    ),
) -> None:
    """Train through the config's stage table (under torchrun: one process per rank)."""
    from corpus.train.config import ConfigError, load_config
    from corpus.train.data import StreamError
    from corpus.train.loop import train

    try:
        cfg = load_config(config)
        train(cfg, output, resume=resume, max_steps=max_steps)
    except (ConfigError, StreamError, FileNotFoundError) as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e


@train_app.command("export")
def export(
    ckpt: Path = typer.Argument(..., help="a checkpoint folder (step-*) or a run folder (its newest)"),
    hf: Path = typer.Option(..., "--hf", help="output folder for config.json + model.safetensors"),
    bf16: bool = typer.Option(False, "--bf16", help="store weights in bfloat16 (router bias stays fp32)"),
) -> None:
    """Write a checkpoint as a transformers ``Glm4MoeForCausalLM`` folder."""
    import logging

    import torch

    from corpus.train import checkpoint
    from corpus.train.data import StreamError, stream_tokenizer
    from corpus.train.hf_export import export_hf
    from corpus.train.model import ModelConfig

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = checkpoint.resolve(ckpt)
        tensors, meta = checkpoint.load(path)
    except FileNotFoundError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e
    cfg = ModelConfig.from_dict(meta["model_config"])
    streams = [f for s in meta.get("train_config", {}).get("stages", []) for f in s.get("streams", [])]
    try:
        tokenizer = stream_tokenizer(streams) if streams else None
    except StreamError:  # the streams are gone: weights only
        tokenizer = None
    out = export_hf(tensors["model"], cfg, hf, dtype=torch.bfloat16 if bf16 else None, tokenizer=tokenizer)
    with_tok = f", tokenizer {tokenizer}" if tokenizer else " (no tokenizer: the run's streams name none)"
    err.print(
        f"exported {path} (step {meta['state']['step']}, RoPE theta {cfg.rope_theta:g}) to {out}{with_tok}"
    )
