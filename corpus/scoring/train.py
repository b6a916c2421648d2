"""Train a scoring classifier from labelled rows and write it as a folder (the artifact):
the model, ``model_card.json`` and ``MODEL_CARD.md``. Shared by the ``train_classifier``
stage and ``corpus classifier train``.

Rows: ``keys`` (ids, or groups such as a package name: a group is never split between train
and held-out), ``texts``, float ``labels`` (an annotation score, or 0/1 proxy labels), and an
optional ``heldout`` flag per row that overrides the hashed split (a recipe can hold out whole
sources). Held-out rows are never trained on; the card's metrics are measured on them.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from corpus.scoring import bins, metrics, split
from corpus.scoring.encoders import Encoder


class FastTextOptions(BaseModel):
    """fastText supervised options (DCLM's quality model: bigrams, dim 256, 5 epochs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dim: int = Field(64, ge=2, multiple_of=2, description="vector size (even: quantisation splits it in 2s)")
    epoch: int = Field(10, ge=1)
    lr: float = Field(0.2, gt=0)
    word_ngrams: int = Field(2, ge=1)
    min_count: int = Field(2, ge=1)
    minn: int = Field(0, ge=0, description="character n-grams from this length (0 = none)")
    maxn: int = Field(0, ge=0)
    bucket: int = Field(200_000, ge=1000, description="hashed n-gram rows (memory: bucket x dim x 4 B)")
    quantize: bool = True
    cutoff: int = Field(50_000, ge=0, description="words + n-grams kept when quantising (0 = all)")


class HeadOptions(BaseModel):
    """Embedding + ridge regression head (FineWeb-Edu: frozen encoder + linear regression)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    encoder: Encoder = "use_multilingual"
    encoder_model: str | None = Field(
        None, description="local sentence-transformers folder (encoder sentence_transformers)"
    )
    alpha: float = Field(1.0, gt=0, description="ridge L2 penalty")
    embedding_column: str | None = Field(
        None, description="reuse this column's vectors (must come from the same encoder) instead of encoding"
    )


class TrainConfig(BaseModel):
    """What to train and how to describe it. ``labels_are`` and ``data`` go verbatim into the
    model card: say honestly where the labels come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    model: Literal["fasttext", "embedding_head"] = "fasttext"
    threshold: float = Field(3.0, description="decision threshold on the label (AUC, up-sampling)")
    edges: list[float] | None = Field(None, description="bin edges of the label; default integer bins")
    heldout_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    max_chars: int | None = Field(
        None, gt=0, description="characters read per text (fastText 10,000, head 2,000)"
    )
    fasttext: FastTextOptions = FastTextOptions()
    head: HeadOptions = HeadOptions()
    labels_are: str = Field("annotation scores", description="model card: what the labels are")
    data: str = Field("", description="model card: where the rows came from")
    reproduce: str = Field("", description="model card: the command that rebuilds this classifier")

    @model_validator(mode="after")
    def _sorted_edges(self) -> TrainConfig:
        if self.edges is not None and (not self.edges or sorted(self.edges) != list(self.edges)):
            raise ValueError("edges must be a non-empty ascending list")
        return self

    def chars(self) -> int:
        return self.max_chars or (10_000 if self.model == "fasttext" else 2_000)


def _fit_fasttext(cfg: TrainConfig, texts, labels, edges, seed: int, out: Path) -> dict[str, Any]:
    from corpus.scoring import fasttext_model

    o = cfg.fasttext
    with tempfile.TemporaryDirectory() as tmp:
        train_file = f"{tmp}/train.txt"
        fasttext_model.write_training_file(train_file, texts, bins.assign(labels, edges), cfg.chars())
        name = "model.ftz" if o.quantize else "model.bin"
        args = fasttext_model.train(
            train_file,
            str(out / name),
            dim=o.dim,
            epoch=o.epoch,
            lr=o.lr,
            word_ngrams=o.word_ngrams,
            min_count=o.min_count,
            minn=o.minn,
            maxn=o.maxn,
            bucket=o.bucket,
            seed=seed,
            quantize=o.quantize,
            cutoff=o.cutoff,
        )
    return {
        "kind": "fasttext",
        "file": name,
        "edges": list(edges),
        "values": bins.bin_values(labels, edges),
        "max_chars": cfg.chars(),
        "fasttext": args,
    }


def _fit_head(cfg: TrainConfig, labels: np.ndarray, x: np.ndarray, out: Path) -> dict[str, Any]:
    from sklearn.linear_model import Ridge

    from corpus.scoring import encoders

    o = cfg.head
    ridge = Ridge(alpha=o.alpha).fit(x, labels)
    np.savez(out / "head.npz", coef=ridge.coef_.astype(np.float32), intercept=np.float64(ridge.intercept_))
    return {
        "kind": "embedding_head",
        "file": "head.npz",
        "encoder": o.encoder,
        "encoder_model": o.encoder_model,
        "encoder_id": encoders.model_id(o.encoder, o.encoder_model),
        "dim": int(x.shape[1]),
        "alpha": o.alpha,
        "clip": [float(labels.min()), float(labels.max())],
        "max_chars": cfg.chars(),
    }


def fit(
    cfg: TrainConfig,
    keys: Sequence[str | None],
    texts: Sequence[str | None],
    labels: np.ndarray,
    out_dir: str,
    seed: int,
    heldout: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Train on the non-held-out rows, measure on the held-out ones, write the folder.

    Returns the model card (also written as ``model_card.json`` / ``MODEL_CARD.md``).
    Raises ``ValueError`` when either side of the split is empty or labels are constant."""
    from corpus.scoring import classifier

    labels = np.asarray(labels, dtype=np.float64)
    test = (
        split.heldout_mask(keys, seed, cfg.heldout_fraction) if heldout is None else np.asarray(heldout, bool)
    )
    tr = ~test
    if not tr.any() or not test.any():
        raise ValueError(
            f"classifier {cfg.name!r}: the split left {int(tr.sum())} training and {int(test.sum())} held-out rows"
        )
    edges = cfg.edges or bins.default_edges(labels[tr])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pick = lambda xs, m: [x for x, k in zip(xs, m, strict=True) if k]  # noqa: E731
    t0 = time.perf_counter()
    if cfg.model == "embedding_head" and embeddings is None:  # encode once: fit and both evaluations
        from corpus.scoring import encoders

        o = cfg.head
        embeddings = encoders.encode(texts, o.encoder, o.encoder_model, cfg.chars(), threads)
    if cfg.model == "fasttext":
        model = _fit_fasttext(cfg, pick(texts, tr), labels[tr], edges, seed, out)
    else:
        model = _fit_head(cfg, labels[tr], embeddings[tr], out)
    train_s = time.perf_counter() - t0
    card: dict[str, Any] = {"name": cfg.name, "model": model}
    (out / classifier.CARD).write_text(json.dumps(card))  # score() reads the model section
    emb_te = embeddings[test] if embeddings is not None else None
    pred_test = classifier.score(str(out), pick(texts, test), emb_te, threads)
    pred_train = classifier.score(
        str(out), pick(texts, tr), embeddings[tr] if embeddings is not None else None, threads
    )
    card.update(
        {
            "labels_are": cfg.labels_are,
            "data": cfg.data,
            "reproduce": cfg.reproduce,
            "threshold": cfg.threshold,
            "seed": seed,
            "rows": {"train": int(tr.sum()), "heldout": int(test.sum())},
            "label_histogram": {
                str(b): int(n)
                for b, n in zip(*np.unique(bins.assign(labels, edges), return_counts=True), strict=True)
            },
            "metrics": {
                "heldout": metrics.evaluate(labels[test], pred_test, cfg.threshold, edges),
                "train": metrics.evaluate(labels[tr], pred_train, cfg.threshold, edges),
            },
            "train_seconds": round(train_s, 2),
            "config": cfg.model_dump(),
            "bytes": (out / model["file"]).stat().st_size,
        }
    )
    (out / classifier.CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (out / "MODEL_CARD.md").write_text(render_card(card))
    return card


def _fmt(x: Any) -> str:
    return "n/a" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)


def render_card(card: dict[str, Any]) -> str:
    """``MODEL_CARD.md``: what the model is, what its labels are, held-out metrics, how to rebuild."""
    m, h = card["model"], card["metrics"]["heldout"]
    what = (
        f"fastText supervised, {len(m['values'])} bins (edges {m['edges']}), score = expected bin value"
        if m["kind"] == "fasttext"
        else f"ridge head (alpha {m['alpha']}) on {m['encoder_id']} embeddings ({m['dim']} dims), clipped to {m['clip']}"
    )
    conf = "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in h["confusion"])
    head = "| true \\ predicted bin | " + " | ".join(str(i) for i in range(len(h["confusion"]))) + " |"
    conf_rows = "\n".join(f"| {i} |" + line[1:] for i, line in enumerate(conf.splitlines()))
    return f"""# {card["name"]}

**Model:** {what}; reads the first {m["max_chars"]:,} characters; file `{m["file"]}` ({card["bytes"]:,} bytes).

**Labels:** {card["labels_are"]}

**Data:** {card["data"] or "(not stated)"}

Rows: {card["rows"]["train"]:,} train, {card["rows"]["heldout"]:,} held out (never trained on). Seed {card["seed"]}.

## Held-out metrics

| metric | held-out | train |
|---|---|---|
| Spearman | {_fmt(h["spearman"])} | {_fmt(card["metrics"]["train"]["spearman"])} |
| AUC (label >= {card["threshold"]}) | {_fmt(h["auc"])} | {_fmt(card["metrics"]["train"]["auc"])} |
| MAE | {_fmt(h["mae"])} | {_fmt(card["metrics"]["train"]["mae"])} |
| F1 per bin | {h["f1_per_bin"]} | {card["metrics"]["train"]["f1_per_bin"]} |

Confusion (held-out; rows = true bin, columns = bin of the predicted score):

{head}
|{"---|" * (len(h["confusion"]) + 1)}
{conf_rows}

## Reproduce

```
{card["reproduce"] or "(not stated)"}
```
"""
