"""``corpus report``: what a run did, from its manifests and its shards.

* :func:`write_html` — one self-contained HTML page (:mod:`corpus.report.html`);
* :func:`corpus.report.console.report` — the funnel as a terminal table, plus an optional PNG.
"""

from __future__ import annotations

from collections.abc import Sequence

from corpus.engine import fs


def write_html(roots: Sequence[str], path: str, train_dirs: Sequence[str] = ()) -> str:
    """Build the page for ``roots`` (pipeline outputs) and ``train_dirs`` (training runs) and
    write it to ``path`` atomically; returns ``path``. Raises UserError for a folder without
    committed stages or a run folder without metrics.jsonl."""
    from corpus.report.html import build

    fs.write_text_atomic(path, build(roots, train_dirs))
    return path
