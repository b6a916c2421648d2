"""Train the per-language code quality models of ``classifiers/code_quality`` from a recipe:
``python -m corpus.code.tier_train classifiers/code_quality/recipe.yaml --out classifiers/code_quality``.

Rows are real files of installed source trees (``roots``: the venv's ``site-packages``, the
Debian Go / Rust / JavaScript source packages, the JDK's ``src.zip``), kept or dropped and
given a language exactly as the ``repos`` stage does (:func:`corpus.code.files.classify`,
go-enry), labelled by :func:`corpus.code.tier.proxy_label`. Per model group and label at most
``max_files`` files are kept, chosen by hash. Whole folders are held out (``heldout_fraction``
of them, by hash of root + folder), so a held-out file's neighbours were never trained on.

Each group is trained with :func:`corpus.scoring.train.fit` into ``<out>/<group>/`` (a normal
classifier folder). ``<out>`` also gets ``heldout.json`` (the held-out files, root-relative,
with their labels: the tests re-read them), ``thresholds.json`` (per-group token-weighted
tier thresholds over all sampled files, the ``code_tier`` stage's artifact format, usable as
its ``thresholds_from``), and ``model_card.json`` / ``MODEL_CARD.md`` with a held-out
confusion table per language (proxy label x tier).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xxhash
import yaml
from pydantic import BaseModel, ConfigDict, Field

from corpus.code import tier
from corpus.scoring.train import FastTextOptions, TrainConfig

SITE_PACKAGES = "site-packages"
"""A root ``path`` with this value is the running interpreter's ``purelib`` (the venv's)."""
SKIP_DIRS = frozenset({"__pycache__", ".git"})


class Root(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    path: str = Field(description="a folder, a .zip of sources, or 'site-packages'")


class TierRecipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: int = 0
    roots: list[Root]
    heldout_fraction: float = Field(0.2, gt=0, lt=1)
    max_files: int = Field(2000, gt=0, description="per model group and label, chosen by hash")
    max_bytes: int = Field(300_000, gt=0, description="larger files are skipped")
    percentiles: list[float] = Field(default_factory=lambda: list(tier.DEFAULT_PERCENTILES))
    chars_per_token: float = 4.0
    fasttext: FastTextOptions = FastTextOptions()
    labels_are: str
    data: str
    reproduce: str


def load(path: str) -> TierRecipe:
    return TierRecipe.model_validate(yaml.safe_load(Path(path).read_text()) or {})


def root_path(root: Root) -> str:
    return sysconfig.get_paths()["purelib"] if root.path == SITE_PACKAGES else root.path


def walk(root: Root, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    """``(relative path, content)`` of every file under the root up to ``max_bytes``, sorted."""
    base = root_path(root)
    if base.endswith(".zip"):
        with zipfile.ZipFile(base) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                if not info.is_dir() and info.file_size <= max_bytes:
                    yield info.filename, z.read(info)
        return
    for d, dirs, files in os.walk(base, followlinks=True):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.endswith(".dist-info"))
        for f in sorted(files):
            p = os.path.join(d, f)
            try:
                if os.path.isfile(p) and os.path.getsize(p) <= max_bytes:
                    yield os.path.relpath(p, base), Path(p).read_bytes()
            except OSError:
                continue


def read_file(root: Root, rel: str) -> str | None:
    """One file's text (None when the root or the file is gone)."""
    base = root_path(root)
    try:
        if base.endswith(".zip"):
            with zipfile.ZipFile(base) as z:
                return z.read(rel).decode("utf-8")
        return Path(base, rel).read_text(encoding="utf-8")
    except (OSError, KeyError, UnicodeDecodeError):
        return None


def collect(recipe: TierRecipe, log=print) -> list[dict[str, Any]]:
    """Labelled files of every present root (missing roots are reported and skipped)."""
    from corpus.code import files as cf

    by_key: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for root in recipe.roots:
        if not os.path.exists(root_path(root)):
            log(f"note: root {root.name} ({root_path(root)}) is absent, skipped")
            continue
        n = 0
        for rel, content in walk(root, recipe.max_bytes):
            lang, reason = cf.classify(rel, content, recipe.max_bytes)
            if reason is not None:
                continue
            text = content.decode("utf-8")
            if not text.strip():
                continue
            label, why = tier.proxy_label(rel, text, lang)
            group = tier.group_of(lang)
            by_key.setdefault((group, label), []).append(
                {
                    "root": root.name,
                    "path": rel,
                    "lang": lang,
                    "group": group,
                    "label": label,
                    "why": why,
                    "text": text,
                }
            )
            n += 1
        log(f"{root.name}: {n} source files")
    rows = []
    for (_group, _label), items in sorted(by_key.items()):
        rank = lambda r: xxhash.xxh64_intdigest(f"{recipe.seed}\x1f{r['root']}\x1f{r['path']}".encode())  # noqa: E731
        rows += sorted(items, key=rank)[: recipe.max_files]
    return rows


def tokens(texts: list[str], chars_per_token: float) -> np.ndarray:
    """Token estimate per file, as the code_tier stage makes it (at least 1)."""
    return np.maximum(np.ceil(np.array([len(t) for t in texts], dtype=np.float64) / chars_per_token), 1.0)


