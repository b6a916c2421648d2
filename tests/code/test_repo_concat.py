"""Repository contexts on real installed code: every import a file makes of its own
repository (read independently with Python's ``ast`` for the Python packages) comes earlier in
the context unless the pair is in an import cycle; contexts fit the budget except single
oversized files; every file lands in exactly one context or in ``_removed``; the file
separator becomes one control id per file when tokenized."""

from __future__ import annotations

import ast
import os
import posixpath
from pathlib import Path

import duckdb
import pytest

from corpus.code import imports as im
from corpus.engine.runner import run_stage_for_test


def _ast_deps(root: Path, package: str) -> dict[str, set[str]]:
    """Imports of the package's own modules, by Python's own parser (absolute and relative)."""
    files = {p.relative_to(root).as_posix() for p in root.rglob("*.py")}
    deps: dict[str, set[str]] = {}

    def module_file(parts: list[str]) -> str | None:
        rel = "/".join(parts)
        for cand in (rel + ".py", rel + "/__init__.py"):
            if cand in files:
                return cand
        return None

    for f in files:
        try:
            tree = ast.parse((root / f).read_text())
        except SyntaxError:
            continue
        here = posixpath.dirname(f).split("/") if posixpath.dirname(f) else []
        out: set[str] = set()
        for node in ast.walk(tree):
            targets: list[list[str]] = []
            if isinstance(node, ast.Import):
                targets = [a.name.split(".") for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - (node.level - 1)] if node.level else []
                mod = (node.module or "").split(".") if node.module else []
                targets = [base + mod] + [base + mod + [a.name] for a in node.names]
                if not node.level:
                    targets = [t for t in targets]
            for t in targets:
                if t and t[0] == package:
                    t = t[1:]
                elif not isinstance(node, ast.ImportFrom) or not node.level:
                    continue
                hit = module_file(t) if t else module_file([])
                if hit and hit != f:
                    out.add(hit)
        deps[f] = out
    return deps


@pytest.fixture(scope="module")
def contexts(spark, tmp_path_factory):
    import datatrove
    import trafilatura

    roots = [Path(datatrove.__file__).parent, Path(trafilatura.__file__).parent]
    for p in ("/usr/share/gocode/src/github.com/pkg/errors", "/usr/share/cargo/registry/either-1.6.1"):
        if os.path.isdir(p):
            roots.append(Path(p))
    out = tmp_path_factory.mktemp("repo-ctx")
    run_stage_for_test(spark, "repos", {"paths": [str(r) for r in roots]}, str(out))
    m = run_stage_for_test(
        spark, "repo_concat", {"budget_tokens": 32_768}, str(out), inputs={"input": str(out / "repos")}
    )
    rows = duckdb.sql(
        f"select repo, files, tokens, text from '{out}/repo_concat/part-*.parquet' order by repo, context"
    ).fetchall()
    return {"roots": roots, "out": out, "manifest": m, "rows": rows}


def test_imports_come_first_except_in_cycles(contexts):
    for root in contexts["roots"][:2]:
        package = root.name
        deps = _ast_deps(root, package)
        pos: dict[str, tuple[int, int]] = {}
        for n, (_, files, _, _) in enumerate(r for r in contexts["rows"] if r[0] == package):
            for i, f in enumerate(files):
                pos[f] = (n, i)
        ts_deps = {
            p: im.resolve(p, "Python", im.raw_imports("Python", (root / p).read_text()), set(pos), package)
            for p in pos
            if p.endswith(".py")
        }
        placed = sorted(pos, key=pos.get)
        cycles = set(im.cycle_pairs(placed, ts_deps))
        late = [(a, b) for a, ds in deps.items() if a in pos for b in ds if b in pos and pos[b] > pos[a]]
        print(
            package,
            len(pos),
            "files,",
            sum(map(len, deps.values())),
            "imports,",
            len(cycles),
            "cycle pairs,",
            len(late),
            "late",
        )
        assert sum(map(len, deps.values())) > 20
        assert set(late) <= cycles, sorted(set(late) - cycles)[:5]


def test_budget_and_accounting(contexts):
    m, rows = contexts["manifest"], contexts["rows"]
    for repo, files, tokens, text in rows:
        assert tokens <= 32_768 or len(files) == 1
        assert text.startswith(repo + "\n") and text.count("<|file_sep|>") == len(files)
    counted = sum(len(files) for _, files, *_ in rows)
    assert m["metrics"]["files_in"] == counted + m["rows_removed"]
    seen = [f for repo, files, *_ in rows for f in [(repo, x) for x in files]]
    assert len(seen) == len(set(seen)), "a file in two contexts"
    print(
        {
            k: m["metrics"][k]
            for k in ("contexts", "files_in_contexts", "oversized_files", "cycle_pairs", "mean_fill")
        }
    )


def test_small_budget_cuts_at_file_boundaries_and_oversized_files_stand_alone():
    from corpus.stages import repo_concat

    files = [
        {"path": "a.py", "lang": "Python", "text": "import b\n" + "x = 1\n" * 20},
        {"path": "b.py", "lang": "Python", "text": "y = 2\n" * 10},
        {"path": "big.py", "lang": "Python", "text": "z = 3\n" * 500},
        {"path": "c.py", "lang": "Python", "text": "from b import y\n", "code_tier": "low"},
    ]
    rows = repo_concat.repo_contexts(
        "demo", files, repo_concat.Params(budget_tokens=200, chars_per_token=1.0)
    )
    kept = [r for r in rows if r["_reason"] is None]
    order = [f for r in kept for f in r["files"]]
    assert order.index("b.py") < order.index("a.py")
    assert [r["files"] for r in kept if "big.py" in r["files"]] == [["big.py"]]
    assert all(r["tokens"] <= 200 for r in kept if r["files"] != ["big.py"])
    assert [(r["files"], r["_reason"]) for r in rows if r["_reason"]] == [(["c.py"], "repo_concat:low_tier")]


def test_the_file_separator_is_one_control_id(tmp_path):
    import pyarrow as pa

    from corpus.stages import tokenize
    from corpus.tokens import tokenizer as tk

    path = tk.train(["def f():\n    return 1\n" * 50], len(tk.SPECIAL_TOKENS) + 256 + 50, tmp_path / "tok")
    text = "demo\n<|file_sep|>a.py\nprint('<|endoftext|>')\n<|file_sep|>b.py\nx = 1\n"
    batch = pa.RecordBatch.from_pydict({"id": ["r"], "text": [text], "source": ["repo"]})
    out = tokenize.tokenize_batch(batch, tokenize.Params(tokenizer=str(path)))
    ids = out.column("input_ids").to_pylist()[0]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    sep, eos = tok.token_to_id("<|file_sep|>"), tok.token_to_id("<|endoftext|>")
    assert ids.count(sep) == 2 and ids.count(eos) == 1 and ids[-1] == eos
    assert tok.decode(ids[:-1], skip_special_tokens=False) == text
