"""Where a stage's time goes: the breakdown written into its manifest (``timings``).

* ``document_cpu_s`` — CPU seconds of the pure per-document batch functions
  (:func:`corpus.engine.arrow_map.map_batches`, :func:`timed`), measured with
  ``time.process_time`` around each call inside the Python workers and summed by a Spark
  accumulator (the function's own work, no Arrow conversion, no JVM);
* ``write_cpu_s`` — CPU seconds of the Parquet writer tasks (:mod:`corpus.engine.arrow_write`,
  from its per-task stats);
* ``shuffle_s`` — Spark's shuffle write time plus shuffle fetch wait of the stage's jobs, and
  ``executor_run_s`` / ``executor_cpu_s`` — their task run time and JVM CPU time (Spark's
  status store: the jobs run under the stage's job group);
* ``other_s`` — ``wall_s × cores`` minus the three above: Arrow transfer between JVM and
  Python, reading, sorting, scheduling, idle cores;
* ``engine_overhead`` — ``wall_s × cores ÷ document_cpu_s`` (issue 17's definition: 1.0 means
  every core-second went into the per-document functions); None when the stage ran none.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark import Accumulator, SparkContext

_document_cpu: Accumulator | None = None
"""The running stage's accumulator (driver side); None outside :func:`stage_timing`."""


def document_accumulator() -> Accumulator | None:
    """The accumulator a per-document map built now adds its CPU seconds to."""
    return _document_cpu


def timed(
    fn: Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]],
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """``fn`` (a ``mapInArrow`` function) with the CPU seconds spent inside it, not waiting
    for input batches, added to the running stage's ``document_cpu_s``."""
    acc = _document_cpu

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        spent = 0.0
        waiting = 0.0

        def feed() -> Iterator[pa.RecordBatch]:
            nonlocal waiting
            it = iter(batches)
            while True:
                t = time.process_time()
                try:
                    batch = next(it)
                except StopIteration:
                    waiting += time.process_time() - t
                    return
                waiting += time.process_time() - t
                yield batch

        out = fn(feed())
        try:
            while True:
                t, w = time.process_time(), waiting
                try:
                    batch = next(out)
                except StopIteration:
                    spent += time.process_time() - t - (waiting - w)
                    return
                spent += time.process_time() - t - (waiting - w)
                yield batch
        finally:
            if acc is not None:
                acc.add(spent)

    return run


def _jvm_stage_metrics(sc: SparkContext, group: str) -> dict[str, float]:
    """Run time, JVM CPU and shuffle seconds of every Spark stage run under job ``group``."""
    tracker = sc.statusTracker()
    store = sc._jsc.sc().statusStore()
    empty = sc._gateway.new_array(sc._jvm.double, 0)
    run_ms = cpu_ns = shuffle_ns = fetch_ms = 0
    for job in tracker.getJobIdsForGroup(group):
        info = tracker.getJobInfo(job)
        for sid in info.stageIds if info else ():
            it = store.stageData(sid, False, sc._jvm.java.util.ArrayList(), False, empty).iterator()
            while it.hasNext():
                d = it.next()
                run_ms += d.executorRunTime()
                cpu_ns += d.executorCpuTime()
                shuffle_ns += d.shuffleWriteTime()
                fetch_ms += d.shuffleFetchWaitTime()
    return {
        "executor_run_s": run_ms / 1e3,
        "executor_cpu_s": cpu_ns / 1e9,
        "shuffle_s": shuffle_ns / 1e9 + fetch_ms / 1e3,
    }


class StageTiming:
    """Collects one stage's breakdown; :meth:`result` after the stage's Spark work is done."""

    def __init__(self, sc: SparkContext, group: str) -> None:
        self.sc, self.group = sc, group
        self.accumulator = sc.accumulator(0.0)
        self.write_cpu_s = 0.0

    def result(self, wall_s: float) -> dict[str, Any]:
        cores = self.sc.defaultParallelism
        doc = float(self.accumulator.value)
        try:
            jvm = _jvm_stage_metrics(self.sc, self.group)
        except Exception:  # the status store is Spark-internal: a breakdown never fails a run
            jvm = {"executor_run_s": None, "executor_cpu_s": None, "shuffle_s": None}
        core_s = wall_s * cores
        other = core_s - doc - self.write_cpu_s - (jvm["shuffle_s"] or 0.0)
        return {
            "wall_s": round(wall_s, 3),
            "cores": cores,
            "document_cpu_s": round(doc, 3),
            "write_cpu_s": round(self.write_cpu_s, 3),
            **{k: None if v is None else round(v, 3) for k, v in jvm.items()},
            "other_s": round(other, 3),
            "engine_overhead": round(core_s / doc, 3) if doc > 0 else None,
        }


@contextmanager
def stage_timing(sc: SparkContext, name: str) -> Iterator[StageTiming]:
    """Run the block's Spark jobs under a job group of their own and with a fresh
    per-document CPU accumulator (picked up by maps built inside the block)."""
    global _document_cpu
    group = f"corpus:{name}:{uuid.uuid4().hex[:8]}"
    timing = StageTiming(sc, group)
    sc.setJobGroup(group, f"corpus stage {name}")
    previous, _document_cpu = _document_cpu, timing.accumulator
    try:
        yield timing
    finally:
        _document_cpu = previous
        sc.setLocalProperty("spark.jobGroup.id", None)


def overhead_text(timings: dict[str, Any] | None) -> str:
    """``1.23×`` for the summary table ('' when the stage ran no per-document function)."""
    value = (timings or {}).get("engine_overhead")
    return f"{value:.2f}×" if value else ""
