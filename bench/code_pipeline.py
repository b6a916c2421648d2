"""Files/s and MB/s of repos -> code_filter -> code_tier on a large real tree, vs a plain
single-process Python walk applying the same filters to the same files.

    .venv/bin/python bench/code_pipeline.py [--roots DIR ...] [--every K]

Tree (default): every entry of the venv's ``site-packages`` and of Debian's Go, Rust and
JavaScript source folders (``/usr/share/gocode/src/golang.org/x``, ``/usr/share/cargo/registry``,
``/usr/share/nodejs``; installed by scripts/check_code_samples.sh) as one repository
(``layout: dump``; ``--every K`` keeps every K-th repository of the sorted list, for a loaded
machine); absent folders are skipped. MB = bytes read from the files (each file up to
the 1 MB size cap + 1 byte, as both sides read them).

* ours: the three stages through the real runner on ``local[2]`` in a warm session, including
  what a run does besides the work: listing and planning, three Parquet writes with manifests,
  the removed rows, the redaction counts and the per-language thresholds;
* loop: one process, ``os.walk`` of the same repositories (sorted, ``.git`` skipped, no
  symlinks), then per file what the stages do per file — go-enry classification
  (:func:`corpus.code.files.classify`), code_filter's rules and PII redaction, the language
  group's fastText score (files batched per group, 1,000 a call, as the stage batches them)
  — then per-group token-weighted thresholds and tiers; no writes.

NeMo Curator and datatrove do not apply here: neither ships per-language code tiers, and
NeMo Curator's code filters need its GPU/dask stack, which does not install offline on CPU.
Wall time depends on the shared machine's load: the load average is printed beside it. From
the manifests' ``timings`` the bench also prints where the cores' time went per stage, and the
floor on 2 cores: the stages' per-file CPU plus their writes over 2, the best ratio possible
with no other cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEBIAN = ["/usr/share/gocode/src/golang.org/x", "/usr/share/cargo/registry", "/usr/share/nodejs"]
MODELS = str(ROOT / "classifiers" / "code_quality")
SCORE_BATCH = 1000


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def repositories(roots: list[str], every: int) -> list[str]:
    """Every ``every``-th repository of the sorted list (1 = all of them)."""
    from corpus.stages.repos import repositories as repos_of

    return repos_of(roots, "dump")[::every]


def warm_page_cache(repos: list[str], max_bytes: int) -> int:
    """Read every file once before either side is timed: the side that runs first would
    otherwise pay the cold disk reads alone."""
    total = 0
    for root in repos:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d != ".git"]
            for name in names:
                p = os.path.join(folder, name)
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as f:
                        total += len(f.read(max_bytes + 1))
    return total


def loop(repos: list[str], max_bytes: int) -> tuple[int, int, int]:
    """The plain walk; returns (files, bytes read, files kept)."""
    import numpy as np

    from corpus.code import files as cf
    from corpus.code import tier
    from corpus.scoring import buckets, classifier
    from corpus.stages import code_filter, code_tier
    from corpus.text import pii

    groups = code_tier.available(MODELS)
    rules = code_filter.Params()
    n = nbytes = 0
    kept: dict[str, list[tuple[float, float]]] = {}
    waiting: dict[str, list[str]] = {}

    def score(g: str) -> None:  # one batch of the group's files through its model
        texts = waiting.pop(g, [])
        for text, s in zip(texts, tier.round_scores(classifier.score(f"{MODELS}/{g}", texts)), strict=True):
            kept.setdefault(g, []).append((float(s), max(np.ceil(len(text) / 4.0), 1.0)))

    for root in repos:
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for name in sorted(names):
                p = os.path.join(folder, name)
                if not os.path.isfile(p) or os.path.islink(p):
                    continue
                with open(p, "rb") as f:
                    content = f.read(max_bytes + 1)
                n += 1
                nbytes += len(content)
                rel = os.path.relpath(p, root).replace(os.sep, "/")
                lang, reason = cf.classify(rel, content, max_bytes)
                if reason is not None:
                    continue
                text = content.decode("utf-8")
                if not text or code_filter.check(text, lang, code_filter.rules_for(rules, lang)) is not None:
                    continue
                text, _ = pii.redact(text)
                g = code_tier.model_of(lang, groups)
                waiting.setdefault(g, []).append(text)
                if len(waiting[g]) == SCORE_BATCH:
                    score(g)
    for g in list(waiting):
        score(g)
    levels = []
    for pairs in kept.values():
        s, w = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        levels.append(buckets.assign(s, buckets.weighted_thresholds(s, w, list(tier.DEFAULT_PERCENTILES))))
    return n, nbytes, sum(len(x) for x in levels)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roots", nargs="*", default=[sysconfig.get_paths()["purelib"], *DEBIAN])
    ap.add_argument("--every", type=int, default=1, help="every K-th repository only (a spread subset)")
    args = ap.parse_args()
    roots = [r for r in args.roots if os.path.isdir(r)]
    repos = repositories(roots, args.every)
    max_bytes = 1 << 20
    print(f"tree: {len(repos)} repositories under {roots}", flush=True)

    t0 = time.perf_counter()
    warm = warm_page_cache(repos, max_bytes)
    print(
        f"page cache warmed: {warm / 1e6:.0f} MB read in {time.perf_counter() - t0:.1f} s (not timed)",
        flush=True,
    )
    t0 = time.perf_counter()
    n, nbytes, kept = loop(repos, max_bytes)
    loop_s = time.perf_counter() - t0
    print(
        f"loop, 1 process:      {n / loop_s:8.0f} files/s {nbytes / 1e6 / loop_s:7.2f} MB/s "
        f"({n} files, {nbytes / 1e6:.0f} MB, {kept} tiered, {loop_s:.1f} s, {load()})",
        flush=True,
    )

    from corpus.engine.runner import run_pipeline
    from corpus.engine.spark import get_spark
    from corpus.spec import load_pipeline_dict

    spark = get_spark("local[2]", app_name="bench-code")
    tmp = Path(tempfile.mkdtemp(prefix="bench-code-"))

    def pipeline(out: Path, paths: list[str], layout: str = "repo"):
        stages = [
            {"kind": "repos", "layout": layout, "paths": paths, "max_file_bytes": max_bytes},
            {"kind": "code_filter"},
            {"kind": "code_tier", "models": MODELS},
        ]
        spec = {"name": "bench", "output": str(out), "seed": 0, "stages": stages}
        return load_pipeline_dict(spec, tmp / "p.yaml")

    run_pipeline(spark, pipeline(tmp / "warm", repos[:2]), force=[], progress=False)  # warm-up
    t0 = time.perf_counter()
    whole = pipeline(tmp / "out", roots, "dump") if args.every == 1 else pipeline(tmp / "out", repos)
    run_pipeline(spark, whole, force=[], progress=False)
    ours_s = time.perf_counter() - t0
    import json

    m = {
        s: json.loads((tmp / "out" / s / "_manifest.json").read_text())
        for s in ("repos", "code_filter", "code_tier")
    }
    files = m["repos"]["rows_kept"] + m["repos"]["rows_removed"]
    print(
        f"ours, local[2]:       {files / ours_s:8.0f} files/s {nbytes / 1e6 / ours_s:7.2f} MB/s "
        f"({files} files, {m['code_tier']['rows_kept']} tiered, {ours_s:.1f} s, {load()})"
    )
    print("ours per stage: " + ", ".join(f"{s} {m[s].get('seconds', 0):.1f} s" for s in m))
    timed = {s: man.get("timings") or {} for s, man in m.items()}
    for s, t in timed.items():  # where the cores' time went (corpus.engine.timings)
        print(
            f"  {s}: per-document CPU {t.get('document_cpu_s', 0):.1f} s, writes {t.get('write_cpu_s', 0):.1f} s, "
            f"rest {t.get('other_s', 0):.1f} core-s, wall {t.get('wall_s', 0):.1f} s"
            + (f" (one pass with {', '.join(t['fused_with'])})" if t.get("fused_with") else "")
        )
    floor = sum(t.get("document_cpu_s", 0) + t.get("write_cpu_s", 0) for t in timed.values()) / 2
    print(
        f"floor on 2 cores (per-file work + writes, nothing else): {floor:.1f} s, "
        f"at most {loop_s / floor:.2f}x the loop"
        if floor
        else "no timings in the manifests"
    )
    print(f"ratio (loop time / ours): {loop_s / ours_s:.2f}x")
    spark.stop()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
