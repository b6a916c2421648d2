"""Build the bundled sample WARC from the project's own texts.

``python -m corpus.sample --out data/sample/sample.warc.gz [--seed 0] [--scale 1]``

The sample mixes what a web crawl contains, so every stage has something to do: long
articles, boilerplate-heavy pages, keyword spam, eleven languages (some in legacy charsets),
exact duplicates, near duplicates, template pages, code tutorials, maths pages, forum threads,
thin pages, HTTP errors, non-HTML payloads, revisits and request records; some payloads are
gzip/brotli/chunked encoded. Everything derives from ``seed``: the same seed writes the same
bytes. ``scale`` repeats the crawl on mirror hosts (template and spam pages are regenerated,
the rest copied), for benchmarks that need thousands of pages.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import brotli

from corpus.sample import html, templates
from corpus.sample.text_en import ARTICLES, COMMENTS, NOTICES, THIN_PAGES, THREAD_TITLES
from corpus.sample.text_intl import INTL, LEGACY_CHARSET
from corpus.sample.text_tech import CODE_PAGES, MATH_PAGES
from corpus.sample.warcfile import DeterministicWarc, payload_digest
from corpus.warc.decode import codec_for

SITES = [
    "dailyledger.example",
    "greenleaf.example",
    "railnotes.example",
    "workbench.example",
    "citydesk.example",
]
USERS = [
    "maple_tree",
    "k.jansen",
    "rustybike",
    "owl_at_night",
    "breadhead",
    "m_ortiz",
    "quietreader",
    "tinkerer42",
]
TEMPLATE_PAGES_PER_FAMILY = 26
SPAM_PAGES = 40
TEMPLATE_FAMILIES = tuple(templates.FAMILIES)


@dataclass
class Page:
    url: str
    html: str
    kind: str
    lang: str
    charset: str = "utf-8"
    declare: str = "header"
    """Where the charset is declared: ``header``, ``meta`` (in the HTML only), ``none`` or
    ``wrong`` (the header says UTF-8, the bytes are not)."""
    coding: str | None = None
    status: str = "200 OK"
    headers: tuple[tuple[str, str], ...] = ()


def _date(rng: random.Random) -> str:
    return f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _near_duplicate(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Small edits, as a republished or corrected copy has: a dropped sentence, a changed word,
    an update note."""
    out = list(paragraphs)
    i = rng.randrange(len(out))
    sentences = out[i].split(". ")
    if len(sentences) > 2:
        del sentences[rng.randrange(1, len(sentences))]
        out[i] = ". ".join(sentences)
    j = rng.randrange(len(out))
    words = out[j].split(" ")
    k = rng.randrange(len(words))
    words[k] = rng.choice(["often", "usually", "really", "quite", "simply"])
    out[j] = " ".join(words)
    return [f"Updated on {_date(rng)}: minor corrections.", *out]


def _articles(rng: random.Random, host: str) -> list[Page]:
    pages = []
    titles = [a["title"] for a in ARTICLES]
    for n, art in enumerate(ARTICLES):
        site = SITES[n % len(SITES)]
        body = html.paragraphs_html(art["paragraphs"])
        page = html.article(
            site, art["title"], body, "en", _date(rng), rng, boilerplate=1 + n % 2, related=titles[:5]
        )
        url = f"https://{host}{site}/{art['slug']}"
        pages.append(Page(url, page, "article", "en"))
        if n % 3 == 0:  # exact copy on a mirror
            pages.append(
                Page(
                    f"https://mirror.{host}{site}/{art['slug']}?utm_source=feed",
                    page,
                    "exact_duplicate",
                    "en",
                )
            )
        if n % 3 == 1:  # syndicated: same text, another site's layout
            other = SITES[(n + 2) % len(SITES)]
            synd = html.article(
                other, art["title"], body, "en", _date(rng), rng, boilerplate=3, related=titles[5:]
            )
            pages.append(
                Page(f"https://{host}{other}/syndicated/{art['slug']}", synd, "syndicated_duplicate", "en")
            )
        if n < 8:
            edited = html.paragraphs_html(_near_duplicate(art["paragraphs"], rng))
            near = html.article(site, art["title"], edited, "en", _date(rng), rng, boilerplate=1 + n % 2)
            pages.append(Page(f"https://{host}{site}/{art['slug']}-updated", near, "near_duplicate", "en"))
    return pages


