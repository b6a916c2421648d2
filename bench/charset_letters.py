"""Derive decode.COVERAGE_LETTERS, each language's own letters, from the lingua sentences.

    .venv/bin/python bench/charset_letters.py

Prints the table that corpus/warc/decode.py embeds (tests/multilingual/test_charset_coverage.py
checks that the two agree). Source: ``../shared/data/langid/lingua_sentences`` (1,000 Leipzig
web sentences per language). Web text keeps its own garble (Hungarian typed in Latin-1 writes
"késõbb" for "később" in 175 of 1,000 sentences), so frequency alone cannot tell a language's
letters from the substitutes its writers were forced into. The rule, per language:

1. its home code page: of the single-byte code pages in decode.CODE_PAGE_FAMILIES that browsers
   know (decode.WEB_CODECS: Mac Latin 2, which has õ, ő and ű, is no one's web code page), the one that
   encodes the most of its sentences that have a non-ASCII letter (ties: first by name) — the
   code page its writers could use without substitutes (Hungarian: cp1250, which has ő/ű but
   not õ/û);
2. its letters: the lower-case non-ASCII Latin or Greek letters in at least
   :data:`MIN_SENTENCES` of its sentences that the home code page encodes.

Languages whose home code page encodes under half of those sentences are not written in these
code pages (Vietnamese, Yoruba) and are left out, as are the codes lid.176 does not know.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT.parent / "shared" / "data" / "langid" / "lingua_sentences"
MIN_SENTENCES = 10
"""1% of a language's 1,000 sentences: the rarest letter this is meant to keep, Hungarian ű, is
in 98; letters under 10 are names and loanwords (German ñ, Polish ä)."""
LID_CODE = {"nb": "no"}
"""lingua codes lid.176 spells differently."""


def _script_letter(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return ch.isalpha() and ord(ch) > 127 and (name.startswith("LATIN") or name.startswith("GREEK"))


def derive(sentences_dir: Path = SENTENCES) -> dict[str, str]:
    """``{lid.176 code: letters}`` by the rule in the module docstring."""
    sys.path.insert(0, str(ROOT))
    from corpus.text.langid_model import bundled_model_path, load_model
    from corpus.warc.decode import CODE_PAGE_FAMILIES, WEB_CODECS, encodes

    known = {label.removeprefix("__label__") for label in load_model(str(bundled_model_path())).get_labels()}
    pages = sorted(set().union(*CODE_PAGE_FAMILIES) & WEB_CODECS)
    table = {}
    for path in sorted(sentences_dir.glob("*.txt")):
        code = LID_CODE.get(path.stem, path.stem)
        lines = [line.lower() for line in path.read_text(encoding="utf-8").splitlines()]
        lettered = [line for line in lines if any(_script_letter(c) for c in line)]
        if code not in known or not lettered:
            continue
        counts = [(sum(encodes(line, c) for line in lettered), c) for c in pages]
        best = max(n for n, _ in counts)
        home = min(c for n, c in counts if n == best)
        if best * 2 < len(lettered):
            continue
        seen: dict[str, int] = {}
        for line in lines:
            for ch in set(line):
                if len(ch) == 1 and _script_letter(ch):
                    seen[ch] = seen.get(ch, 0) + 1
        letters = "".join(sorted(ch for ch, n in seen.items() if n >= MIN_SENTENCES and encodes(ch, home)))
        if letters:
            table[code] = letters
    return table


if __name__ == "__main__":
    if not SENTENCES.is_dir():
        print(f"error: {SENTENCES} is absent (the lingua sentences of ../shared/data)", file=sys.stderr)
        raise SystemExit(2)
    for code, letters in derive().items():
        print(f'    "{code}": "{letters}",')
