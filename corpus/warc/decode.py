"""HTTP payload bytes -> text: undo transfer/content encodings, then choose the charset.

Archives store payloads as the server sent them, so a page may still be chunked, gzip- or
brotli-compressed, and in any charset, often declared wrongly. The order follows browsers
(byte-order mark, HTTP header, ``<meta>``, then detection) with two corrections for what
crawls actually contain: a declared single-byte charset loses to bytes that are valid
UTF-8 (the usual mislabel), and a declared charset that does not decode falls through to
the next candidate instead of producing mojibake. Labels map to the superset codecs the
WHATWG Encoding standard prescribes (Shift_JIS -> cp932, GB2312/GBK -> gb18030,
ISO-8859-1 -> cp1252 ...), because that is what the pages were written in.
"""

from __future__ import annotations

import codecs
import re
import zlib

import brotli
from charset_normalizer import from_bytes


class DecodeError(ValueError):
    """The payload cannot be turned into text (corrupt compression, binary, no charset fits)."""


class TooLarge(ValueError):
    """The decoded payload exceeds the size limit (a compression bomb or a huge page)."""


# WHATWG label -> the Python codec browsers effectively use for it.
_WHATWG = {
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "x-euc-jp": "euc_jp",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}

_SINGLE_BYTE = re.compile(r"^(cp125\d|cp874|iso8859_\d+|latin_1|mac_\w+|koi8_\w|cp437|cp850)$")
_META = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_TAG = re.compile(rb"<[^>]*>")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|title|meta)\b", re.I | re.S)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
META_SCAN_BYTES = 16_384
"""How far into the page to look for ``<meta charset>`` (browsers scan 1 KB; old pages
put it after long scripts)."""
DETECT_BYTES = 65_536
"""Bytes of tag-stripped text given to the detector: enough for a stable guess, bounded cost."""
MAX_REPLACED = 0.01
"""Largest share of U+FFFD a lenient decode may produce and still count as text."""


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _WHATWG:
        return _WHATWG[label]
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WHATWG.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header value."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def meta_charset(html: bytes) -> str | None:
    """The charset a ``<meta charset>`` or ``<meta http-equiv=Content-Type>`` tag declares."""
    match = _META.search(html, 0, META_SCAN_BYTES)
    return match.group(1).decode("ascii") if match else None


def looks_like_html(body: bytes) -> bool:
    """Sniff a payload whose Content-Type is missing: does it start like an HTML document?"""
    return bool(_HTML_START.match(body[:2048]))


def dechunk(body: bytes) -> bytes:
    """Undo ``Transfer-Encoding: chunked``; a body that is not chunked (archives often store
    the de-chunked payload but keep the header) is returned unchanged, a truncated one up to
    its last whole chunk."""
    out, pos = [], 0
    while True:
        eol = body.find(b"\r\n", pos, pos + 64)
        if eol < 0:
            break
        size_field = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            break
        if size == 0:
            return b"".join(out)
        start = eol + 2
        if start + size > len(body):
            out.append(body[start:])
            return b"".join(out)
        out.append(body[start : start + size])
        pos = start + size + 2
    return b"".join(out) if out else body


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    d = zlib.decompressobj(wbits)
    out = d.decompress(body, limit + 1)
    if len(out) > limit:
        raise TooLarge(f"decompressed payload exceeds {limit} bytes")
    return out


def _unbrotli(body: bytes, limit: int) -> bytes:
    d = brotli.Decompressor()
    out = d.process(body, output_buffer_limit=limit + 1)
    if len(out) > limit:
        raise TooLarge(f"decompressed payload exceeds {limit} bytes")
    if not d.is_finished():
        raise DecodeError("truncated brotli stream")
    return out


def _decompress_one(body: bytes, coding: str, limit: int) -> bytes:
    if coding in ("", "identity", "none"):
        return body
    if coding == "chunked":
        return dechunk(body)
    if coding in ("gzip", "x-gzip"):
        if not body.startswith(b"\x1f\x8b"):
            return body  # stored already decoded, header kept
        return _inflate(body, 16 + zlib.MAX_WBITS, limit)
    if coding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS, limit)
        except zlib.error:
            return _inflate(body, -zlib.MAX_WBITS, limit)
    if coding == "br":
        return _unbrotli(body, limit)
    raise DecodeError(f"unsupported content-encoding {coding!r}")


def decompress(body: bytes, encodings: list[str], limit: int) -> bytes:
    """Undo the transfer and content codings, last applied first.

    ``encodings`` lists codings in the order the server applied them (Content-Encoding,
    then Transfer-Encoding). A payload whose coding fails but that already looks like HTML
    was stored decoded with a stale header and is returned as it is.
    """
    for coding in reversed([c.strip().lower() for c in encodings if c and c.strip()]):
        try:
            body = _decompress_one(body, coding, limit)
        except (zlib.error, brotli.error, DecodeError) as err:
            if looks_like_html(body):
                continue
            raise DecodeError(f"{coding}: {err}") from err
    if len(body) > limit:
        raise TooLarge(f"payload exceeds {limit} bytes")
    return body


def _utf8_mostly(body: bytes) -> str | None:
    """UTF-8 with a few broken bytes (common in real pages) rather than a wrong charset:
    accepted when valid multi-byte characters outnumber errors twenty to one."""
    text = body.decode("utf-8", "replace")
    errors = text.count("\ufffd")
    non_ascii = sum(1 for c in text if ord(c) > 127) - errors
    return text if errors * 20 <= non_ascii else None


def _detect(body: bytes) -> tuple[str, str] | None:
    """Charset detection on the tag-stripped start of the page (markup is ASCII and only
    dilutes the statistics). Where windows-1252 fits as well as the detector's pick (Latin
    text often fits several code pages equally), it wins: it is the web's legacy default."""
    sample = _TAG.sub(b" ", body[: DETECT_BYTES * 4])[:DETECT_BYTES]
    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    tied = {m.encoding for m in matches if (m.chaos, -m.coherence) <= (best.chaos, -best.coherence)}
    codec = "cp1252" if "cp1252" in tied else codec_for(best.encoding)
    if codec is None:
        return None
    text = body.decode(codec, "replace")
    if text.count("\ufffd") > MAX_REPLACED * max(len(text), 1):
        return None
    return text, codec


def decode_text(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML payload; returns ``(text, codec)``. Raises :class:`DecodeError` when
    no charset yields text (binary content, or too many undecodable bytes)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                break
    declared = [c for c in (codec_for(header_charset(content_type)), codec_for(meta_charset(body))) if c]
    for codec in dict.fromkeys(declared):
        if _SINGLE_BYTE.match(codec):
            try:
                return body.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    if "utf-8" not in declared:
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    text = _utf8_mostly(body)
    if text is not None:
        return text, "utf-8"
    detected = _detect(body)
    if detected is None:
        raise DecodeError("no charset decodes the payload (binary or undecodable bytes)")
    return detected
