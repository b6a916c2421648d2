"""The per-stage time breakdown (issue 17): every stage's manifest says where its core-seconds
went, and the engine overhead is wall × cores over the per-document functions' CPU."""

from __future__ import annotations

import gc
import time

import pyarrow as pa
import pytest

from corpus.engine import timings
from corpus.engine.manifest import read_manifest
from corpus.engine.progress import summary_table
from tests.engine import probes


@pytest.fixture(autouse=True)
def _probe_kinds():
    probes.register()


def test_manifests_carry_the_breakdown(spark, tmp_path):
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline_dict

    out = tmp_path / "out"
    stages = [
        {"kind": "probe_rows", "name": "docs", "n": 40},
        {"kind": "langid", "inputs": ["docs"]},
    ]
    pipeline = load_pipeline_dict({"name": "t", "output": str(out), "stages": stages}, tmp_path / "p.yaml")
    results = run_pipeline(spark, pipeline, progress=False)

    source = read_manifest(str(out / "docs"))["timings"]
    assert source["document_cpu_s"] == 0.0 and source["engine_overhead"] is None
    assert source["write_cpu_s"] > 0 and source["executor_run_s"] > 0

    t = read_manifest(str(out / "langid"))["timings"]
    assert t["cores"] == spark.sparkContext.defaultParallelism
    assert t["document_cpu_s"] > 0  # fastText ran on 32 documents inside the workers
    assert t["engine_overhead"] == pytest.approx(
        t["wall_s"] * t["cores"] / t["document_cpu_s"], rel=0.05
    )  # rounded parts
    parts = t["document_cpu_s"] + t["write_cpu_s"] + t["shuffle_s"] + t["other_s"]
    assert parts == pytest.approx(t["wall_s"] * t["cores"], abs=0.01)
    assert [r["timings"] for r in results] == [source, t]
    table = summary_table(results, "t")
    assert table.row_count == 2 and [c.header for c in table.columns][-2:] == ["doc CPU s", "overhead"]
    assert list(table.columns[-1].cells) == ["", f"{t['engine_overhead']:.2f}×"]


def test_timed_counts_work_not_waiting():
    """:func:`timings.timed` adds the CPU spent inside the wrapped function only: the seconds
    its input iterator burns (upstream work) are not the function's."""
    acc = _Acc()
    timings._document_cpu = acc
    try:

        def upstream():
            for _ in range(3):
                _burn(0.05)
                yield pa.record_batch({"x": [1]})

        def fn(batches):
            for b in batches:
                _burn(0.02)
                yield b

        assert len(list(timings.timed(fn)(upstream()))) == 3
    finally:
        timings._document_cpu = None
    assert 0.05 <= acc.value < 0.12


class _Acc:
    value = 0.0

    def add(self, v: float) -> None:
        self.value += v


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


@pytest.fixture(autouse=True)
def _unfreeze():
    """daemon.preload() freezes the collector's view of this process: undo it after each test,
    so later tests' garbage cycles are collected as usual."""
    yield
    gc.unfreeze()


def test_daemon_preloads_the_pipelines_heavy_modules(monkeypatch):
    """The worker daemon imports what the pipeline's stages need, once, and skips a module
    that fails (the worker reports it with its task)."""
    from corpus.engine import daemon

    names = daemon.modules_for(["warc", "extract", "minhash", "extract"])
    assert names == ["warcio", "corpus.warc.records", "corpus.stages.warc", "trafilatura"] + [
        "corpus.text.extraction",
        "corpus.stages.extract",
    ]
    monkeypatch.setenv(daemon.PRELOAD_ENV, "json,no_such_module_h7,corpus.stages.langid")
    assert daemon.preload() == ["json", "corpus.stages.langid"]
    # what it loaded is out of the collections PySpark runs after every task
    assert gc.get_freeze_count() > 0


def test_daemon_warms_the_tokenizers_before_forking(monkeypatch):
    """A preloaded module's ``warm()`` runs: the word tokenizers of the languages it names are
    loaded in the daemon, so forked workers inherit them."""
    import importlib

    from corpus.engine import daemon

    wt = importlib.import_module("corpus.text.word_tokenizers")  # the module preload() imports
    assert "corpus.text.word_tokenizers" in daemon.modules_for(["heuristics"])
    monkeypatch.setattr(wt, "WARM_LANGUAGES", ("en", "de"))
    wt.shared_tokenizer.cache_clear()  # earlier tests in this process may have loaded them
    wt.word_tokenizer.cache_clear()
    monkeypatch.setenv(daemon.PRELOAD_ENV, "corpus.text.word_tokenizers")
    assert daemon.preload() == ["corpus.text.word_tokenizers"]
    assert wt.shared_tokenizer.cache_info().currsize == 2  # en and de, loaded by warm()
    assert wt.word_tokenizer.cache_info().currsize == 2
