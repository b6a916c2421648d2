"""Where a stage's time goes: the breakdown written into its manifest (``timings``).

* ``document_cpu_s`` — CPU seconds of the pure per-document batch functions
  (:func:`corpus.engine.arrow_map.map_batches`, :func:`timed`), measured with
  :func:`cpu_seconds` around each call inside the Python workers and summed by a Spark
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

import os
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


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_WATCHED: dict[int, str] = {}
"""Live children whose CPU :func:`cpu_seconds` counts: pid -> start time (``/proc`` field 22)."""


def _proc_stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def watch_child(pid: int) -> None:
    """Count the CPU of this running child in :func:`cpu_seconds` until it is reaped
    (``os.times`` counts a child only once it is): the extraction sandbox's child lives as long
    as its worker. Linux (``/proc``); a no-op elsewhere."""
    if pid not in _WATCHED and (fields := _proc_stat(pid)) is not None:
        _WATCHED[pid] = fields[19]


def _live_children_cpu() -> float:
    """CPU seconds of the watched children still running or not yet reaped (``proc(5)``:
    utime, stime); a reaped one is counted by ``os.times`` and dropped here."""
    total = 0
    for pid, start in list(_WATCHED.items()):
        fields = _proc_stat(pid)
        if fields is None or fields[19] != start or int(fields[1]) != os.getpid():
            del _WATCHED[pid]
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICK


def cpu_seconds() -> float:
    """CPU seconds of this process so far, plus those of its finished children and of the
    running ones it watches (:func:`watch_child`; the extraction sandbox's child does the
    extracting): ``time.process_time`` alone would miss them."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system + _live_children_cpu()


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
                t = cpu_seconds()
                try:
                    batch = next(it)
                except StopIteration:
                    waiting += cpu_seconds() - t
                    return
                waiting += cpu_seconds() - t
                yield batch

        out = fn(feed())
        try:
            while True:
                t, w = cpu_seconds(), waiting
                try:
                    batch = next(out)
                except StopIteration:
                    spent += cpu_seconds() - t - (waiting - w)
                    return
                spent += cpu_seconds() - t - (waiting - w)
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
    """Collects one stage's breakdown; :meth:`result` after the stage's Spark work is done.

    A stage fused with others (:mod:`corpus.engine.pieces`) also gets its share of the one
    pass they ran together (:meth:`add_share`) and the CPU its writer tasks measured."""

    def __init__(self, sc: SparkContext, group: str) -> None:
        self.sc, self.group = sc, group
        self.accumulator = sc.accumulator(0.0)
        self.write_cpu_s = 0.0
        self.extra_document_cpu_s = 0.0
        self.wall_adjust_s = 0.0
        self.shared: dict[str, float] = {}

    def add_share(self, jvm: dict[str, Any], fraction: float) -> None:
        """Add ``fraction`` of a shared job's executor and shuffle seconds."""
        for key in ("executor_run_s", "executor_cpu_s", "shuffle_s"):
            self.shared[key] = self.shared.get(key, 0.0) + (jvm.get(key) or 0.0) * fraction

    @contextmanager
    def active(self) -> Iterator[StageTiming]:
        """Spark jobs started in the block run under this stage's job group, and maps built
        in it add to its accumulator."""
        global _document_cpu
        previous, _document_cpu = _document_cpu, self.accumulator
        group = self.sc.getLocalProperty("spark.jobGroup.id")
        self.sc.setJobGroup(self.group, "corpus stage")
        try:
            yield self
        finally:
            _document_cpu = previous
            self.sc.setLocalProperty("spark.jobGroup.id", group)

    def result(self, wall_s: float) -> dict[str, Any]:
        cores = self.sc.defaultParallelism
        doc = float(self.accumulator.value) + self.extra_document_cpu_s
        try:
            jvm = _jvm_stage_metrics(self.sc, self.group)
            jvm = {k: v + self.shared.get(k, 0.0) for k, v in jvm.items()}
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
    """A new :class:`StageTiming` for stage ``name``, active in the block."""
    timing = StageTiming(sc, f"corpus:{name}:{uuid.uuid4().hex[:8]}")
    with timing.active():
        yield timing


def overhead_text(timings: dict[str, Any] | None) -> str:
    """``1.23×`` for the summary table ('' when the stage ran no per-document function)."""
    value = (timings or {}).get("engine_overhead")
    return f"{value:.2f}×" if value else ""
