"""PySpark's Python worker daemon, with a pipeline's heavy imports done once before it forks.

Spark starts ``python -m <spark.python.daemon.module>`` once per executor and forks every
Python worker from it (``spark.python.use.daemon``, the default on Linux), so what the daemon
imports first, every worker has without importing it again: trafilatura and lxml (about a
second), fastText, datatrove's filters, and the word tokenizers of the large web languages
(a module's ``warm()`` runs after its import). :func:`modules_for` lists them for a pipeline's
stage kinds; :func:`corpus.engine.spark.get_spark` passes them in ``CORPUS_PRELOAD``.

Only libraries that are safe to fork after import are listed (no torch, faiss or other
thread pools); an import that fails here is left to the worker, which reports it as usual.
"""

from __future__ import annotations

import gc
import importlib
import os

PRELOAD_ENV = "CORPUS_PRELOAD"
MODULE = "corpus.engine.daemon"
HEAVY: dict[str, tuple[str, ...]] = {
    "warc": ("warcio", "corpus.warc.records"),
    "extract": ("trafilatura", "corpus.text.extraction"),
    "langid": ("fasttext", "corpus.text.langid_model"),
    "heuristics": ("corpus.text.quality_filters", "corpus.text.lang_rules", "corpus.text.word_tokenizers"),
}
"""Stage kind -> modules its batch functions import (besides the stage module itself)."""


def modules_for(kinds: list[str]) -> list[str]:
    """Modules to preload for stages of these kinds (stage modules of kinds listed in
    :data:`HEAVY` and their heavy imports), in a stable order."""
    out: list[str] = []
    for kind in (k for k in kinds if k in HEAVY):
        for name in (*HEAVY[kind], f"corpus.stages.{kind}"):
            if name not in out:
                out.append(name)
    return out


def preload() -> list[str]:
    """Import the modules named in ``CORPUS_PRELOAD`` (comma-separated) and call the ``warm()``
    of those that have one (e.g. :func:`corpus.text.word_tokenizers.warm`: models loaded at
    first use), then freeze the garbage collector's view of everything loaded; returns the
    modules imported.

    PySpark's daemon runs a full ``gc.collect()`` in a reused worker after every task, which
    walks every object the preload made: 0.13 s of CPU a task with the web stages' modules
    (262,000 objects), about 5 CPU-seconds on a 22k-record web run (py-spy). ``gc.freeze()``
    before the fork leaves them out of every later collection (and keeps their pages shared
    with the workers: Python's ``gc`` documentation recommends it before a fork)."""
    done = []
    for name in filter(None, os.environ.get(PRELOAD_ENV, "").split(",")):
        try:
            module = importlib.import_module(name)
            if callable(warm := getattr(module, "warm", None)):
                warm()
        except Exception:  # the worker imports it again and reports the error with its task
            continue
        done.append(name)
    gc.freeze()
    return done


if __name__ == "__main__":
    from corpus.engine import zygote

    if os.environ.get(zygote.ENV) and zygote.hand_over(os.environ[zygote.ENV]):
        raise SystemExit(0)
    preload()
    from pyspark.daemon import manager

    manager()
