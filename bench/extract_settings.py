"""Cost and quality of trafilatura settings for the ``extract`` stage, on the same pages.

    .venv/bin/python bench/extract_settings.py [--rounds 2]

Pages: the 181 pages of ``../shared/data/extraction/article_extraction_benchmark`` (real news
and blog pages with hand-made gold article bodies). Per setting: CPU milliseconds per page in
this process (:func:`corpus.text.extraction.extract_html`, no sandbox; the fastest of
``--rounds`` rounds) and the mean character 5-gram shingle F1 against the gold bodies (the
measure of ``tests/web/test_extract.py``). The settings:

* ``default``: the stage's defaults (favour precision, title and date, readability fallback);
* ``fast``: trafilatura's ``fast=True``: no readability / jusText comparison after its own
  extraction;
* ``no_metadata``: without title and date (htmldate);
* ``fast, no_metadata``: both;
* ``no_metadata, stock``: ``no_metadata`` with trafilatura's own XPaths and stoplist instead of
  :mod:`corpus.text.trafilatura_fast`'s stand-ins (same output): what datatrove's
  ``Trafilatura`` step runs (fallback on, no metadata).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = ROOT.parent / "shared" / "data" / "extraction" / "article_extraction_benchmark"


def pages() -> tuple[list[str], list[str]]:
    from warcio.archiveiterator import ArchiveIterator

    gold = json.loads((BENCH / "ground-truth.json").read_text(encoding="utf-8"))
    htmls, bodies = [], []
    with open(BENCH / "pages.warc.gz", "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                key = record.rec_headers.get_header("WARC-Benchmark-Key")
                htmls.append(record.content_stream().read().decode("utf-8", errors="replace"))
                bodies.append(gold[key]["articleBody"])
    return htmls, bodies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from corpus.text import trafilatura_fast
    from corpus.text.extraction import Extracted, ExtractOptions, extract_html, shingle_f1

    htmls, bodies = pages()
    settings = {
        "default": ExtractOptions(),
        "fast": ExtractOptions(fast=True),
        "no_metadata": ExtractOptions(with_metadata=False),
        "fast, no_metadata": ExtractOptions(fast=True, with_metadata=False),
        "no_metadata, stock": ExtractOptions(with_metadata=False),
    }
    extract_html(htmls[0], None, ExtractOptions())  # trafilatura's lazy resources
    print(f"{len(htmls)} pages of the article extraction benchmark")
    base = None
    for name, options in settings.items():
        if name.endswith("stock"):
            trafilatura_fast.uninstall()
        best = float("inf")
        for _ in range(args.rounds):
            t0 = time.process_time()
            out = [extract_html(h, None, options) for h in htmls]
            best = min(best, time.process_time() - t0)
        texts = [o.text or "" if isinstance(o, Extracted) else "" for o in out]
        f1 = sum(shingle_f1(t, g) for t, g in zip(texts, bodies, strict=True)) / len(bodies)
        ms = 1000 * best / len(htmls)
        base = base or ms
        print(f"{name:20s} {ms:6.1f} ms/page CPU ({base / ms:4.2f}x default)  F1 {f1:.4f}")


if __name__ == "__main__":
    main()
