"""How the web pipeline's cost grows with its input: ``pipelines/web.yaml`` end to end on
10k, 40k and 160k HTML documents on ``local[2]``.

    .venv/bin/python bench/scale.py [--sizes 10000 40000 160000] [--master local[2]]

Input per size: WARCs from the sample generator (:mod:`corpus.sample.build`, about 310 HTML
pages per copy of the crawl, ``--copies`` copies a file, seeds 0, 1, ...) until the size is
reached, plus the real pages under ``../shared/data`` when present (the 181 pages of the
article-extraction benchmark and dolma's wget crawls), all written before any timing. The
generator repeats its texts on mirror hosts, so the dedup stages have real work at every size.

Each size is one ``corpus run`` subprocess (Python and JVM start-up count) of web.yaml with
its ``warc`` stage pointed at those files and its own output folder. Printed per size: wall
seconds, docs/s (HTML records / wall), peak memory of the whole process tree (driver, JVM,
Python workers; sampled every 0.5 s), and per stage its seconds, docs/s (rows in / seconds),
peak memory while it ran and its engine overhead (:mod:`corpus.engine.timings`); then the
growth factor of each 4× step (seconds at 4× the documents ÷ seconds; 4.0 is linear) with the
load average at the start and end of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil
import yaml

from corpus.sample.build import write as write_sample

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
REAL = [
    SHARED / "extraction" / "article_extraction_benchmark" / "pages.warc.gz",
    *sorted((SHARED / "warc" / "dolma").rglob("*.warc.gz")),
]
NOT_HTML = ("request", "revisit", "non_html", "http_error")


def build_input(folder: Path, size: int, copies: int) -> tuple[int, int]:
    """Generated WARCs holding at least ``size`` HTML responses, plus the real ones; returns
    (generated HTML records, real files copied)."""
    folder.mkdir(parents=True)
    html, seed = 0, 0
    while html < size:
        counts = write_sample(folder / f"crawl-{seed:04d}.warc.gz", seed=seed, scale=copies)
        html += sum(v for k, v in counts.items() if k not in NOT_HTML)
        seed += 1
    real = [p for p in REAL if p.is_file()]
    for i, path in enumerate(real):
        shutil.copy(path, folder / f"real-{i:02d}-{path.name}")
    return html, len(real)


class PeakMemory:
    """Samples the RSS of a process and its children every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.proc, self.every = psutil.Process(pid), every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.samples.append((time.time(), rss))
            except psutil.Error:
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def run_size(size: int, work: Path, copies: int, master: str) -> dict:
    inputs = work / f"warc-{size}"
    generated, real = build_input(inputs, size, copies)
    spec = yaml.safe_load((ROOT / "pipelines" / "web.yaml").read_text())
    spec["output"] = str(work / f"out-{size}")
    spec["spark"] = {"master": master}
    warc = next(s for s in spec["stages"] if s["kind"] == "warc")
    warc.pop("manifest", None)
    warc["paths"] = [str(inputs / "*.warc*")]
    path = work / f"web-{size}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    corpus = Path(sys.executable).with_name("corpus")
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(corpus), "run", str(path), "--no-progress"], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    memory = PeakMemory(proc.pid)
    if proc.wait() != 0:
        raise SystemExit(f"corpus run failed for {size} documents (exit {proc.returncode})")
    wall = time.perf_counter() - start
    memory.stop()
    stages = []
    for s in spec["stages"]:
        name = s.get("name", s["kind"])
        m = json.loads((Path(spec["output"]) / name / "_manifest.json").read_text())
        span = [datetime.fromisoformat(m[k]).timestamp() for k in ("started", "finished")]
        stages.append(
            {
                "stage": name,
                "rows_in": m.get("rows_in") or 0,
                "seconds": m["seconds"],
                "peak_mb": memory.peak(span[0] - 1, span[1] + 1) / 1e6,
                "overhead": (m.get("timings") or {}).get("engine_overhead"),
            }
        )
    warc_m = json.loads((Path(spec["output"]) / stages[0]["stage"] / "_manifest.json").read_text())
    html = warc_m["rows_kept"]  # HTML responses: the documents every later stage works on
    return {
        "size": size,
        "generated": generated,
        "real_files": real,
        "html": html,
        "wall": wall,
        "peak_mb": memory.peak() / 1e6,
        "stages": stages,
        "load": (load_before, os.getloadavg()[0]),
    }


def print_size(r: dict) -> None:
    print(
        f"\n{r['size']:,} target: {r['html']:,} HTML documents ({r['generated']:,} generated, "
        f"{r['real_files']} real WARC files); wall {r['wall']:.1f} s, {r['html'] / r['wall']:.1f} docs/s, "
        f"peak memory {r['peak_mb']:,.0f} MB; load average {r['load'][0]:.1f} -> {r['load'][1]:.1f}"
    )
    print(f"  {'stage':14}{'rows in':>10}{'seconds':>10}{'docs/s':>10}{'peak MB':>10}{'overhead':>10}")
    for s in r["stages"]:
        rate = s["rows_in"] / s["seconds"] if s["seconds"] else 0.0
        overhead = f"{s['overhead']:.2f}x" if s["overhead"] else ""
        print(
            f"  {s['stage']:14}{s['rows_in']:10,}{s['seconds']:10.1f}{rate:10.1f}{s['peak_mb']:10,.0f}{overhead:>10}"
        )


def print_growth(results: list[dict]) -> None:
    for a, b in zip(results, results[1:], strict=False):
        step = b["html"] / a["html"]
        print(f"\ngrowth {a['size']:,} -> {b['size']:,} ({step:.2f}x the documents; goal <= 4.8x per 4x):")
        print(f"  {'whole run':14}{b['wall'] / a['wall']:8.2f}x")
        for sa, sb in zip(a["stages"], b["stages"], strict=True):
            factor = sb["seconds"] / sa["seconds"] if sa["seconds"] else float("nan")
            print(f"  {sa['stage']:14}{factor:8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 160_000])
    parser.add_argument("--copies", type=int, default=4, help="crawl copies per generated WARC file")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for size in args.sizes:
            results.append(run_size(size, Path(tmp), args.copies, args.master))
            print_size(results[-1])
            sys.stdout.flush()
            shutil.rmtree(Path(tmp) / f"out-{size}")
    print_growth(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
