"""Payload decoding without Spark: codings, charsets declared right, wrong or not at all."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from corpus.warc.decode import (
    DecodeError,
    TooLarge,
    codec_for,
    dechunk,
    decode_text,
    decompress,
    looks_like_html,
    meta_charset,
)

JA = (
    "東京の図書館では、毎週土曜日に子ども向けの読み聞かせ会が開かれています。"
    "参加は無料で、事前の申し込みは必要ありません。季節ごとに新しい絵本が紹介され、"
    "保護者の方にも好評です。"
)
ZH = (
    "这座城市的公共图书馆每周六都会举办读书会。活动免费参加，不需要提前报名。"
    "每个季度都会介绍新的图书，家长和孩子们都很喜欢。馆内还有安静的自习区和咖啡角。"
)
DE = (
    "Die Stadtbücherei öffnet samstags früher als gewöhnlich. Für Kinder gibt es eine "
    "Vorlesestunde, und die Größe des Lesesaals überrascht viele Besucher. Gebühren fallen "
    "nicht an; eine Anmeldung ist nicht nötig."
)
FR = "La bibliothèque municipale ouvre à neuf heures. Les enfants écoutent des contes près de la fenêtre, été comme hiver."


def page(body: str, meta: str | None = None) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_shift_jis_declared_in_header():
    raw = page(JA).encode("shift_jis")
    text, codec = decode_text(raw, "text/html; charset=Shift_JIS")
    assert JA in text and codec == "cp932"


def test_shift_jis_declared_in_meta_only():
    raw = page(JA, meta="shift_jis").encode("shift_jis")
    text, _ = decode_text(raw, "text/html")
    assert JA in text


def test_gbk_declared_as_gb2312_decodes_with_superset():
    # 碁 and 喆 are GBK, not GB2312: pages labelled gb2312 routinely contain such characters.
    body = ZH + "围棋的碁字与人名喆字。"
    raw = page(body, meta="gb2312").encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")
    text, codec = decode_text(raw, None)
    assert body in text and codec == "gb18030"


@pytest.mark.parametrize("body", [DE, FR])
def test_latin1_declared_as_utf8_falls_back(body):
    raw = page(body).encode("latin-1")
    text, codec = decode_text(raw, "text/html; charset=UTF-8")
    assert body in text, codec
    assert "\ufffd" not in text


def test_utf8_declared_as_latin1_is_utf8():
    raw = page(DE).encode("utf-8")
    text, codec = decode_text(raw, "text/html; charset=ISO-8859-1")
    assert DE in text and codec == "utf-8"


@pytest.mark.parametrize(("body", "encoding"), [(JA, "shift_jis"), (ZH, "gbk"), (DE, "latin-1")])
def test_undeclared_legacy_charsets_are_detected(body, encoding):
    raw = page(body * 3).encode(encoding)
    text, _ = decode_text(raw, "text/html")
    assert body in text


def test_utf8_with_a_stray_byte_stays_utf8():
    raw = page(JA).encode("utf-8").replace(b"<p>", b"<p>\xff", 1)
    text, codec = decode_text(raw, "text/html; charset=utf-8")
    assert codec == "utf-8" and JA in text and text.count("\ufffd") == 1


def test_bom_wins():
    raw = page(FR).encode("utf-16")
    text, _ = decode_text(raw, "text/html; charset=iso-8859-1")
    assert FR in text


def test_binary_is_a_decode_error():
    noise = bytes(range(256)) * 64
    with pytest.raises(DecodeError):
        decode_text(zlib.compress(noise * 4) + noise, None)


def test_labels_map_to_whatwg_supersets():
    assert codec_for("ISO-8859-1") == "cp1252"
    assert codec_for("Shift_JIS") == "cp932"
    assert codec_for("GB2312") == "gb18030"
    assert codec_for("euc-kr") == "cp949"
    assert codec_for("utf8") == "utf-8"
    assert codec_for("no-such-charset") is None
    assert meta_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=EUC-JP">') == "EUC-JP"


def test_dechunk_round_trip_and_passthrough():
    html = page(FR).encode()
    chunked = (
        b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in (html[:10], html[10:])) + b"0\r\n\r\n"
    )
    assert dechunk(chunked) == html
    assert dechunk(html) == html  # stored de-chunked with the header kept


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", lambda b: gzip.compress(b, mtime=0)),
        ("br", brotli.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_content_encodings(coding, encode):
    html = page(DE).encode()
    assert decompress(encode(html), [coding], 1 << 20) == html


def test_chunked_gzip_is_undone_in_order():
    html = page(ZH).encode()
    gz = gzip.compress(html, mtime=0)
    chunked = f"{len(gz):x}\r\n".encode() + gz + b"\r\n0\r\n\r\n"
    assert decompress(chunked, ["gzip", "chunked"], 1 << 20) == html


def test_stale_encoding_header_on_decoded_payload():
    html = page(FR).encode()
    assert decompress(html, ["gzip"], 1 << 20) == html
    assert decompress(html, ["br"], 1 << 20) == html


def test_corrupt_compression_is_a_decode_error():
    with pytest.raises(DecodeError):
        decompress(b"\x1f\x8b\x08\x00" + bytes(200), ["gzip"], 1 << 20)
    with pytest.raises(DecodeError):
        decompress(bytes(range(200)), ["br"], 1 << 20)


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_compression_bomb_is_capped(coding):
    bomb = (
        gzip.compress(bytes(20 << 20), mtime=0)
        if coding == "gzip"
        else brotli.compress(bytes(20 << 20), quality=1)
    )
    with pytest.raises(TooLarge):
        decompress(bomb, [coding], 1 << 20)


def test_html_sniffing():
    assert looks_like_html(b"  <!-- x -->\n<!DOCTYPE html><html>")
    assert looks_like_html(b"<html lang=en>")
    assert not looks_like_html(b"\x89PNG\r\n\x1a\n")
    assert not looks_like_html(b'{"a": 1}')
