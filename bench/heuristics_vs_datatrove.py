"""Per-document CPU, ours vs datatrove, in one process on the same documents (issue 17):

1. the heuristics: our Gopher quality + Gopher repetition + C4 + FineWeb rules on one shared
   tokenisation (``FilterChain``, the heuristics stage's per-document function) vs datatrove's
   ``GopherQualityFilter``, ``GopherRepetitionFilter``, ``C4QualityFilter`` and
   ``FineWebQualityFilter`` configured with the same thresholds, stop words and word tokenizers
   per language (``datatrove_filters``); the verdicts are compared too;
2. WARC reading: our reader as a warc-stage task runs it (records -> rows -> Arrow batches)
   vs datatrove's ``WarcReader.read_file`` (records -> Documents), records per second.

    .venv/bin/python bench/heuristics_vs_datatrove.py [--files 3] [--scale 2] [--rounds 3]

Input: ``--files`` WARCs from the sample generator (as bench/web_vs_datatrove.py writes them,
~870 records each at ``--scale 2``), plus, when ``../shared/data`` is present, the extraction
benchmark's WARC (181 real pages). Documents for the heuristics are their HTML responses with
the main text extracted by trafilatura (extract stage settings) and labelled by lid.176, all
before any timing. Each side runs once untimed (models load), then ``--rounds`` alternating
timed rounds; the median is printed. No Spark: engine costs are not in these figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from corpus.sample.build import write as write_sample
from corpus.stages.warc import Params as WarcParams
from corpus.stages.warc import read_files
from corpus.text.extraction import ExtractOptions, extract_many
from corpus.text.langid_model import predict, resolve_model_path
from corpus.text.quality_filters import FilterChain, datatrove_filters, datatrove_reason, normalize_lines
from corpus.warc.records import ReadOptions, read_file

ROOT = Path(__file__).resolve().parent.parent
SHARED_WARC = (
    ROOT.parent / "shared" / "data" / "extraction" / "article_extraction_benchmark" / "pages.warc.gz"
)


def documents(warcs: list[Path]) -> list[tuple[str, str, str]]:
    """``(id, lang, text)`` of the HTML pages of ``warcs``, as extract + langid make them."""
    rows = [
        (row["id"], row["text"], row["url"])
        for path in warcs
        for row in read_file(str(path), path.name, ReadOptions())
        if row["_reason"] is None
    ]
    outcomes = extract_many([(html, url) for _, html, url in rows], ExtractOptions(), timeout_s=5.0)
    texts = [
        (doc_id, out.extracted.text)
        for (doc_id, _, _), out in zip(rows, outcomes, strict=True)
        if out.extracted is not None and out.extracted.text
    ]
    langs, _ = predict([t for _, t in texts], resolve_model_path(None))
    return [(doc_id, lang, text) for (doc_id, text), lang in zip(texts, langs, strict=True)]


def timed(sides: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each side over ``rounds`` alternating rounds."""
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            start = time.perf_counter()
            fn()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in seconds.items()}


def bench_heuristics(docs: list[tuple[str, str, str]], rounds: int) -> None:
    langs = sorted({lang for _, lang, _ in docs})
    ours = {lang: FilterChain(lang, []) for lang in langs}
    peer = {lang: datatrove_filters(lang, []) for lang in langs}

    def run_ours() -> list[str | None]:
        return [ours[lang](text, doc_id) for doc_id, lang, text in docs]

    def run_peer() -> list[str | None]:
        return [datatrove_reason(peer[lang], normalize_lines(text), doc_id) for doc_id, lang, text in docs]

    a, b = run_ours(), run_peer()  # untimed: loads every language's tokenizer on both sides
    differ = sum(x != y for x, y in zip(a, b, strict=True))
    kept = sum(x is None for x in a)
    print(
        f"heuristics: {len(docs)} documents, {len(langs)} languages, kept {kept}; verdicts differing: {differ}"
    )
    print(f"  reasons: {Counter(a).most_common(6)}")
    t = timed({"ours": run_ours, "peer": run_peer}, rounds)
    print(f"{'':34}{'seconds':>9}{'ms/doc':>9}{'docs/s':>9}")
    for name, label in (("ours", "ours (shared tokens)"), ("peer", "datatrove 4 filter classes")):
        print(f"  {label:32}{t[name]:9.2f}{t[name] / len(docs) * 1e3:9.2f}{len(docs) / t[name]:9.0f}")
    print(f"  ratio ours/datatrove (docs/s): {t['peer'] / t['ours']:.2f}x")


def bench_warc(warcs: list[Path], rounds: int) -> None:
    from datatrove.pipeline.readers import WarcReader

    listing = pa.RecordBatch.from_pydict({"path": [str(p) for p in warcs], "key": [p.name for p in warcs]})
    params = WarcParams(paths=[str(p) for p in warcs])

    def run_ours() -> int:
        return sum(batch.num_rows for batch in read_files(listing, params))

    def run_peer() -> int:
        n = 0
        for path in warcs:
            reader = WarcReader(str(path.parent), glob_pattern=path.name)
            n += sum(1 for _ in reader.read_file(path.name))
        return n

    def records() -> int:
        from warcio.archiveiterator import ArchiveIterator

        total = 0
        for path in warcs:
            with open(path, "rb") as f:
                total += sum(1 for _ in ArchiveIterator(f))
        return total

    n_records, rows, docs = records(), run_ours(), run_peer()
    print(f"warc: {len(warcs)} files, {n_records} records; ours {rows} rows, datatrove {docs} documents")
    t = timed({"ours": run_ours, "peer": run_peer}, rounds)
    print(f"{'':34}{'seconds':>9}{'ms/rec':>9}{'rec/s':>9}")
    for name, label in (("ours", "ours (rows -> Arrow batches)"), ("peer", "datatrove WarcReader")):
        print(f"  {label:32}{t[name]:9.2f}{t[name] / n_records * 1e3:9.3f}{n_records / t[name]:9.0f}")
    print(f"  ratio ours/datatrove (records/s): {t['peer'] / t['ours']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-heuristics-") as tmp:
        warcs = []
        for n in range(args.files):
            path = Path(tmp) / f"crawl-{n:03d}.warc.gz"
            write_sample(path, seed=n, scale=args.scale, codings=False)
            warcs.append(path)
        if SHARED_WARC.is_file():
            warcs.append(SHARED_WARC)
        bench_warc(warcs, args.rounds)
        bench_heuristics(documents(warcs), args.rounds)
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
