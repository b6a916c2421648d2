"""``python -m corpus.train CONFIG.yaml`` — the entry torchrun starts on every rank."""

from corpus.train.cli import train_app

train_app(prog_name="python -m corpus.train")
