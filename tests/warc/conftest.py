"""Archives the project writes for reader tests: legacy charsets, codings, damaged files."""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from pathlib import Path

import brotli
import pytest

from corpus.sample.warcfile import DeterministicWarc, payload_digest

JA = "駅前の図書館は、毎週土曜日に子ども向けの読み聞かせ会を開いています。参加は無料です。"
ZH = "这座城市的公共图书馆每周六举办读书会，活动免费参加。围棋的碁字在这里也能正确显示。"
DE = "Die Stadtbücherei öffnet samstags früher. Für Kinder gibt es eine Vorlesestunde; die Größe überrascht."
BIG_PAGE_BYTES = 50_000_000


def html(body: str, meta: str | None = None) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<!DOCTYPE html><html><head>{head}<title>page</title></head><body><p>{body}</p></body></html>"


@dataclass
class BadInputs:
    folder: Path
    expected: dict[str, str | None] = field(default_factory=dict)
    """url -> removal reason (None = kept) for the records of ``charsets.warc.gz``."""
    texts: dict[str, str] = field(default_factory=dict)
    """url -> a passage the decoded page must contain."""


def write_charsets(path: Path, bad: BadInputs) -> None:
    def page(url: str, body: bytes, ctype: str, text: str | None, reason: str | None = None, **kw) -> None:
        w.request(url)
        w.response(url, body, ctype, **kw)
        bad.expected[url] = reason
        if text:
            bad.texts[url] = text

    with path.open("wb") as fh:
        w = DeterministicWarc(fh, seed=7)
        w.warcinfo(path.name, {"software": "corpus tests"})
        page("http://ja.test/sjis-header", html(JA).encode("shift_jis"), "text/html; charset=Shift_JIS", JA)
        page("http://ja.test/sjis-meta", html(JA, "shift_jis").encode("shift_jis"), "text/html", JA)
        page("http://zh.test/gbk-as-gb2312", html(ZH, "gb2312").encode("gbk"), "text/html", ZH)
        page("http://de.test/latin1-as-utf8", html(DE).encode("latin-1"), "text/html; charset=utf-8", DE)
        page("http://de.test/utf8-as-latin1", html(DE).encode(), "text/html; charset=iso-8859-1", DE)
        gz = gzip.compress(html(DE).encode(), mtime=0)
        page("http://de.test/gzip", gz, "text/html", DE, headers=[("Content-Encoding", "gzip")])
        page(
            "http://ja.test/br",
            brotli.compress(html(JA).encode()),
            "text/html",
            JA,
            headers=[("Content-Encoding", "br")],
        )
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(gz), gz)
        page(
            "http://de.test/chunked-gzip",
            chunked,
            "text/html",
            DE,
            headers=[("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
        )
        page("http://x.test/no-type", html(DE).encode(), "", DE)
        page("http://x.test/binary", bytes(range(256)) * 40, "text/html", None, "warc:decode_error")
        page(
            "http://x.test/bad-gzip",
            b"\x1f\x8b\x08\x00" + bytes(64),
            "text/html",
            None,
            "warc:decode_error",
            headers=[("Content-Encoding", "gzip")],
        )
        page("http://x.test/empty", b"", "text/html", None, "warc:empty_payload")
        page(
            "http://x.test/missing",
            html("Not found").encode(),
            "text/html",
            None,
            "warc:http_status",
            status="404 Not Found",
        )
        page("http://x.test/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png", None, "warc:non_html")
        w.revisit("http://de.test/gzip-again", "http://de.test/gzip", payload_digest(gz))
        bad.expected["http://de.test/gzip-again"] = "warc:revisit"


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory) -> BadInputs:
    """A folder of project-made archives: good pages in awkward encodings and damaged files."""
    folder = tmp_path_factory.mktemp("bad_warcs")
    bad = BadInputs(folder)
    write_charsets(folder / "charsets.warc.gz", bad)
    data = (folder / "charsets.warc.gz").read_bytes()
    (folder / "truncated.warc.gz").write_bytes(data[: len(data) * 2 // 3])
    (folder / "empty.warc.gz").write_bytes(b"")
    (folder / "random.warc.gz").write_bytes(random.Random(3).randbytes(4096))
    with (folder / "big.warc").open("wb") as fh:
        paragraph = "<p>" + "A long page that keeps going. " * 100 + "</p>\n"
        body = "<!DOCTYPE html><html><body>" + paragraph * (BIG_PAGE_BYTES // len(paragraph))
        body = (body + " " * (BIG_PAGE_BYTES - len(body) - 14) + "</body></html>").encode()
        assert len(body) == BIG_PAGE_BYTES
        DeterministicWarc(fh, seed=8, gzip=False).response("http://big.test/", body)
    return bad
