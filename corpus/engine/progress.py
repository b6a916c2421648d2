"""Live progress for Spark work: a rich bar fed by Spark's status tracker, and the summary."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from pyspark import SparkContext

console = Console(stderr=True)


def _active_stages(sc: SparkContext) -> dict[int, tuple[int, int]]:
    """``{spark stage id: (completed tasks, tasks)}`` of the active Spark stages."""
    tracker = sc.statusTracker()
    active = {}
    for sid in tracker.getActiveStageIds():
        info = tracker.getStageInfo(sid)
        if info:
            active[sid] = (info.numCompletedTasks, info.numTasks)
    return active


class TaskTally:
    """Tasks done / seen over every Spark stage that ran inside one corpus stage.

    Spark's tracker lists only active stages, so counting those alone restarts the bar at
    zero for each job a corpus stage runs (count, write, sort ...). A stage seen before and
    no longer active has finished: it stays in the tally with all its tasks done.
    """

    def __init__(self) -> None:
        self.stages: dict[int, tuple[int, int]] = {}

    def update(self, active: dict[int, tuple[int, int]]) -> tuple[int, int]:
        """Merge one snapshot of the active stages; returns (completed, total) tasks so far."""
        for sid, (_, total) in self.stages.items():
            if sid not in active:
                self.stages[sid] = (total, total)
        self.stages.update(active)
        done = sum(d for d, _ in self.stages.values())
        return done, sum(t for _, t in self.stages.values())


@contextmanager
def spark_progress(sc: SparkContext, label: str, enabled: bool = True):
    """Show ``label`` with a bar of the tasks of every Spark stage run inside the block
    (:class:`TaskTally`: done and total only grow) until the block ends."""
    if not enabled or not console.is_terminal:
        console.print(f"[bold]▶ {label}[/bold]")
        yield
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tasks"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task(label, total=None)
    stop = threading.Event()
    tally = TaskTally()

    def poll() -> None:
        while not stop.wait(0.5):
            try:
                active = _active_stages(sc)
            except Exception:  # the tracker is advisory; never break a run over it
                continue
            done, total = tally.update(active)
            if total:
                progress.update(task, completed=done, total=total)

    thread = threading.Thread(target=poll, daemon=True)
    with progress:
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=2)
    console.print(f"[green]✔[/green] {label}")


def summary_table(results: list[dict[str, Any]], title: str) -> Table:
    """One row per stage: rows in / kept / removed (top reasons), seconds, docs/s, the CPU
    seconds of its per-document functions and the engine overhead (wall × cores ÷ that CPU)."""
    table = Table(title=title, title_justify="left")
    for col, kw in (
        ("stage", {}),
        ("status", {}),
        ("rows in", {"justify": "right"}),
        ("kept", {"justify": "right"}),
        ("removed", {"justify": "right"}),
        ("top removal reasons", {}),
        ("seconds", {"justify": "right"}),
        ("docs/s", {"justify": "right"}),
        ("doc CPU s", {"justify": "right"}),
        ("overhead", {"justify": "right"}),
    ):
        table.add_column(col, **kw)
    for r in results:
        reasons = sorted(r.get("removed_by_reason", {}).items(), key=lambda kv: -kv[1])
        top = ", ".join(f"{k} {v:,}" for k, v in reasons[:3]) + (" …" if len(reasons) > 3 else "")
        secs = r.get("seconds") or 0.0
        rows_in = r.get("rows_in") or 0
        table.add_row(
            r["stage"],
            r["status"],
            f"{rows_in:,}",
            f"{r.get('rows_kept', 0):,}",
            f"{r.get('rows_removed', 0):,}",
            top,
            f"{secs:.1f}",
            f"{rows_in / secs:,.0f}" if secs > 0 and r["status"] == "ran" else "",
            *_time_cells(r),
        )
    return table


def _time_cells(r: dict[str, Any]) -> tuple[str, str]:
    """Per-document CPU seconds and engine overhead (:mod:`~corpus.engine.timings`) of a stage
    that ran here; ``+`` marks a stage fused with its neighbours."""
    t = r.get("timings") if r["status"] == "ran" else None
    if not t:
        return "", ""
    overhead = t.get("engine_overhead")
    cpu = f"{t['document_cpu_s']:.1f}" if t.get("document_cpu_s") else ""
    return cpu, (f"{overhead:.2f}×" if overhead else "") + (" +" if t.get("fused_with") else "")


def histogram_text(hist: dict[str, int]) -> str:
    """``{"2": 15, "3-4": 3}`` -> ``"2: 15, 3-4: 3"`` (``"none"`` when empty)."""
    return ", ".join(f"{size}: {n:,}" for size, n in hist.items()) or "none"


def cluster_lines(results: list[dict[str, Any]]) -> list[str]:
    """One line per dedup stage (any stage whose metrics carry ``cluster_size_histogram``):
    share removed and how many duplicate clusters of each size it found."""
    lines = []
    for r in results:
        metrics = r.get("metrics") or {}
        hist = metrics.get("cluster_size_histogram")
        if hist is None:
            continue
        lines.append(
            f"{r['stage']}: removed {metrics.get('removed_pct', 0.0):.2f}% "
            f"({metrics.get('duplicates_removed', 0):,} rows); duplicate clusters by size: {histogram_text(hist)}"
        )
    return lines


class Timer:
    def __init__(self) -> None:
        self.start = time.time()

    @property
    def seconds(self) -> float:
        return time.time() - self.start
