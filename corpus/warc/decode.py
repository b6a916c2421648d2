"""HTTP payload bytes -> text: undo transfer/content encodings, then choose the charset.

Archives store payloads as the server sent them, so a page may still be chunked, gzip- or
brotli-compressed, and in any charset, often declared wrongly. The charset is decided by one
order of evidence (browsers' order, WHATWG Encoding / HTML "prescan"), each candidate checked
before it is accepted:

1. a byte-order mark (UTF-8/16/32) — decoded strictly; then, for a pure 7-bit payload,
   escape-coded text (ISO-2022-JP/KR, HZ, UTF-7), which any ASCII reading would keep as garble;
2. the HTTP ``Content-Type`` header's ``charset=``;
3. a real ``<meta charset=...>`` or ``<meta http-equiv="Content-Type" content="...charset=...">``
   in the first :data:`META_SCAN_BYTES` (comments skipped; ``charset=`` inside another meta
   tag's content, e.g. a description, is not a declaration);
4. UTF-8 (strict), then UTF-8 with a few stray bytes (:func:`_utf8_mostly`);
5. detection (charset-normalizer) on the tag-stripped text, limited to the charsets browsers
   guess (:data:`WEB_CODECS`) and refused when its best reading is messy or near-tied
   readings disagree (:func:`_detect`).

A candidate is rejected, and the next one tried, when (a) its strict decode fails; (b) the
bytes are valid UTF-8 with multi-byte sequences and the candidate decodes them differently
(strictly valid UTF-8 is accepted as it is: the checks below are for the other charsets):
legacy text almost never forms valid multi-byte UTF-8 by chance (Dürst, "The Properties and
Promises of UTF-8", 1997), so such a decode is mojibake ("Le caf茅" from UTF-8 read as
gb18030); (c) the text is implausible: C1 control characters, or charset-normalizer's mess
ratio (suspicious script mixes, accents and symbols inside words) >= :data:`MAX_MESS`. A
declared or detected single-byte code page that survives is replaced by a sibling of its
family (cp1250 for cp1252, Mac Roman for cp1250 ...) whose reading lid.176 recognises as the
page's language clearly better (:func:`_sibling`), or whose reading puts the language's own
letters that the declared code page cannot encode where it reads other letters ("szülõk" for
"szülők": windows-1252 has no ő; :func:`_coverage`). When
no candidate survives, :class:`DecodeError` names every rejection, and the WARC reader sends
the record to ``_removed`` as ``warc:decode_error``. Labels map to the superset codecs the
WHATWG Encoding standard prescribes (Shift_JIS -> cp932, GB2312/GBK -> gb18030, ISO-8859-1 ->
cp1252 ...), because that is what the pages were written in.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
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

_META_TAG = re.compile(rb"<meta(?=[\s/])([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"""([^\s=/>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.S)
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
    """The charset a real ``<meta charset>`` or ``<meta http-equiv=Content-Type content=...>``
    tag declares in the first :data:`META_SCAN_BYTES` (HTML's prescan: comments skipped, the
    first declaring tag wins; ``charset=`` in any other attribute or tag does not count)."""
    head = _COMMENT.sub(b" ", html[:META_SCAN_BYTES])
    for tag in _META_TAG.finditer(head):
        attrs: dict[bytes, bytes] = {}
        for m in _ATTR.finditer(tag.group(1)):
            name = m.group(1).lower()
            if name not in attrs:
                attrs[name] = m.group(2) or m.group(3) or m.group(4) or b""
        if attrs.get(b"charset", b"").strip():
            return attrs[b"charset"].strip().decode("ascii", "replace")
        if attrs.get(b"http-equiv", b"").strip().lower() == b"content-type":
            found = header_charset(attrs.get(b"content", b"").decode("ascii", "replace"))
            if found:
                return found
    return None


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


MAX_MESS = 0.2
"""Largest charset-normalizer mess ratio a decode may have (its own default threshold for
"this decode is garbage"); measured: 0.0 on real German, Polish, Russian, Chinese and Japanese
sentences, >= 1.0 on cp1250/cp1251 text read as cp1252 (tests/multilingual/test_charset.py)."""
MESS_SAMPLE_CHARS = 32_768
"""Characters of tag-stripped text the plausibility checks read."""
MAX_ODD_SHARE = 0.02
"""Largest share of non-ASCII letters that may sit in a mojibake pattern (below)."""
MIN_PRIVATE_USE = 3
"""Private-use characters count as mojibake from this many on (icon fonts put one or two in
real pages)."""
MAX_RARE_HAN = 0.2
"""Largest share of Han characters outside the common sets (GB2312, Big5 level 1, JIS X 0208
level 1); real Chinese and Japanese text stays under 0.05, Big5 read as GB18030 is ~0.8."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_TEXT_TAG = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>", re.I | re.S)
_INNER_UPPER = re.compile(r"([^\W\d_])([^\W\d_a-zA-Z\uff00-\uffef])")
_HALFWIDTH_NEXT_TO_LATIN = re.compile("[\uff61-\uff9f][A-Za-z]|[A-Za-z][\uff61-\uff9f]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_INNER_FINAL_SIGMA = re.compile(r"ς(?=[^\W\d_])")
_HAN = re.compile("[\u4e00-\u9fff]")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _common_han(ch: str) -> bool:
    """Han character of everyday Chinese or Japanese text: in GB2312, Big5 level 1 (0xA440 -
    0xC67E) or JIS X 0208 level 1 (Shift_JIS 0x889F - 0x9872)."""
    for codec, lo, hi in (("gb2312", 0, 0xFFFF), ("big5", 0xA440, 0xC67E), ("shift_jis", 0x889F, 0x9872)):
        try:
            code = int.from_bytes(ch.encode(codec), "big")
        except UnicodeEncodeError:
            continue
        if lo <= code <= hi:
            return True
    return False


def _odd_patterns(sample: str) -> int:
    """Count of mojibake patterns: a non-ASCII capital inside a lower-case word ("bibliothŠque",
    cp850 read as cp1252), half-width katakana glued to Latin letters (Big5 read as Shift_JIS),
    private-use characters (from :data:`MIN_PRIVATE_USE` on), Greek final sigma "ς" inside a
    word (Greek spells it only word-finally; MacGreek read as ISO-8859-7: "ξφςέτεςα"), and all-capital non-ASCII words when most such words are (cp1251
    read as KOI8-R turns every lower-case letter into a capital)."""
    count = sum(1 for m in _INNER_UPPER.finditer(sample) if m.group(1).islower() and m.group(2).isupper())
    private = len(_PRIVATE_USE.findall(sample))
    count += len(_HALFWIDTH_NEXT_TO_LATIN.findall(sample)) + (private if private >= MIN_PRIVATE_USE else 0)
    count += len(_INNER_FINAL_SIGMA.findall(sample))
    cased = [w for w in _WORD.findall(sample) if not w.isascii() and all(c.lower() != c.upper() for c in w)]
    capitals = [w for w in cased if w.isupper()]
    if len(cased) >= 5 and len(capitals) > 0.6 * len(cased):
        count += sum(len(w) for w in capitals)
    return count


def implausible(text: str) -> str | None:
    """Why a decoded page is not plausible text (None when it is): replacement characters;
    control characters (U+0080-U+009F and C0 controls other than tab/newlines never occur in
    real text: they come from reading cp1252 or UTF-8 bytes as ISO-8859-x, or escape-coded
    ISO-2022 as ASCII); mojibake patterns (:func:`_odd_patterns`); rare Han characters
    (:data:`MAX_RARE_HAN`); or charset-normalizer's mess ratio (suspicious script mixes and
    symbols inside words). Sibling code pages (cp1250 text read as cp1252, "Mìstská") read as
    plausible letters here; :func:`_sibling` tells them apart by language."""
    sample = _TEXT_TAG.sub(" ", text[: MESS_SAMPLE_CHARS * 4])[:MESS_SAMPLE_CHARS]
    if _CONTROL.search(sample):
        return "control characters"
    if sample.isascii():
        return None
    if "\ufffd" in sample:
        return "replacement characters"
    letters = sum(1 for c in sample if ord(c) > 127 and c.isalpha())
    odd = _odd_patterns(sample)
    if odd and odd > MAX_ODD_SHARE * letters:
        return f"mojibake patterns ({odd} in {letters} letters)"
    han = _HAN.findall(sample)
    if han:
        rare = sum(1 for c in set(han) if not _common_han(c)) / len(set(han))
        if rare > MAX_RARE_HAN:
            return f"rare Han characters ({rare:.0%})"
    from charset_normalizer.md import mess_ratio

    ratio = mess_ratio(sample, MAX_MESS)
    return f"mess ratio {ratio:.2f}" if ratio >= MAX_MESS else None


def _utf8_mostly(body: bytes) -> str | None:
    """UTF-8 with a few broken bytes (common in real pages) rather than a wrong charset:
    accepted when valid multi-byte characters outnumber errors twenty to one."""
    text = body.decode("utf-8", "replace")
    errors = text.count("\ufffd")
    non_ascii = sum(1 for c in text if ord(c) > 127) - errors
    return text if errors * 20 <= non_ascii else None


DETECT_CHAOS_BAND = 0.02
DETECT_COHERENCE_BAND = 0.2
"""Matches this close to the detector's best (chaos within 0.02, coherence within 0.2) are
treated as equally likely: when they read the bytes differently, lid.176 picks the reading
that is most clearly a language (:func:`_by_language`), else the guess is refused."""
DETECT_MAX_CHAOS = 0.1
"""Largest chaos (charset-normalizer's mess ratio of its own best reading) a detection may
have; measured 0.0 on the right guess for the ja/zh/ko/ru/he/ar/th/de/fr/pl passages of
tests/multilingual, 0.07-0.09 on real EUC-JP pages (ClueWeb09 excerpt in ../shared/data).
A reading with chaos above :data:`DETECT_CLEAN_CHAOS` must also be recognised as a language
(coherence >= :data:`DETECT_MIN_COHERENCE`): Greek read as ISO-8859-5 Cyrillic has chaos
0.086 and coherence 0.0; the real EUC-JP pages have coherence >= 0.1."""
DETECT_CLEAN_CHAOS = 0.05
DETECT_MIN_COHERENCE = 0.05
WEB_CODECS = frozenset(
    {
        *(f"cp{n}" for n in (866, 874, 932, 949, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)),
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "gb18030",
        "big5hkscs",
        "big5",
        "euc_jp",
        "euc_jis_2004",
        "shift_jis",
        "utf-8",
    }
)
"""Codecs a detection may pick: the WHATWG Encoding standard's legacy encodings (what
browsers ever guess). EBCDIC and DOS code pages are decoded only when declared."""


LATIN_CODE_PAGES = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", *(f"iso8859-{n}" for n in (2, 3, 4, 9, 10, 13, 14, 15, 16))}
)
"""Single-byte Latin code pages: when the detector picks one, every one that decodes the
bytes to plausible text competes in :func:`_by_language`."""


def _detect(body: bytes) -> tuple[str, str] | str:
    """Charset detection on the tag-stripped start of the page (markup is ASCII and only
    dilutes the statistics); ``(text, codec)``, or why no guess is safe: no match, a codec
    browsers never guess, a messy best reading, near-tied matches that read the sample
    differently, or too many replacement characters."""
    sample = _TAG.sub(b" ", body[: DETECT_BYTES * 4])[:DETECT_BYTES]
    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return "no charset matches"
    codec = codec_for(best.encoding)
    if codec not in WEB_CODECS:
        return f"detected {best.encoding}: not a web charset"
    if best.chaos > DETECT_MAX_CHAOS or (
        best.chaos > DETECT_CLEAN_CHAOS and best.coherence < DETECT_MIN_COHERENCE
    ):
        return f"detected {codec}: chaos {best.chaos:.2f}, coherence {best.coherence:.2f}"
    tied = sorted(
        {
            codec_for(m.encoding) or m.encoding
            for m in matches
            if m.chaos <= best.chaos + DETECT_CHAOS_BAND
            and m.coherence >= best.coherence - DETECT_COHERENCE_BAND
        }
        | {codec}
    )
    readings = {c: sample.decode(c, "replace") for c in tied if c in WEB_CODECS}
    if codec in LATIN_CODE_PAGES:  # the detector drops some siblings (cp1254) from its list
        for c in LATIN_CODE_PAGES - readings.keys():
            text, _ = _strict(sample, c)
            if text is not None:
                readings[c] = text
    if len(set(readings.values())) > 1:
        picked = _by_language(readings)
        if picked is None:
            return f"detection ambiguous ({', '.join(sorted(readings)[:4])})"
        codec = picked
    text = body.decode(codec, "replace")
    if text.count("\ufffd") > MAX_REPLACED * max(len(text), 1):
        return f"detected {codec}: undecodable bytes"
    return text, codec


LID_MARGIN = 0.01
"""lid.176 probability by which one reading's non-ASCII words must beat every other reading's
to be chosen. Measured on the project's passages (right reading vs sibling code page):
fr 0.998 vs 0.979 (cp1250), cs 0.994 vs 0.936, tr 0.996 vs 0.959, pl 1.000 vs 0.374."""
LID_SAMPLE_CHARS = 4096
_NON_ASCII_WORD = re.compile(r"\w*[^\x00-\x7f]\w*")


def _by_language(readings: dict[str, str]) -> str | None:
    """The codec whose reading's non-ASCII words (where the readings differ) lid.176
    recognises as a language with the highest probability, when it beats every differing
    reading by :data:`LID_MARGIN` (None otherwise, or without the model). Why: sibling code pages (cp1250 / cp1252 / cp1257 ...) all read as Latin
    letters and tie on byte statistics; "Městská" is Czech, "Mìstská" is nothing."""
    from corpus.text.langid_model import bundled_model_path, predict

    path = bundled_model_path()
    if path is None:
        return None
    codecs_, texts = zip(*readings.items(), strict=True)
    samples = [" ".join(_NON_ASCII_WORD.findall(_TEXT_TAG.sub(" ", t)))[:LID_SAMPLE_CHARS] for t in texts]
    _, scores = predict(samples, str(path))
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    top = order[0]
    others = [scores[i] for i in order[1:] if texts[i] != texts[top]]
    return codecs_[top] if not others or scores[top] >= max(others) + LID_MARGIN else None


CODE_PAGE_FAMILIES = (
    frozenset(
        {
            *LATIN_CODE_PAGES,
            "iso8859-15",
            *(f"mac-{n}" for n in ("roman", "latin2", "croatian", "romanian", "iceland", "turkish")),
        }
    ),
    frozenset({"cp1253", "iso8859-7", "mac-greek"}),
)
"""Single-byte code pages of one script whose readings of the same bytes are all plausible
letters ("Mìstská" / "Městská", "StadtbŸcherei" / "Stadtbücherei"): a declared or detected
one is checked against its family by :func:`_sibling`."""
SIBLING_MARGIN = 0.5
"""lid.176 probability of the page's language by which a sibling's reading of the differing
words must beat the declared (or detected) reading to replace it; once replaced, siblings
compete by :data:`LID_MARGIN`. Measured: wrong readings of the tests/multilingual passages
gain +0.55 to +0.80 (cs, pl, tr, de in Mac Roman) — but Hungarian iso8859-16 read as
windows-1252 differs in one letter ("szülők" / "szülõk", +0.016), below any safe margin: that
case is left to :func:`_coverage`. On
3,521 correctly declared three-sentence documents (lingua sentences of 36 languages in
cp1252/cp1250/cp1257/cp1254/iso8859-2/-15/cp1253/mac_roman) a 0.01 margin changed 337 texts,
0.1 changed 149, 0.5 changed 56, against 41 before the check (15 more: 8 Romanian ş/ţ read
as iso8859-16 ș/ț, 7 others); that measuring script was not kept. The reproducible one is
``bench/charset_declared.py`` (3,945 documents, the first fitting code page each): 251 changed
before the sibling check, 278 with it, 289 with :func:`_coverage` as well (the 11 more: the
source's own Latin-1 stand-ins õ/û/è repaired to ő/ű/č)."""
SIBLING_WORDS = 500
"""Distinct non-ASCII words (from the tag-stripped start of the page) the sibling check reads."""
SIBLING_LABEL_CHARS = 1024
"""Characters of the page lid.176 reads for its language (fastText's cost grows with length:
~3 ms for 4,096 characters at load 25; a kilobyte of prose names its language)."""
_HIGH_WORD = re.compile(rb"[A-Za-z\x80-\xff]*[\x80-\xff][A-Za-z\x80-\xff]*")


def _sibling(body: bytes, codec: str, text: str) -> str | None:
    """A code page of ``codec``'s family (:data:`CODE_PAGE_FAMILIES`) whose reading lid.176
    recognises as the page's language clearly better, or None to keep ``codec``.

    Why: sibling code pages decode the same bytes strictly to plausible letters, and a wrong
    declaration is common; only language knowledge tells "Mìstská" (cp1250 read as cp1252)
    from "Městská". How: the page's language is lid.176's label for ``text`` (its ASCII words
    carry it); each sibling's reading of the non-ASCII words is compared with the current
    reading on just the words where the two differ (so one Hungarian "szülők" against
    "szülõk" is not drowned by the words they share), and the current reading moves to the
    sibling with the largest gain while that gain is >= :data:`SIBLING_MARGIN`.
    """
    family = next((f for f in CODE_PAGE_FAMILIES if codec in f), None)
    if family is None or body.isascii():
        return None
    from corpus.text.langid_model import bundled_model_path, load_model

    path = bundled_model_path()
    if path is None:
        return None
    words = list(dict.fromkeys(_HIGH_WORD.findall(_TAG.sub(b" ", body[: DETECT_BYTES * 4]))))[:SIBLING_WORDS]
    joined = b"\n".join(words)  # single-byte code pages all read 0x0A as "\n": one decode per codec
    readings: dict[tuple[str, ...], str] = {}  # distinct reading -> the first codec giving it
    for c in [codec, *sorted(family - {codec})]:
        try:
            decoded = joined.decode(c)
        except UnicodeDecodeError:
            continue
        if not _CONTROL.search(decoded):
            readings.setdefault(tuple(decoded.split("\n")), c)
    if codec not in readings.values() or len(readings) < 2:
        return None
    by_codec = {c: r for r, c in readings.items()}
    model = load_model(str(path))
    sample = _TEXT_TAG.sub(" ", text[: MESS_SAMPLE_CHARS * 4])
    label = model.predict(" ".join(sample.split())[:SIBLING_LABEL_CHARS], k=1)[0][0]
    cache: dict[str, float] = {}

    def prob(words_: list[str]) -> float:
        key = " ".join(words_)
        if key not in cache:
            labels, probs = model.predict(key, k=-1)
            cache[key] = float(dict(zip(labels, probs, strict=True)).get(label, 0.0))
        return cache[key]

    current = codec
    for _ in range(len(readings)):
        base = by_codec[current]
        gains = []
        for c, reading in by_codec.items():
            diff = [i for i, (a, b) in enumerate(zip(base, reading, strict=True)) if a != b]
            if diff:
                gains.append((prob([reading[i] for i in diff]) - prob([base[i] for i in diff]), c))
        gain, best = max(gains, default=(0.0, current))
        if gain < (SIBLING_MARGIN if current == codec else LID_MARGIN):
            break
        current = best
    if current == codec:
        return _coverage(codec, by_codec, label.removeprefix("__label__"), prob)
    return current


COVERAGE_LETTERS = {
    "af": "éêë",
    "bs": "ćčđšž",
    "ca": "àáçèéíïòóúü",
    "cs": "áéíóúýąčďěľňřšťůž",
    "cy": "âãå",
    "da": "åæéø",
    "de": "ßäöü",
    "el": "ΐάέήίαβγδεζηθικλμνξοπρςστυφχψωϊόύώ",
    "eo": "áéĉĝĥĵŝŭ",
    "et": "äõöü",
    "eu": "áéñ",
    "fi": "äö",
    "fr": "àâçèéêîïôùû",
    "ga": "áéíóú",
    "hr": "ćčđšž",
    "hu": "áéíóôöúüőű",
    "is": "áæéíðóöúýþ",
    "it": "àèéìòù",
    "la": "âãîïœƒ",
    "lt": "ąčėęįšūųž",
    "lv": "āčēģīķļņšūž",
    "no": "åæø",
    "nl": "éëö",
    "nn": "áåæéòø",
    "pl": "óąćęłńśźż",
    "pt": "àáâãçéêíóõú",
    "ro": "âîăďşţż",
    "sk": "áäéíóôúýčďľňšťž",
    "sl": "čšž",
    "sq": "çë",
    "sv": "äåö",
    "tl": "é",
    "tr": "âçöüğış",
}
"""Each language's own non-ASCII letters (lower case), keyed by lid.176 code: derived by
bench/charset_letters.py from the lingua sentences of ../shared/data (letters in >= 1% of the
language's sentences that its home web code page encodes; the home code page keeps Latin-1
substitutes such as Hungarian õ/û out). tests/multilingual/test_charset_coverage.py checks the
table against the data. Used by :func:`_coverage` only as the letters a substitute may become."""
_CEDILLA_COMMA = frozenset({"\u0327", "\u0326"})


class _Ambiguous(ValueError):
    """Several sibling code pages repair the page's substitutes differently (:func:`_coverage`)."""


def _repair(a: str, b: str, missing: frozenset[str], own: str) -> bool:
    """``b``, a letter of the page's language that the declared code page cannot encode, in
    place of ``a``, a letter that is not the language's: a near-miss substitute ("õ" for "ő",
    windows-1252 reading iso8859-2) or another code page's letter at that byte ("ø" for "ű",
    windows-1252 reading iso8859-16; "è" for "č"). Cedilla and comma below ("ş" / "ș") are one
    letter drawn two ways (Unicode Standard, ch. 7.1), never a repair of each other."""
    a, b = a.lower(), b.lower()
    if b not in missing or a in own or len(a) != 1 or not a.isalpha():
        return False
    da, db = unicodedata.normalize("NFD", a), unicodedata.normalize("NFD", b)
    return da[0] != db[0] or {da[1:], db[1:]} != _CEDILLA_COMMA


def _coverage(codec: str, by_codec: dict[str, tuple[str, ...]], lang: str, prob) -> str | None:
    """A sibling code page whose reading differs from ``codec``'s only by putting the page's
    language's letters (:data:`COVERAGE_LETTERS`) that ``codec`` cannot encode where ``codec``
    reads letters that are not the language's (:func:`_repair`); None when there is none.

    Why: a Hungarian page in iso8859-16 read as windows-1252 is off by one letter ("szülők" /
    "szülõk"), too little for lid.176 to notice (:data:`SIBLING_MARGIN`), but windows-1252
    cannot encode ő at all, so a Hungarian page really written in it never has one, and the
    reading with ő is the one that fits. A sibling qualifies when every letter it reads
    differently is such a repair; of several, the one that repairs every place any of them
    repairs wins (cp1250 reads both ő and ű where iso8859-16 keeps "û"), else lid.176 picks
    by :data:`LID_MARGIN`, else :class:`_Ambiguous` refuses the page. Measured with
    bench/charset_declared.py (3,945 correctly declared lingua documents, first fitting code
    page): 278 decodes differ from the page before the rule, 289 after; the 11 new ones are the
    source's own substitutes repaired (10 Hungarian Latin-1 "õ/û" -> "ő/ű", 1 Croatian "è" ->
    "č"), the same bytes as a wrongly declared page and so not separable from it.
    """
    own = COVERAGE_LETTERS.get(lang, "")
    missing = frozenset(ch for ch in own if not encodes(ch, codec))
    if not missing:
        return None
    base = by_codec[codec]
    fits: dict[str, frozenset[tuple[int, int]]] = {}  # codec -> the (word, letter) places it repairs
    for c, reading in by_codec.items():
        if c == codec:
            continue
        places = {
            (w, i): (a, b)
            for w, (x, y) in enumerate(zip(base, reading, strict=True))
            if x != y
            for i, (a, b) in enumerate(zip(x, y, strict=True))
            if a != b
        }
        if places and all(_repair(a, b, missing, own) for a, b in places.values()):
            fits[c] = frozenset(places)
    everywhere = frozenset().union(*fits.values())
    complete = [c for c, places in fits.items() if places == everywhere]
    if len(complete) == 1:  # repairs every substitute any sibling repairs (cp1250 over iso8859-16's û)
        return complete[0]
    if not fits:
        return None
    scores = sorted(
        ((prob([y for x, y in zip(base, by_codec[c], strict=True) if x != y]), c) for c in fits), reverse=True
    )
    if scores[0][0] >= scores[1][0] + LID_MARGIN:
        return scores[0][1]
    raise _Ambiguous(f"{', '.join(sorted(fits))} each repair {codec}'s substitutes for {lang} letters")


def encodes(text: str, codec: str) -> bool:
    """Whether ``codec`` can encode ``text``."""
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


_SEVEN_BIT = (
    (re.compile(rb"\x1b\$[@B]|\x1b\(J"), "iso2022_jp_2"),
    (re.compile(rb"\x1b\$\)C"), "iso2022_kr"),
    (re.compile(rb"~\{"), "hz"),
    (re.compile(rb"\+[A-Za-z0-9+/]{3,}-?"), "utf-7"),
)
"""Escape-coded 7-bit charsets and their markers: their bytes are pure ASCII, so an ASCII
reading is always "valid" and always wrong."""


def _seven_bit(body: bytes) -> tuple[str, str] | None:
    """A pure-ASCII payload carrying escape-coded text (ISO-2022, HZ, UTF-7), decoded; None
    when it carries none (or no such codec decodes it to plausible non-ASCII text)."""
    for marker, codec in _SEVEN_BIT:
        if len(marker.findall(body)) < (3 if codec == "utf-7" else 1):
            continue
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        if not text.isascii() and implausible(text) is None:
            return text, codec
    return None


def _strict(body: bytes, codec: str) -> tuple[str | None, str]:
    """``(text, "")`` or ``(None, why)`` for one candidate charset."""
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError) as err:
        return None, f"{type(err).__name__}"
    why = implausible(text)
    return (None, why) if why else (text, "")


