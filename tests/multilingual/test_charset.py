"""Charset decisions: one order of evidence, never garble kept (issue 11, failure 3).

Every page here is written by the test from :mod:`tests.multilingual.samples`. The round trip
covers every text codec Python knows (``encodings`` package), except the few that are not
charsets a web page can be written in (Python escape codecs, IDNA/punycode host names, the
``undefined`` / ``charmap`` helpers and Windows-only ``mbcs`` / ``oem``).
"""

from __future__ import annotations

import codecs
import encodings
import pkgutil

import pytest

from corpus.warc.decode import DecodeError, decode_text, meta_charset
from tests.multilingual.samples import SAMPLES

NOT_PAGE_CHARSETS = {
    "aliases",
    "charmap",
    "idna",
    "mbcs",
    "oem",
    "punycode",
    "raw_unicode_escape",
    "undefined",
    "unicode_escape",
}


def _text_codecs() -> list[str]:
    out = []
    for mod in pkgutil.iter_modules(encodings.__path__):
        if mod.name in NOT_PAGE_CHARSETS:
            continue
        try:
            info = codecs.lookup(mod.name)
        except LookupError:
            continue
        if getattr(info, "_is_text_encoding", True):
            out.append(mod.name)
    return sorted(out)


CODECS = _text_codecs()


def _html(body: str, meta: str | None = None) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return (
        f"<!DOCTYPE html><html><head>{head}<title>page</title></head>"
        f"<body><h1>Library</h1><p>{body}</p><p>{body}</p></body></html>"
    )


def _best_sample(codec: str) -> str:
    """The passage with the most non-ASCII characters that ``codec`` encodes and decodes back."""
    best = SAMPLES["en"]
    for text in SAMPLES.values():
        try:
            ok = codecs.decode(codecs.encode(text, codec), codec) == text
        except (UnicodeError, ValueError):
            ok = False
        if ok and sum(ord(c) > 127 for c in text) > sum(ord(c) > 127 for c in best):
            best = text
    return best


def test_codec_list_is_the_whole_table():
    assert len(CODECS) > 90 and {"utf_8", "cp1252", "gb18030", "shift_jis", "koi8_r", "cp037"} <= set(CODECS)


@pytest.mark.parametrize("codec", CODECS)
def test_declared_correctly_decodes_exactly(codec):
    page = _html(_best_sample(codec))
    text, _ = decode_text(page.encode(codec), f"text/html; charset={codec}")
    assert text == page


WRONG = ["windows-1252", "gbk", "shift_jis", "koi8-r", "utf-8"]


@pytest.mark.parametrize(
    ("codec", "wrong"), [pytest.param(c, w, id=f"{c}-as-{w}") for c in CODECS for w in WRONG]
)
def test_declared_wrongly_decodes_exactly_or_is_refused(codec, wrong):
    page = _html(_best_sample(codec))
    try:
        text, _ = decode_text(page.encode(codec), f"text/html; charset={wrong}")
    except DecodeError:
        return
    assert text == page


VILLAGE = "Le café du village ouvre à sept heures ; on y sert un thé très chaud et des crêpes."


@pytest.mark.parametrize("label", ["gbk", "shift_jis", "gb2312", "euc-kr", "big5", "windows-1251"])
@pytest.mark.parametrize("where", ["header", "meta"])
def test_utf8_page_labelled_legacy_is_utf8_not_garble(label, where):
    """Issue 11 example: a UTF-8 page labelled gbk became "Le caf茅 du village" and was kept."""
    page = _html(VILLAGE, meta=label if where == "meta" else None)
    header = f"text/html; charset={label}" if where == "header" else "text/html"
    text, codec = decode_text(page.encode("utf-8"), header)
    assert (text, codec) == (page, "utf-8")


def test_charset_inside_another_meta_tag_is_not_a_declaration():
    """Issue 11 example: ``charset=`` inside a description's content was taken as the charset."""
    head = (
        b'<meta name="description" content="How to set charset=gbk in your editor">'
        b'<meta property="og:title" content="x; charset=shift_jis">'
    )
    assert meta_charset(head) is None
    assert meta_charset(b"<!-- <meta charset=gbk> --><meta charset='koi8-r'>") == "koi8-r"
    assert meta_charset(b'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=EUC-JP">') == "EUC-JP"
    assert meta_charset(b'<meta content="text/html; charset=big5" http-equiv=content-type>') == "big5"
    page = _html(VILLAGE).replace("<title>", '<meta name="description" content="charset=gbk"><title>')
    text, codec = decode_text(page.encode("utf-8"), "text/html")
    assert (text, codec) == (page, "utf-8")


def test_undecodable_record_goes_to_removed_with_a_reason(tmp_path):
    """A page no charset reads cleanly is removed by the WARC reader as ``warc:decode_error``."""
    from corpus.sample.warcfile import DeterministicWarc
    from corpus.stages.base import REASON
    from corpus.warc.records import ReadOptions, read_file

    garble = ("Ìîñêâà — ñòîëèöà. ".encode("cp1252") + bytes(range(0x80, 0xA0))) * 20
    good = _html(SAMPLES["ru"]).encode("cp1251")
    path = tmp_path / "two.warc"
    with path.open("wb") as fh:
        w = DeterministicWarc(fh, seed=3)
        w.warcinfo(path.name, {"software": "corpus tests"})
        for url, body, ctype in [
            ("http://x.test/garble", b"<html><body><p>" + garble + b"</p></body></html>", "text/html"),
            ("http://x.test/ru", good, "text/html; charset=windows-1251"),
        ]:
            w.request(url)
            w.response(url, body, ctype)
    rows = {r["url"]: r for r in read_file(str(path), path.name, ReadOptions()) if r.get("url")}
    assert rows["http://x.test/garble"][REASON] == "warc:decode_error"
    assert "no charset decodes the payload cleanly" in rows["http://x.test/garble"]["warc_error"]
    assert rows["http://x.test/ru"][REASON] is None
    assert SAMPLES["ru"] in rows["http://x.test/ru"]["text"]
