"""The coverage rule for single-byte code pages (corpus.warc.decode._coverage, issue 11).

A declared code page that cannot encode some of the page's language's letters, and reads
other letters in their place ("szülõk" for "szülők", "høséges" for "hűséges"), gives way to
the sibling that reads the real letters; siblings that repair differently are refused unless lid.176 tells them apart.
"""

from __future__ import annotations

import importlib.util

import pytest

from corpus.warc.decode import COVERAGE_LETTERS, _Ambiguous, _coverage, decode_text, encodes
from tests.multilingual.samples import SAMPLES

HU = "A szülők hűséges kutyája először a levegőből szőtt tündérmeséket hallgatja."
RO = "Școala și țara: învățătorii au ținut ședința în București, lângă grădină."


def _html(body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>page</title></head><body><p>{body}</p><p>{body}</p></body></html>"
    )


def test_letter_table_is_what_the_data_gives(shared_data, repo_root):
    """decode.COVERAGE_LETTERS is bench/charset_letters.py's derivation, not a hand list."""
    spec = importlib.util.spec_from_file_location(
        "charset_letters", repo_root / "bench" / "charset_letters.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.derive(shared_data / "langid" / "lingua_sentences") == COVERAGE_LETTERS


@pytest.mark.parametrize("codec", ["iso8859_2", "iso8859_16", "cp1250"])
@pytest.mark.parametrize("wrong", ["windows-1252", "iso-8859-15", "iso-8859-9"])
def test_hungarian_declared_latin1_reads_its_own_letters(codec, wrong):
    page = _html(HU)
    text, _ = decode_text(page.encode(codec), f"text/html; charset={wrong}")
    assert text == page


def test_latin1_substitutes_in_a_latin1_page_become_the_letters():
    """The same bytes as a Hungarian page typed in windows-1252 with its substitutes ("késõbb");
    the two cannot be told apart, and the reading with the language's letters is the one kept."""
    typed = HU.replace("ő", "õ").replace("ű", "û")
    text, codec = decode_text(_html(typed).encode("cp1252"), "text/html; charset=windows-1252")
    assert (text, codec) == (_html(HU), "cp1250")


@pytest.mark.parametrize(
    ("body", "codec"),
    [
        (RO, "iso8859_16"),
        (RO.replace("ș", "ş").replace("ț", "ţ").replace("Ș", "Ş"), "cp1250"),
        (RO.replace("ș", "ş").replace("ț", "ţ").replace("Ș", "Ş"), "iso8859_2"),
        (HU, "iso8859_2"),
        (HU, "iso8859_16"),
        (HU.replace("ő", "õ").replace("ű", "û"), "mac_roman"),
    ],
)
def test_correctly_declared_pages_keep_their_letters(body, codec):
    """Comma-below and cedilla (ș / ş) are one Romanian letter drawn two ways, not a substitute;
    a declared code page that encodes the language's letters is never second-guessed here."""
    page = _html(body)
    text, _ = decode_text(page.encode(codec), f"text/html; charset={codec}")
    assert text == page


SAMPLE_PAGES = [
    (lang, codec)
    for lang in sorted(set(SAMPLES) & set(COVERAGE_LETTERS))
    for codec in ("cp1250", "cp1252", "cp1254", "cp1257", "iso8859_2", "iso8859_16", "mac_roman")
    if encodes(SAMPLES[lang], codec)
]


@pytest.mark.parametrize(("lang", "codec"), SAMPLE_PAGES)
def test_sample_passages_declared_correctly_decode_exactly(lang, codec):
    page = _html(SAMPLES[lang])
    text, _ = decode_text(page.encode(codec), f"text/html; charset={codec}")
    assert text == page


def test_siblings_that_repair_differently_are_refused_unless_lid_tells():
    readings = {"cp1252": ("szõlõ", "kûrt"), "cp1250": ("szőlő", "kûrt"), "iso8859-16": ("szõlõ", "kűrt")}
    assert _coverage("cp1252", readings, "hu", lambda words: 0.9 if "szőlő" in words else 0.1) == "cp1250"
    with pytest.raises(_Ambiguous):
        _coverage("cp1252", readings, "hu", lambda words: 0.5)
    readings["iso8859-16"] = ("szõlõ", "kúrt")  # û -> ú: not a Hungarian letter cp1252 lacks
    assert _coverage("cp1252", readings, "hu", lambda words: 0.5) == "cp1250"
    assert _coverage("cp1250", {"cp1250": ("szőlő",), "cp1252": ("szõlõ",)}, "hu", lambda words: 0.5) is None
