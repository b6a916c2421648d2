"""Main-text extraction from HTML with trafilatura, under a per-document time limit.

trafilatura can spend seconds (or loop) on pathological pages; a run must not stall on one.
We reuse datatrove's :class:`ExtractorSandbox` (the mechanism behind its ``Trafilatura``
extractor): the extraction runs in a forked child process fed through a pipe, and a document
that exceeds the limit kills the child, which is restarted for the next document. We call
trafilatura's ``bare_extraction`` rather than datatrove's ``Trafilatura.extract`` because the
latter returns the text only and we also keep the title and the date.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import trafilatura  # imported in the parent so the forked child starts warm
from datatrove.pipeline.extractors.base import ExtractorSandbox
from loguru import logger

from corpus.engine import lifetime, timings
from corpus.text import trafilatura_fast

# same output, less CPU: see corpus/text/trafilatura_fast.py (installed before any fork)
trafilatura_fast.install()

# The sandbox logs process clean-up at INFO on every exit; that is noise in Spark worker logs.
logger.disable("datatrove.pipeline.extractors")


@dataclass(frozen=True)
class ExtractOptions:
    """trafilatura settings (see ``trafilatura.bare_extraction``)."""

    favor_precision: bool = True
    favor_recall: bool = False
    include_tables: bool = True
    include_code: bool = True
    include_formatting: bool = False
    with_metadata: bool = True
    fast: bool = False


class ExtractionError(Exception):
    """An exception raised by trafilatura in the child, carried back by type name
    (the original may not pickle)."""

    @property
    def type_name(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Extracted:
    text: str | None
    title: str | None
    date: str | None


@dataclass(frozen=True)
class Outcome:
    """One document's result: ``extracted`` on success, else ``reason`` (``extract:...``)."""

    extracted: Extracted | None = None
    reason: str | None = None


def extract_html(html: str, url: str | None, options: ExtractOptions) -> Extracted | ExtractionError:
    """Run trafilatura on one page. Exceptions are returned, not raised, so the sandbox's
    child survives them and the parent learns their type."""
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=options.with_metadata,
            favor_precision=options.favor_precision,
            favor_recall=options.favor_recall,
            include_tables=options.include_tables,
            include_formatting=options.include_formatting,
            include_comments=False,
            fast=options.fast,
            # Code lives in <pre>; trafilatura keeps it with its indentation unless pruned.
            prune_xpath=None if options.include_code else ["//pre"],
            # trafilatura's dedup keeps an LRU of segments across documents of a process,
            # which would make a page's text depend on partitioning: off.
            deduplicate=False,
        )
    except Exception as e:  # any parser failure is this document's problem, not the run's
        return ExtractionError(type(e).__name__, str(e)[:200])
    if doc is None:
        return Extracted(None, None, None)
    return Extracted(doc.text, doc.title, doc.date)


_WARMUP_PAGE = (
    "<html><head><title>Warm-up</title><meta name='date' content='2020-01-01'></head><body><article>"
    + "<p>This paragraph only exists to make trafilatura load its lazy resources once.</p>" * 5
    + "</article></body></html>"
)


@functools.cache
def _warm_parent() -> None:
    """Extract one page in this process before forking, so every sandbox child (a new one after
    each timeout) inherits trafilatura's lazily loaded state instead of loading it again."""
    extract_html(_WARMUP_PAGE, None, ExtractOptions())


_SANDBOX: ExtractorSandbox | None = None
_OWNER = 0
_GUARDED = 0
"""Pid of the process whose parent-death signal is set (the sandbox child, after its first page)."""


def _sandboxed(
    html: str, url: str | None, options: ExtractOptions, parent: int
) -> Extracted | ExtractionError:
    """:func:`extract_html` as the sandbox child runs it (the first call arms the guard)."""
    global _GUARDED
    if _GUARDED != os.getpid():
        # a kept child outlives its batch; PySpark ends workers with os._exit or SIGKILL, and
        # the child holds both ends of its pipe, so it would never see EOF
        lifetime.die_with_parent(parent)
        _GUARDED = os.getpid()
    return extract_html(html, url, options)


def _sandbox(timeout_s: float) -> ExtractorSandbox:
    """This process's sandbox, kept across calls: starting one forks the whole worker
    (trafilatura, lxml, the heuristics' spaCy tables ...), 0.16 s of CPU each, measured on the
    web bench's pages, where a sandbox per batch forked about 50 times per run. The kernel
    kills the child when this process ends (:func:`~corpus.engine.lifetime.die_with_parent`); one killed for a
    timeout is replaced at the next page."""
    global _SANDBOX, _OWNER
    if _SANDBOX is None or _OWNER != os.getpid():  # none yet, or inherited through a fork
        _warm_parent()
        _OWNER = os.getpid()
        warmup = ("<html></html>", None, ExtractOptions(), os.getpid())
        _SANDBOX = ExtractorSandbox(timeout=timeout_s, warmup_text=warmup)
    _SANDBOX.timeout = timeout_s
    return _SANDBOX


def extract_many(
    pages: Sequence[tuple[str | None, str | None]], options: ExtractOptions, timeout_s: float
) -> Iterator[Outcome]:
    """Extract ``(html, url)`` pages in order, each with at most ``timeout_s`` seconds."""
    sandbox = _sandbox(timeout_s)
    for html, url in pages:
        if not html or not html.strip():
            yield Outcome(reason="extract:empty")
            continue
        try:
            extracted = sandbox.process_document((html, url, options, os.getpid()), _sandboxed)
            timings.watch_child(sandbox.process.pid)
            yield Outcome(extracted=extracted)
        except TimeoutError:
            yield Outcome(reason="extract:timeout")
        except EOFError:  # the child died (e.g. killed for memory); the next call starts another
            yield Outcome(reason="extract:error:ChildDied")
        except ExtractionError as e:
            yield Outcome(reason=f"extract:error:{e.type_name}")


def _shingles(text: str, n: int = 5) -> set[str]:
    t = " ".join(text.lower().split())
    return {t[i : i + n] for i in range(max(1, len(t) - n + 1))} if t else set()


def shingle_f1(predicted: str, gold: str) -> float:
    """Character 5-gram shingle F1 of an extraction against a gold text (sets, lower-cased,
    whitespace collapsed): the quality figure of the extraction tests and benchmarks."""
    p, g = _shingles(predicted), _shingles(gold)
    both = len(p & g)
    if not both:
        return 0.0
    precision, recall = both / len(p), both / len(g)
    return 2 * precision * recall / (precision + recall)