def _intl(rng: random.Random, host: str) -> list[Page]:
    pages = []
    declares = ["header", "meta", "none"]
    for lang, texts in INTL.items():
        for n, (title, paragraphs) in enumerate(texts):
            url = f"https://{host}{lang}.news.example/{lang}-{n}"
            charset, declare = "utf-8", "header"
            if n == 0 and lang in LEGACY_CHARSET:
                charset = LEGACY_CHARSET[lang]
                declare = declares[len(pages) % 3]
            if lang == "de" and n == 2:
                charset, declare = "iso-8859-1", "wrong"
            meta = charset if declare == "meta" else None
            page = html.article(
                f"{lang}.news.example",
                title,
                html.paragraphs_html(paragraphs),
                lang,
                _date(rng),
                rng,
                1,
                meta_charset=meta,
            )
            pages.append(Page(url, page, "multilingual", lang, charset, declare))
            if n == 1 and lang in ("zh", "ja", "fr"):
                pages.append(Page(url + "?print=1", page, "exact_duplicate", lang))
            if n == 2 and lang in ("de", "es"):
                near = html.article(
                    f"{lang}.news.example",
                    title,
                    html.paragraphs_html(paragraphs[:-1] + [paragraphs[-1] + " 2024."]),
                    lang,
                    _date(rng),
                    rng,
                    1,
                )
                pages.append(Page(url + "-v2", near, "near_duplicate", lang))
    return pages


def _boilerplate_heavy(rng: random.Random, host: str) -> list[Page]:
    pages = []
    titles = [a["title"] for a in ARTICLES]
    for n, (title, text) in enumerate(NOTICES):
        site = SITES[n % len(SITES)]
        page = html.article(
            site,
            title,
            f"<p>{html.escape(text)}</p>",
            "en",
            _date(rng),
            rng,
            boilerplate=3,
            related=rng.sample(titles, 5),
        )
        pages.append(Page(f"https://{host}{site}/notices/{n}", page, "boilerplate_heavy", "en"))
    for n in range(10):
        teasers = [(t, s) for t, s in rng.sample(NOTICES, 4)]
        page = html.listing(SITES[n % len(SITES)], f"Local news - page {n + 1}", teasers, rng)
        pages.append(Page(f"https://{host}{SITES[n % len(SITES)]}/local/page/{n + 1}", page, "listing", "en"))
    return pages


def _forum(rng: random.Random, host: str) -> list[Page]:
    pages = []
    for t, title in enumerate(THREAD_TITLES):
        for p in range(3):
            chosen = rng.sample(COMMENTS, rng.randint(3, 6))
            posts = [(rng.choice(USERS), c) for c in chosen]
            pages.append(
                Page(
                    f"https://{host}forum.example/t/{t}?page={p + 1}",
                    html.forum("forum.example", title, posts, p, rng),
                    "forum",
                    "en",
                )
            )
    return pages


def _generated(rng: random.Random, host: str) -> list[Page]:
    pages = []
    for family in TEMPLATE_FAMILIES:
        make = templates.FAMILIES[family]
        for n in range(TEMPLATE_PAGES_PER_FAMILY):
            title, paragraphs = make(rng)
            page = html.article(
                f"{family}s.example", title, html.paragraphs_html(paragraphs), "en", _date(rng), rng, 2
            )
            pages.append(
                Page(f"https://{host}{family}s.example/{family}/{n}", page, f"template_{family}", "en")
            )
    for n in range(SPAM_PAGES):
        title, paragraphs = templates.spam(rng)
        page = html.document(title, f"<h1>{html.escape(title)}</h1>" + html.paragraphs_html(paragraphs), "en")
        pages.append(Page(f"https://{host}best-deals-{n}.example/", page, "spam", "en"))
    return pages


def _technical(rng: random.Random, host: str) -> list[Page]:
    pages = []
    for n, cp in enumerate(CODE_PAGES):
        body = html.code_body(cp["intro"], cp["blocks"], cp["outro"])
        pages.append(
            Page(
                f"https://{host}devnotes.example/posts/{n}",
                html.article("devnotes.example", cp["title"], body, "en", _date(rng), rng, 1 + n % 2),
                "code",
                "en",
            )
        )
    for n, mp in enumerate(MATH_PAGES):
        body = html.paragraphs_html(mp["paragraphs"]) + mp.get("mathml", "")
        pages.append(
            Page(
                f"https://{host}mathcorner.example/{n}",
                html.article("mathcorner.example", mp["title"], body, "en", _date(rng), rng, 1),
                "math_science",
                "en",
            )
        )
    return pages


