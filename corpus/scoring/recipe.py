"""Classifier recipes: a YAML file that says what to train (:class:`TrainConfig`) and on which
rows — a committed dataset folder with a label column, and/or files matched by globs, each
with a fixed label (proxy labels from provenance, e.g. the Debian package a page ships in).

``corpus classifier train RECIPE --out DIR`` reads the rows here and trains with the same code
as the ``train_classifier`` stage (:func:`corpus.scoring.train.fit`).

Source units: ``file`` (one document per file), ``line`` (one per non-empty line) or ``chunk``
(paragraphs joined into documents of about ``chunk_chars`` characters); formats
``text`` or ``html`` (text by inscriptis, which keeps every visible block, tables included).
A source with ``heldout: true`` is evaluation only (e.g. documents of packages the model never
trained on); when any source sets ``heldout``, the others are training only and the hashed
split is off.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Literal

import numpy as np
import xxhash
import yaml
from pydantic import BaseModel, ConfigDict, Field

from corpus.scoring.train import TrainConfig


class FileSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    glob: str
    label: float
    unit: Literal["file", "line", "chunk"] = "file"
    chunk_chars: int = Field(
        1500, gt=0, description="unit chunk: paragraphs joined up to this many characters"
    )
    format: Literal["text", "html"] = "text"
    heldout: bool | None = None
    max_items: int | None = Field(None, gt=0, description="keep this many (chosen by hash of path/line)")
    min_chars: int = Field(200, ge=0, description="skip shorter documents (navigation pages, indexes)")


class DatasetSource(BaseModel):
    """A committed dataset folder: labels from ``label_column`` (rows with a null label are
    left out), or the constant ``label`` for every row (e.g. crawl pages as negatives)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str
    text_column: str = "text"
    label_column: str = "annotation"
    label: float | None = None
    heldout: bool | None = None
    max_items: int | None = Field(None, gt=0)
    min_chars: int = Field(0, ge=0)


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    classifier: TrainConfig
    files: list[FileSource] = Field(default_factory=list)
    dataset: DatasetSource | None = None
    seed: int = 0


def load(path: str) -> Recipe:
    """The recipe at ``path`` (YAML, ``yaml.safe_load``). Raises ``FileNotFoundError`` /
    ``ValueError`` (pydantic) with the field that is wrong."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"recipe {path!r} does not exist")
    return Recipe.model_validate(yaml.safe_load(p.read_text()) or {})


def _html_text(raw: str) -> str:
    from inscriptis import get_text

    return get_text(raw)


def chunks(text: str, size: int) -> list[str]:
    """Consecutive paragraphs (split at blank lines) joined until a chunk reaches ``size``
    characters; a long manual page becomes several documents of about that size."""
    out, cur = [], ""
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        cur = f"{cur}\n\n{para}" if cur else para
        if len(cur) >= size:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def _rank(key: str, seed: int) -> int:
    return xxhash.xxh64_intdigest(f"{seed}\x1f{key}\x1fsample".encode())


def read_files(src: FileSource, base_dir: Path, seed: int) -> tuple[list[str], list[str]]:
    """``(keys, texts)`` of one file source, in a deterministic order. Raises
    ``FileNotFoundError`` when the glob matches nothing."""
    pattern = src.glob if Path(src.glob).is_absolute() else str(base_dir / src.glob)
    paths = sorted(glob.glob(pattern, recursive=True))
    if not paths:
        raise FileNotFoundError(f"recipe source {src.glob!r} matches no file")
    items: list[tuple[str, str]] = []
    for p in paths:
        raw = Path(p).read_text(encoding="utf-8", errors="replace")
        text = _html_text(raw) if src.format == "html" and src.unit != "line" else raw
        if src.unit == "line":
            items.extend((f"{p}:{i}", line) for i, line in enumerate(raw.splitlines()) if line.strip())
        elif src.unit == "chunk":
            items.extend((f"{p}#{i}", c) for i, c in enumerate(chunks(text, src.chunk_chars)))
        else:
            items.append((p, text))
    items = [(k, t) for k, t in items if len(t.strip()) >= src.min_chars]
    if src.max_items is not None and len(items) > src.max_items:
        items = sorted(items, key=lambda kt: _rank(kt[0], seed))[: src.max_items]
    return [k for k, _ in items], [t for _, t in items]


def read_rows(recipe: Recipe, base_dir: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray | None]:
    """``(keys, texts, labels, heldout)`` of every source; ``heldout`` None = hashed split."""
    keys: list[str] = []
    texts: list[str] = []
    labels: list[float] = []
    flags: list[bool | None] = []
    if recipe.dataset is not None:
        import pyarrow.dataset as ds

        d = recipe.dataset
        folder = d.path if Path(d.path).is_absolute() else str(base_dir / d.path)
        from corpus.tokens.cli import parquet_files

        cols = ["id", d.text_column] + ([d.label_column] if d.label is None else [])
        table = ds.dataset(parquet_files(folder), format="parquet").to_table(columns=cols)
        if d.label is None:
            table = table.filter(table.column(d.label_column).is_valid())
        items = [
            (k, t, d.label if d.label is not None else lab)
            for k, t, lab in zip(
                table.column("id").to_pylist(),
                table.column(d.text_column).to_pylist(),
                table.column(d.label_column).to_pylist() if d.label is None else [None] * table.num_rows,
                strict=True,
            )
            if t is not None and len(t.strip()) >= d.min_chars
        ]
        if d.max_items is not None and len(items) > d.max_items:
            items = sorted(items, key=lambda x: _rank(x[0], recipe.seed))[: d.max_items]
        keys += [k for k, _, _ in items]
        texts += [t for _, t, _ in items]
        labels += [lab for _, _, lab in items]
        flags += [d.heldout] * len(items)
    for src in recipe.files:
        k, t = read_files(src, base_dir, recipe.seed)
        keys += k
        texts += t
        labels += [src.label] * len(k)
        flags += [src.heldout] * len(k)
    if not keys:
        raise ValueError("the recipe names no rows (give `dataset:` and/or `files:`)")
    explicit = any(f is not None for f in flags)
    heldout = np.array([bool(f) for f in flags]) if explicit else None
    return keys, texts, np.asarray(labels, dtype=np.float64), heldout