def train(recipe: TierRecipe, out: str, log=print) -> dict[str, Any]:
    """Collect, train every group, write the folder (see the module docstring)."""
    from corpus.scoring import buckets, classifier, split
    from corpus.scoring import train as tr

    rows = collect(recipe, log)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    heldout_files: dict[str, list] = {}
    thresholds: dict[str, Any] = {}
    for group in [*tier.GROUPS, tier.OTHER]:
        g = [r for r in rows if r["group"] == group]
        labels = np.array([r["label"] for r in g], dtype=np.float64)
        if len(g) < 20 or labels.min() == labels.max():
            log(
                f"{group}: {len(g)} files, labels {sorted(set(labels.tolist()))}: not enough to train, skipped"
            )
            continue
        folders = [f"{r['root']}:{os.path.dirname(r['path'])}" for r in g]
        test = split.heldout_mask(folders, recipe.seed, recipe.heldout_fraction)
        cfg = TrainConfig(
            name=f"code_quality_{group}",
            model="fasttext",
            threshold=0.5,
            edges=[0.5],
            max_chars=10_000,
            fasttext=recipe.fasttext,
            labels_are=recipe.labels_are,
            data=f"{recipe.data} Model group {group!r}: linguist languages {list(tier.GROUPS.get(group, ['(all others)']))}.",
            reproduce=recipe.reproduce,
        )
        texts = [r["text"] for r in g]
        card = tr.fit(cfg, folders, texts, labels, str(out_dir / group), recipe.seed, heldout=test)
        scores = tier.round_scores(classifier.score(str(out_dir / group), texts))
        w = tokens(texts, recipe.chars_per_token)
        t = buckets.weighted_thresholds(scores, w, recipe.percentiles)
        thresholds[group] = {"thresholds": t, "files": len(g), "tokens": int(w.sum())}
        levels = buckets.assign(scores[test], t)
        conf = [
            [int(((labels[test] == lab) & (levels == b)).sum()) for b in range(len(tier.LEVELS))]
            for lab in (0, 1)
        ]
        langs: dict[str, int] = {}
        for r, is_test in zip(g, test.tolist(), strict=True):
            if is_test:
                langs[r["lang"]] = langs.get(r["lang"], 0) + 1
        why: dict[str, int] = {}
        for r in g:
            why[r["why"]] = why.get(r["why"], 0) + 1
        summary[group] = {
            "files": {"train": int((~test).sum()), "heldout": int(test.sum())},
            "labels": {"low": int((labels == 0).sum()), "not_low": int((labels == 1).sum())},
            "label_reasons": dict(sorted(why.items())),
            "heldout_languages": dict(sorted(langs.items())),
            "heldout_auc": card["metrics"]["heldout"]["auc"],
            "heldout_binary_confusion": card["metrics"]["heldout"]["confusion"],
            "heldout_tier_confusion": {
                "rows": ["label 0 (low)", "label 1"],
                "columns": list(tier.LEVELS),
                "counts": conf,
            },
            "thresholds": t,
            "model_bytes": card["bytes"],
        }
        heldout_files[group] = [
            [r["root"], r["path"], r["lang"], r["label"]] for r, k in zip(g, test.tolist(), strict=True) if k
        ]
        log(
            f"{group}: {len(g)} files, held-out AUC {card['metrics']['heldout']['auc']}, tier confusion {conf}"
        )
    spec = {
        "percentiles": recipe.percentiles,
        "groups": thresholds,
        "levels": list(tier.LEVELS),
        "chars_per_token": recipe.chars_per_token,
        "computed_on": "every sampled file of the recipe (train + held-out)",
    }
    (out_dir / "thresholds.json").write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    (out_dir / "heldout.json").write_text(json.dumps(heldout_files, sort_keys=True) + "\n")
    card = {
        "name": "code_quality",
        "kind": "code_tier",
        "groups": {g: list(tier.GROUPS.get(g, ())) for g in summary},
        "roots": {r.name: r.path for r in recipe.roots},
        "labels_are": recipe.labels_are,
        "data": recipe.data,
        "reproduce": recipe.reproduce,
        "seed": recipe.seed,
        "percentiles": recipe.percentiles,
        "per_group": summary,
    }
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(render(card))
    return card


def render(card: dict[str, Any]) -> str:
    """``MODEL_CARD.md``: labels, data, and per language the held-out confusion (label x tier)."""
    parts = [
        "# code_quality: per-language code quality models (code_tier)\n",
        f"**Labels:** {card['labels_are']}\n",
        f"**Data:** {card['data']}\n",
        f"**Tiers:** per language, token-weighted percentiles {card['percentiles']} of the score cut "
        "`low` / `medium` / `high` (`thresholds.json` here holds them over all sampled files).\n",
        "## Held-out results per language group\n",
        "Held-out = whole folders never trained on. AUC: score vs label. Tier confusion: "
        "rows = proxy label, columns = tier the shipped thresholds give.\n",
        "| group | train | held-out | AUC | label 0: low / medium / high | label 1: low / medium / high | model bytes |",
        "|---|---|---|---|---|---|---|",
    ]
    for g, s in card["per_group"].items():
        c = s["heldout_tier_confusion"]["counts"]
        auc = "n/a" if s["heldout_auc"] is None else f"{s['heldout_auc']:.3f}"
        parts.append(
            f"| {g} | {s['files']['train']} | {s['files']['heldout']} | {auc} | "
            f"{' / '.join(map(str, c[0]))} | {' / '.join(map(str, c[1]))} | {s['model_bytes']:,} |"
        )
    parts.append("\nWhy files are labelled 0 (all sampled files, per group):\n")
    for g, s in card["per_group"].items():
        parts.append(f"- {g}: {s['label_reasons']}; held-out languages {s['heldout_languages']}")
    parts.append(
        f"\nEach group's own card: `<group>/MODEL_CARD.md`.\n\n## Reproduce\n\n```\n{card['reproduce']}\n```\n"
    )
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="train classifiers/code_quality from its recipe")
    ap.add_argument("recipe")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    try:
        recipe = load(a.recipe)
    except (OSError, ValueError) as e:
        print(f"error: {a.recipe}: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    train(recipe, a.out, log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