def _other(rng: random.Random, host: str) -> list[Page]:
    pages = [
        Page(
            f"https://{host}{SITES[n % 5]}/{title.lower().replace(' ', '-')}",
            html.document(title, f"<h1>{title}</h1><p>{text}</p>", "en"),
            "thin",
            "en",
        )
        for n, (title, text) in enumerate(THIN_PAGES)
    ]
    for n, (status, body) in enumerate(
        [
            ("404 Not Found", "Page not found"),
            ("500 Internal Server Error", "Server error"),
            ("404 Not Found", "Nothing here"),
        ]
    ):
        pages.append(
            Page(
                f"https://{host}{SITES[n]}/missing/{n}",
                html.document(body, f"<h1>{body}</h1>", "en"),
                "http_error",
                "en",
                status=status,
            )
        )
    for n in range(3):
        target = f"https://{host}{SITES[n]}/"
        pages.append(
            Page(
                f"http://{host}{SITES[n]}/",
                html.document("Moved", f'<a href="{target}">Moved</a>', "en"),
                "http_error",
                "en",
                status="301 Moved Permanently",
                headers=(("Location", target),),
            )
        )
    return pages


NON_HTML = [
    ("style.css", "text/css", b"body { font-family: sans-serif; margin: 0 auto; max-width: 42em; }\n"),
    (
        "app.js",
        "application/javascript",
        b"document.querySelectorAll('.cookie-banner').forEach(e => e.remove());\n",
    ),
    ("feed.json", "application/json", b'{"items": [{"title": "Road closure on Mill Street"}]}\n'),
    ("robots.txt", "text/plain", b"User-agent: *\nDisallow: /search\n"),
    ("logo.png", "image/png", None),
    ("report.pdf", "application/pdf", None),
]


def _binary(rng: random.Random, kind: str) -> bytes:
    head = b"\x89PNG\r\n\x1a\n" if kind == "image/png" else b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    return head + rng.randbytes(600)


def plan(seed: int = 0, copy: int = 0, codings: bool = True) -> list[Page]:
    """The pages of one copy of the crawl, in crawl order; ``codings`` False stores every
    payload as plain bytes (for readers that cannot undo brotli)."""
    rng = random.Random(f"{seed}:{copy}")
    host = f"m{copy}." if copy else ""
    pages = []
    for make in (_articles, _intl, _boilerplate_heavy, _forum, _generated, _technical, _other):
        pages += make(rng, host)
    rng.shuffle(pages)
    for page in pages if codings else []:
        if page.declare == "header" and page.charset == "utf-8" and page.status.startswith("200"):
            roll = rng.random()
            page.coding = (
                "gzip" if roll < 0.08 else "br" if roll < 0.12 else "chunked" if roll < 0.15 else None
            )
    return pages


def _payload(page: Page) -> tuple[bytes, str, list[tuple[str, str]]]:
    body = page.html.encode(codec_for(page.charset) or page.charset)
    ctype = {
        "header": f"text/html; charset={page.charset}",
        "meta": "text/html",
        "none": "text/html",
        "wrong": "text/html; charset=utf-8",
    }[page.declare]
    headers = list(page.headers)
    if page.coding == "gzip":
        body, headers = gzip.compress(body, mtime=0), [*headers, ("Content-Encoding", "gzip")]
    elif page.coding == "br":
        body, headers = brotli.compress(body), [*headers, ("Content-Encoding", "br")]
    elif page.coding == "chunked":
        gz = gzip.compress(body, mtime=0)
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(gz), gz)
        headers = [*headers, ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]
    return body, ctype, headers


def write(out: Path, seed: int = 0, scale: int = 1, codings: bool = True) -> Counter:
    """Write the sample WARC to ``out``; returns record counts by kind."""
    counts: Counter = Counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as fh:
        warc = DeterministicWarc(fh, seed=seed)
        warc.warcinfo(out.name, {"software": "corpus.sample", "seed": str(seed), "scale": str(scale)})
        for copy in range(scale):
            rng = random.Random(f"{seed}:{copy}:records")
            first_capture: dict[str, tuple[str, bytes]] = {}
            for n, page in enumerate(plan(seed, copy, codings)):
                body, ctype, headers = _payload(page)
                if n % 3 == 0:
                    warc.request(page.url)
                    counts["request"] += 1
                warc.response(page.url, body, ctype, page.status, headers)
                counts[page.kind] += 1
                if page.kind == "article":
                    first_capture[page.url] = (page.url, body)
            for url, body in sorted(first_capture.values())[:8]:
                warc.revisit(url, url, payload_digest(body))
                counts["revisit"] += 1
            host = f"https://m{copy}.assets.example/" if copy else "https://assets.example/"
            for name, ctype, data in NON_HTML:
                warc.response(host + name, data or _binary(rng, ctype), ctype)
                counts["non_html"] += 1
    tmp.replace(out)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corpus.sample", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/sample/sample.warc.gz"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, default=1, help="copies of the crawl (mirror hosts)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts = write(args.out, args.seed, max(1, args.scale))
    responses = sum(v for k, v in counts.items() if k not in ("request", "revisit"))
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB): {responses} responses, "
        f"{counts['revisit']} revisits, {counts['request']} requests in {time.perf_counter() - start:.1f}s",
        file=sys.stderr,
    )
    return 0
