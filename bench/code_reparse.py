"""Code-preserving re-parse vs trafilatura's default extraction on pages with ``<pre>``: pages/s,
MB/s and the share of non-empty ``<pre>`` lines kept verbatim in order (printed, not asserted).

    .venv/bin/python bench/code_reparse.py [--extra 'GLOB' ...] [--rounds 3]

Pages: those the tests use (``../shared/data`` WARCs and extraction pages with ``<pre>``, the
sample crawl's code pages) plus any local HTML files matching ``--extra`` globs that hold a
``<pre>`` (e.g. ``/usr/share/doc/**/*.html``). Both sides run in this process, one page at a
time, alternating rounds; the median round is reported.

* ours: ``corpus.code.html_code.reparse`` (lxml);
* peer: ``trafilatura.extract(html, url=url)`` with its defaults.
"""

from __future__ import annotations

import argparse
import glob
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pages(extra: list[str]) -> list[tuple[str, str]]:
    from tests.code.test_html_reparse import real_pages, sample_pages
    from tests.conftest import SHARED_DATA

    out = (real_pages(SHARED_DATA) if SHARED_DATA.is_dir() else []) + sample_pages()
    for pattern in extra:
        for path in sorted(glob.glob(pattern, recursive=True)):
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            if "<pre" in text.lower():
                out.append((path, text))
    return out


def main() -> None:
    import trafilatura

    from corpus.code.html_code import reparse
    from tests.code.test_html_reparse import lines_in_order, pre_texts

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extra", action="append", default=[], help="glob of more local HTML files")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    docs = pages(args.extra)
    mb = sum(len(h.encode()) for _, h in docs) / 1e6
    sides = {
        "ours": lambda u, h: reparse(h, u).text,
        "trafilatura": lambda u, h: trafilatura.extract(h, url=u) or "",
    }
    times: dict[str, list[float]] = {k: [] for k in sides}
    outputs: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, fn in sides.items():
            t = time.perf_counter()
            outputs[name] = [fn(u, h) for u, h in docs]
            times[name].append(time.perf_counter() - t)
    expected = [[ln for t in pre_texts(h) for ln in t.split("\n") if ln.strip()] for _, h in docs]
    total = sum(map(len, expected))
    print(f"{len(docs)} pages with <pre>, {mb:.2f} MB, {total} non-empty <pre> lines")
    secs = {k: statistics.median(v) for k, v in times.items()}
    for name in sides:
        kept = sum(lines_in_order(e, o) for e, o in zip(expected, outputs[name], strict=True))
        print(
            f"{name:12s} {len(docs) / secs[name]:8.1f} pages/s {mb / secs[name]:6.2f} MB/s  "
            f"<pre> lines kept {kept}/{total} ({kept / max(total, 1):.1%})"
        )
    print(f"speed ratio ours/trafilatura: {secs['trafilatura'] / secs['ours']:.2f}x")


if __name__ == "__main__":
    main()
