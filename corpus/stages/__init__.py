"""Stage registry: YAML ``kind`` -> module. Modules load lazily so ``corpus validate`` does not
import Spark, torch or trafilatura."""

from __future__ import annotations

import importlib
from types import ModuleType

KINDS: dict[str, str] = {
    "warc": "corpus.stages.warc",
    "extract": "corpus.stages.extract",
    "langid": "corpus.stages.langid",
    "heuristics": "corpus.stages.heuristics",
    "exact_dedup": "corpus.stages.exact_dedup",
    "minhash": "corpus.stages.minhash",
    "semdedup": "corpus.stages.semdedup",
    "tokenize": "corpus.stages.tokenize",
    "stream": "corpus.stages.stream",
    "dataset": "corpus.stages.dataset",
    "annotate": "corpus.stages.annotate",
    "train_classifier": "corpus.stages.train_classifier",
    "score": "corpus.stages.score",
    "bucket": "corpus.stages.bucket",
    "mixture": "corpus.stages.mixture",
    "agent": "corpus.stages.agent",
    "github_threads": "corpus.stages.github_threads",
    "reasoning": "corpus.stages.reasoning",
    "repos": "corpus.stages.repos",
    "repo_concat": "corpus.stages.repo_concat",
    "code_filter": "corpus.stages.code_filter",
    "code_web": "corpus.stages.code_web",
    "code_tier": "corpus.stages.code_tier",
    "code_reparse": "corpus.stages.code_reparse",
}


def load(kind: str) -> ModuleType:
    """The module implementing ``kind`` (must define ``Params`` and ``run``)."""
    return importlib.import_module(KINDS[kind])
