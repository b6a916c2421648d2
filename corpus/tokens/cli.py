"""``corpus tokenizer ...``: train a tokenizer from a dataset without running a pipeline.

Reads Parquet with pyarrow (no Spark): only ``id`` and ``text`` are read, a hashed sample
of ``--sample-docs`` documents is kept (the same rule the tokenize stage uses, so the same
dataset and seed give the same tokenizer either way) and fed to the trainer in hash order.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Annotated

import typer

from corpus.errors import UserError

tokenizer_app = typer.Typer(add_completion=False, no_args_is_help=True)


@tokenizer_app.callback()
def tokenizer_group() -> None:
    """Train tokenizers for the tokenize stage."""


def parquet_files(spec: str) -> list[str]:
    """Shards of a committed dataset folder (from its manifest), every ``*.parquet`` under a
    plain folder (``_removed`` excluded), or the files a glob matches."""
    from corpus.engine.manifest import read_manifest

    p = Path(spec)
    if p.is_dir():
        manifest = read_manifest(str(p))
        if manifest is not None:
            return [str(p / s["file"]) for s in manifest.get("shards", [])]
        return sorted(str(f) for f in p.rglob("*.parquet") if "_removed" not in f.parts)
    return sorted(glob.glob(spec, recursive=True))


def sample_texts(files: list[str], sample_docs: int, seed: int) -> list[str]:
    """The hashed training sample of the documents in ``files``, in hash order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus.tokens import tokenizer as tk

    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    rate = min(1.0, sample_docs / max(total, 1))
    parts = []
    for f in files:
        pf = pq.ParquetFile(f)
        missing = {"id", "text"} - set(pf.schema_arrow.names)
        if missing:
            raise UserError(f"{f}: no column(s) {sorted(missing)} (need document rows with id and text)")
        for batch in pf.iter_batches(batch_size=8192, columns=["id", "text"]):
            parts.append(tk.sample_batch(batch, seed, rate))
    if not parts:
        return []
    return tk.sample_texts(pa.Table.from_batches(parts))


@tokenizer_app.command("train")
def train_cmd(
    input: Annotated[str, typer.Option("--input", help="dataset folder or glob of Parquet files")],
    vocab_size: Annotated[int, typer.Option("--vocab-size", help="vocabulary size, specials included")],
    out: Annotated[Path, typer.Option("--out", help="folder to write tokenizer.json and its config to")],
    sample_docs: Annotated[int, typer.Option("--sample-docs", help="documents to train on")] = 50_000,
    seed: Annotated[int, typer.Option(help="seed of the document sample")] = 0,
) -> None:
    """Train a byte-level BPE with GLM-4.5's special tokens on a sample of a dataset."""
    from corpus.tokens import tokenizer as tk

    files = parquet_files(input)
    if not files:
        raise UserError(f"--input {input}: no Parquet files found")
    texts = sample_texts(files, sample_docs, seed)
    if not texts:
        raise UserError(f"--input {input}: no documents with text to train on")
    try:
        path = tk.train(texts, vocab_size, out)
    except ValueError as e:
        raise UserError(f"--vocab-size: {e}") from None
    from tokenizers import Tokenizer

    size = Tokenizer.from_file(str(path)).get_vocab_size()
    typer.echo(
        f"{path}: vocab {size:,} (asked {vocab_size:,}), {len(texts):,} documents, sha256 {tk.sha256(path)}"
    )
