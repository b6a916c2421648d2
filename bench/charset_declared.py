"""Side effect of the charset checks on correctly declared pages: how many change?

    .venv/bin/python bench/charset_declared.py [--module corpus/warc/decode.py] [--no-sibling]
        [--docs 100] [--every-page] [--out run.json]
    .venv/bin/python bench/charset_declared.py --compare before.json after.json

Documents: for each language of ``../shared/data/langid/lingua_sentences`` (Leipzig web
sentences), the first ``--docs`` documents of three consecutive sentences that contain a
non-ASCII character. Each is encoded in the first code page of :data:`CODE_PAGES` that encodes
it (``--every-page``: in every one that does), wrapped in the same small HTML page as
tests/multilingual/test_charset.py, declared correctly in the Content-Type header and decoded
with ``decode_text`` of ``--module`` (a decode.py file, so a copy of an older version can be
measured: ``git show HEAD:corpus/warc/decode.py > /tmp/decode_head.py``). A document counts as
changed when the decode is not the page (a different text, or a DecodeError). ``--no-sibling``
turns the sibling check off (the behaviour before it existed). ``--compare`` lists the
documents whose outcome differs between two runs. The lingua text is real web text and keeps
its own garble (Hungarian "késõbb" typed in Latin-1 for "később"), so a change is not always a
wrong one: the listing shows each changed word.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT.parent / "shared" / "data" / "langid" / "lingua_sentences"
CODE_PAGES = ("cp1252", "cp1250", "cp1257", "cp1254", "iso8859_2", "iso8859_15", "cp1253", "mac_roman")
"""The code pages of the 3,521-document measurement in decode.SIBLING_MARGIN's docstring."""
EVERY_PAGE = (*CODE_PAGES, "iso8859_4", "iso8859_9", "iso8859_13", "iso8859_16", "iso8859_7", "mac_latin2")


def _html(body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>page</title></head>"
        f"<body><h1>Library</h1><p>{body}</p><p>{body}</p></body></html>"
    )


def _docs(per_language: int):
    for path in sorted(SENTENCES.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        docs = (" ".join(lines[i : i + 3]) for i in range(0, len(lines) - 2, 3))
        kept = [d for d in docs if not d.isascii()][:per_language]
        for i, doc in enumerate(kept):
            yield path.stem, i, doc


def _load(module: Path, no_sibling: bool):
    sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("decode_variant", module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if no_sibling:
        mod._sibling = lambda *args: None
    return mod


def _changed_words(page: str, text: str) -> str:
    a, b = page.split(), text.split()
    if len(a) != len(b):
        return f"length {len(page)} -> {len(text)}"
    return " ".join(f"{x}->{y}" for x, y in zip(a, b, strict=True) if x != y)[:200]


def run(args) -> None:
    mod = _load(Path(args.module), args.no_sibling)
    from corpus.warc.decode import encodes  # this checkout's: the measured module may be older

    pages = EVERY_PAGE if args.every_page else CODE_PAGES
    rows, start = [], time.perf_counter()
    for lang, i, doc in _docs(args.docs):
        fitting = [c for c in pages if encodes(doc, c)]
        for codec in fitting if args.every_page else fitting[:1]:
            page = _html(doc)
            try:
                text, got = mod.decode_text(page.encode(codec), f"text/html; charset={codec}")
                outcome = "same" if text == page else f"{got}: {_changed_words(page, text)}"
            except mod.DecodeError as err:
                outcome = f"DecodeError: {str(err)[:200]}"
            rows.append({"lang": lang, "doc": i, "codec": codec, "outcome": outcome})
    seconds = time.perf_counter() - start
    changed = [r for r in rows if r["outcome"] != "same"]
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    langs = len({r["lang"] for r in rows})
    print(f"{len(rows)} documents ({langs} languages), {len(changed)} changed; {seconds:.1f} s, load {load}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")


def compare(before: str, after: str) -> None:
    a = {(r["lang"], r["doc"], r["codec"]): r["outcome"] for r in json.loads(Path(before).read_text())}
    b = {(r["lang"], r["doc"], r["codec"]): r["outcome"] for r in json.loads(Path(after).read_text())}
    if a.keys() != b.keys():
        raise SystemExit("the two runs measured different documents")
    print(
        f"changed: {sum(v != 'same' for v in a.values())} before, {sum(v != 'same' for v in b.values())} after"
    )
    for key in sorted(a):
        if a[key] != b[key]:
            print(f"{key[0]} #{key[1]} {key[2]}:\n  before {a[key]}\n  after  {b[key]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", default=str(ROOT / "corpus" / "warc" / "decode.py"))
    parser.add_argument("--no-sibling", action="store_true")
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--every-page", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    if not SENTENCES.is_dir():
        print(f"error: {SENTENCES} is absent (the lingua sentences of ../shared/data)", file=sys.stderr)
        raise SystemExit(2)
    run(args)


if __name__ == "__main__":
    main()
