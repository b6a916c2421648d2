"""Mid-training data on ``local[2]``: repositories/s and files/s through repos -> code_filter ->
repo_concat, threads/s through github_threads; the token-length distribution of the contexts
they produce (a PNG next to the run output, and a printed summary) and the share of
repository contexts that fill at least 90 % of the 32K budget.

No peer library assembles repository contexts or GitHub threads (datatrove, NeMo Curator,
dolma and Data-Juicer have no such step), so the side-by-side figure is the same per-item
functions (corpus.stages.repos / code_filter / repo_concat / github_threads) called in one
Python process without Spark, on the same input: what the engine adds or costs.

Inputs: installed package trees as repositories (real code; ``--repos`` to choose), the
GitHub export ``../shared/data/github/bc`` when present, else the small one the project ships
(tests/data/midtrain/github). Tokens are counted exactly with a byte-level BPE (32,768 ids)
trained here on a hashed sample of the files, as the tokenize stage would.

Run: .venv/bin/python bench/midtrain.py [--repos DIR ...] [--threads DIR ...] [--out bench/out/midtrain]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sysconfig
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(sysconfig.get_paths()["purelib"])
PACKAGES = [
    "datatrove",
    "trafilatura",
    "httpx",
    "pydantic",
    "rich",
    "typer",
    "click",
    "jinja2",
    "yaml",
    "fsspec",
]
BC = ROOT.parent / "shared" / "data" / "github" / "bc"
BUDGET = 32768


def _inputs(args) -> tuple[list[str], list[str]]:
    repos = args.repos or [str(SITE / p) for p in PACKAGES if (SITE / p).is_dir()] + [str(ROOT / "corpus")]
    threads = args.threads or [str(BC if BC.is_dir() else ROOT / "tests/data/midtrain/github/corpus-demo")]
    return repos, threads


def _tokenizer(repos: list[str], folder: Path) -> Path:
    """A 32,768-id BPE on every 8th source file (sorted paths: deterministic)."""
    from corpus.tokens.tokenizer import train

    files = sorted(p for r in repos for p in Path(r).rglob("*.py"))[::8]
    texts = [p.read_text(errors="replace") for p in files]
    train(texts, BUDGET, folder / "tokenizer")
    return folder


def _loop(repos: list[str], threads: list[str], tokenizer: str) -> dict[str, float]:
    """The same per-item functions in one process: seconds for the code path and the threads."""
    from corpus.stages import code_filter, github_threads, repo_concat
    from corpus.stages import repos as rp

    t0 = time.perf_counter()
    params = rp.Params(paths=repos)
    files = [
        row for u in rp.plan_units(rp.repositories(repos, "repo"), params) for row in rp.read_unit(u, params)
    ]
    kept = [f for f in files if not f.get("_reason")]
    batch = pa.RecordBatch.from_pylist([{k: f[k] for k in ("id", "text", "lang")} for f in kept])
    out = code_filter.code_filter_batch(batch, code_filter.Params())
    reasons = out.column("_reason").to_pylist() if "_reason" in out.schema.names else [None] * len(kept)
    texts = out.column("text").to_pylist()
    by_repo: dict[str, list[dict]] = {}
    for f, why, text in zip(kept, reasons, texts, strict=True):
        if why is None:
            by_repo.setdefault(f["repo"], []).append({**f, "text": text})
    rc = repo_concat.Params()
    contexts = sum(
        row["_reason"] is None
        for r, fs in sorted(by_repo.items())
        for row in repo_concat.repo_contexts(r, sorted(fs, key=lambda f: f["path"]), rc, tokenizer)
    )
    code_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gp = github_threads.Params(repos=threads)
    docs = sum(
        1 for f in github_threads.repo_folders(threads) for _ in github_threads.repo_rows(f, Path(f).name, gp)
    )
    return {
        "code_s": code_s,
        "threads_s": time.perf_counter() - t0,
        "files": len(files),
        "contexts": contexts,
        "thread_rows": docs,
    }


def _plot(lengths: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.logspace(
        1, np.log10(max(BUDGET * 4, max(int(v.max()) for v in lengths.values() if v.size))), 40
    )
    for name, v in lengths.items():
        ax.hist(v, bins=bins, alpha=0.6, label=f"{name} ({v.size:,})")
    ax.axvline(BUDGET, color="k", ls="--", lw=1, label="32K row")
    ax.axvline(0.9 * BUDGET, color="grey", ls=":", lw=1, label="90 % of 32K")
    ax.set_xscale("log")
    ax.set_xlabel("tokens per context")
    ax.set_ylabel("contexts")
    ax.set_title("mid-training contexts: token lengths")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _summary(name: str, v: np.ndarray) -> str:
    if not v.size:
        return f"  {name}: none"
    p10, p50, p90 = np.percentile(v, [10, 50, 90]).astype(int)
    return (
        f"  {name:<8} {v.size:>6,} contexts  tokens p10 {p10:,}  median {p50:,}  p90 {p90:,}  "
        f"mean {v.mean():,.0f}  max {v.max():,}  >= 90% of 32K: {np.mean(v >= 0.9 * BUDGET):.1%}  "
        f"> 32K: {np.mean(v > BUDGET):.1%}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", nargs="*", help="repository folders (default: installed packages + corpus)")
    ap.add_argument("--threads", nargs="*", help="GitHub export folders (default: bc, else the shipped one)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "midtrain"))
    args = ap.parse_args()
    repos, threads = _inputs(args)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t = time.perf_counter()
    tok = _tokenizer(repos, out / "tok")
    print(
        f"{len(repos)} repositories, thread exports {threads}; tokenizer trained in {time.perf_counter() - t:.1f} s"
    )

    from corpus.engine.runner import run_pipeline
    from corpus.engine.spark import get_spark
    from corpus.spec import load_pipeline

    spec = {
        "name": "bench-midtrain",
        "output": str(out / "run"),
        "seed": 0,
        "stages": [
            {"kind": "repos", "paths": repos},
            {"kind": "code_filter", "inputs": ["repos"]},
            {
                "kind": "repo_concat",
                "inputs": {"input": "code_filter", "tokenizer": str(tok)},
                "budget_tokens": BUDGET,
            },
            {"kind": "github_threads", "repos": threads},
        ],
    }
    (out / "pipeline.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    spark = get_spark("local[2]", app_name="bench-midtrain")
    try:
        spark.range(1).count()  # JVM warm
        run_pipeline(spark, load_pipeline(out / "pipeline.yaml"), progress=False)
    finally:
        spark.stop()
    m = {
        s: json.loads((out / "run" / s / "_manifest.json").read_text())
        for s in ("repos", "code_filter", "repo_concat", "github_threads")
    }
    code_s = sum(m[s]["seconds"] for s in ("repos", "code_filter", "repo_concat"))
    files = m["repos"]["rows_in"]
    n_threads = m["github_threads"]["rows_kept"]
    items = m["github_threads"]["metrics"].get("items_in_documents", {})

    loop = _loop(repos, threads, str(tok / "tokenizer" / "tokenizer.json"))
    print("\n== throughput (ours: Spark local[2]; loop: the same functions in one process, no Spark)")
    print(
        f"repositories: {len(repos)}, files read: {files:,} ({m['repos']['rows_kept']:,} kept by repos, "
        f"{m['code_filter']['rows_kept']:,} by code_filter), contexts: {m['repo_concat']['rows_kept']:,} (loop {loop['contexts']:,})"
    )
    for what, n, ours, base in (
        ("repos/s", len(repos), code_s, loop["code_s"]),
        ("files/s", files, code_s, loop["code_s"]),
        ("threads/s", n_threads, m["github_threads"]["seconds"], loop["threads_s"]),
    ):
        print(
            f"  {what:<10} ours {n / ours:>10,.1f}   loop {n / base:>10,.1f}   ours/loop {base / ours:.2f}x   ({ours:.1f} s vs {base:.1f} s)"
        )
    print(
        f"  threads: {n_threads:,} documents from {json.dumps(items)} (loop {loop['thread_rows']:,} rows incl. removed)"
    )

    import duckdb

    from corpus.tokens import encode

    repo_tokens = np.array(
        [r[0] for r in duckdb.sql(f"select tokens from '{out}/run/repo_concat/part-*.parquet'").fetchall()],
        dtype=np.int64,
    )
    enc = encode.encoder(str(tok / "tokenizer" / "tokenizer.json"), "", True)
    texts = [
        r[0] for r in duckdb.sql(f"select text from '{out}/run/github_threads/part-*.parquet'").fetchall()
    ]
    thread_tokens = np.array(
        [len(e.ids) for e in enc.encode_batch(texts, add_special_tokens=False)], dtype=np.int64
    )
    lengths = {"repo": repo_tokens, "threads": thread_tokens}
    png = out / "run" / "context_tokens.png"
    _plot(lengths, png)
    print("\n== token lengths of the produced contexts")
    for name, v in lengths.items():
        print(_summary(name, v))
    print(
        f"  repository contexts filling >= 90 % of 32K: {np.mean(repo_tokens >= 0.9 * BUDGET):.1%} "
        f"(oversized single files: {m['repo_concat']['metrics'].get('oversized_files')})"
    )
    print(f"  plot: {png}")


if __name__ == "__main__":
    main()