def _checked_sibling(body: bytes, codec: str, text: str) -> tuple[str, str] | str:
    """``(text, codec)`` when no sibling code page reads the page better (:func:`_sibling`),
    the sibling's ``(text, codec)`` when it does and decodes cleanly, else why neither is kept."""
    try:
        sibling = _sibling(body, codec, text)
    except _Ambiguous as err:
        return f"no single reading: {err}"
    if sibling is None:
        return text, codec
    better, why = _strict(body, sibling)
    if better is not None:
        return better, sibling
    return f"{sibling} reads as the page's language better, but {why}"


def decode_text(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML payload by the order of evidence in the module docstring; returns
    ``(text, codec)``. Raises :class:`DecodeError` naming each rejected candidate when none
    yields plausible text (binary content, undecodable bytes, a charset nobody declared)."""
    tried: list[str] = []
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text, why = _strict(body, codec)
            if text is not None:
                return text, codec
            tried.append(f"BOM {codec}: {why}")
            break
    if body.isascii():
        escaped = _seven_bit(body)
        if escaped is not None:
            return escaped
    try:
        utf8: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    multibyte_utf8 = utf8 is not None and not body.isascii()
    declared = {
        "header": codec_for(header_charset(content_type)),
        "meta": codec_for(meta_charset(body)),
    }
    seen: set[str] = set()
    for source, codec in declared.items():
        if codec is None or codec in seen:
            continue
        seen.add(codec)
        if codec != "utf-8" and multibyte_utf8:
            try:
                other = body.decode(codec)
            except (UnicodeDecodeError, LookupError):
                other = None
            if other != utf8:
                tried.append(f"{source} {codec}: valid UTF-8 bytes (its decode is mojibake)")
                continue
        if codec == "utf-8" and utf8 is not None:
            return utf8, codec
        text, why = _strict(body, codec)
        if text is not None:
            decoded = _checked_sibling(body, codec, text)
            if isinstance(decoded, tuple):
                return decoded
            why = decoded
        tried.append(f"{source} {codec}: {why}")
    if utf8 is not None:  # strictly valid UTF-8: the strongest evidence there is (see (b))
        return utf8, "utf-8"
    else:
        text = _utf8_mostly(body)
        if text is not None:
            return text, "utf-8"
    detected = _detect(body)
    if isinstance(detected, str):
        tried.append(detected)
    else:
        why = implausible(detected[0].replace("\ufffd", ""))
        if why is None:
            checked = _checked_sibling(body, detected[1], detected[0])
            if isinstance(checked, tuple):
                return checked
            why = checked
        tried.append(f"detected {detected[1]}: {why}")
    raise DecodeError("no charset decodes the payload cleanly" + (f" ({'; '.join(tried)})" if tried else ""))
