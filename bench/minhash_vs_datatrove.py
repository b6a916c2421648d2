"""MinHash dedup throughput and agreement, ours vs datatrove (and datasketch's MinHashLSH).

    .venv/bin/python bench/minhash_vs_datatrove.py [--base 42000] [--variants 8000] [--no-datasketch]

Input (built before any timing, deterministic): documents of 4-10 real sentences from the
Leipzig corpora in ``../shared/data/langid`` (en, de, fr, es, it, nl, pt, sv); the first
``--variants`` of them get one or two copies with random words replaced until the exact
Jaccard to the original reaches a level in 0.50 ... 1.00 (``tests/dedup/neardups.py``). The
defaults give about 54,000 documents: 2 plain Parquet shards (datatrove reads them) and the
same rows as a committed dataset of 2 shards (our stage's input).

Same parameters both sides: 5-word shingles, 14 bands x 8 rows, 64-bit hashes.

* Ours: the ``minhash`` stage through the real runner (``run_stage_for_test``) on ``local[2]``
  in a warm session: signatures, bands, candidate edges, connected components,
  representatives, and writing kept and removed rows (with ``dup_cluster_size``) as Parquet
  with the manifest.
* datatrove: its four stages on ``LocalPipelineExecutor`` (signatures with 2 tasks, buckets
  with 14 tasks, cluster with 1, filter with 2 tasks; 2 workers), cluster ids saved and loaded
  (their counterpart of our cluster sizes), the filter writing kept and removed documents as
  Parquet. Its default word tokenizer (spaCy English) is used. datatrove 0.10's xxhash64
  passes ``str`` to ``xxhash.xxh64_intdigest``, which xxhash >= 4 refuses; we wrap it to
  encode UTF-8 first (the same hash values xxhash 3 computed).
* datasketch: ``MinHash`` (affine64, 112 permutations) per document over the same normalised
  shingles, ``MinHashLSH(params=(14, 8))`` query-then-insert, union-find; one process.

docs/s = documents / wall time. Overlaps are |A & B| / |A | B| of: removed ids, ids in a
duplicate cluster, and same-cluster pairs. Representatives differ by design (ours and
datasketch keep the smallest id, datatrove the root of its union-by-size forest), so removed
ids agree less than clusters do; clusters differ only where the two hash families put a
pair near the S-curve threshold on different sides.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import xxhash

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import datatrove.utils.hashes.xxhash as _dt_xxhash  # noqa: E402


def _xxh64(data: str | bytes) -> int:
    return xxhash.xxh64_intdigest(data.encode("utf-8") if isinstance(data, str) else data)


# Module level, so LocalPipelineExecutor's workers (forkserver, which imports this module)
# see it too.
_dt_xxhash.xxhash64 = _xxh64

LANGS = ("en", "de", "fr", "es", "it", "nl", "pt", "sv")
LEVELS = tuple(round(0.5 + 0.05 * i, 2) for i in range(11))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def build(n_base: int, n_variants: int, seed: int = 0) -> list[dict]:
    from tests.dedup.neardups import planted_corpus, sentences

    sents = sentences(ROOT.parent / "shared" / "data", LANGS)
    docs = planted_corpus(sents, n_base, n_variants, LEVELS, seed=seed, sentences_per_doc=(4, 10))
    return [{"id": d["id"], "text": d["text"], "level": d["level"]} for d in docs]


def write_input(docs: list[dict], folder: Path, shards: int = 2) -> None:
    """Plain Parquet shards (what datatrove reads), rows in id order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = sorted(({"id": d["id"], "text": d["text"]} for d in docs), key=lambda d: d["id"])
    folder.mkdir(parents=True)
    per = -(-len(docs) // shards)
    for i in range(shards):
        pq.write_table(pa.Table.from_pylist(docs[i * per : (i + 1) * per]), folder / f"part-{i:05d}.parquet")


def commit_input(spark, docs: list[dict], folder: Path) -> str:
    """The documents as a committed dataset (2 shards + manifest) that our stage reads; the
    plain shards stay in ``folder/raw``. Returns the committed folder."""
    from corpus.engine.manifest import write_manifest
    from corpus.engine.runner import write_output
    from corpus.stages.base import StageOutput

    write_input(docs, folder / "raw")
    committed = str(folder / "committed")
    rows = spark.read.parquet(str(folder / "raw"))
    counts = write_output(StageOutput(rows=rows, balanced=False, shards=2), committed)
    write_manifest(committed, {**counts, "rows_in": counts["rows_kept"], "balanced": False})
    return committed


Clusters = dict[str, str]
"""Document id -> a label shared by the members of its duplicate cluster (clustered docs only)."""


def run_ours(spark, committed: str, tmp: Path) -> tuple[set[str], Clusters, float]:
    import pyarrow.dataset as ds

    from corpus.engine.runner import run_stage_for_test
    from corpus.stages.minhash import REASON_PREFIX

    spark.read.parquet(committed).count()  # warm the session's file listing and JVM
    manifest, secs = timed(
        lambda: run_stage_for_test(spark, "minhash", {}, str(tmp), inputs={"docs": committed})
    )
    m = manifest["metrics"]
    print(f"  ours: S-curve threshold {m['s_curve_threshold']}, clusters {m['cluster_size_histogram']}")
    removed = ds.dataset(str(tmp / "minhash" / "_removed")).to_table(columns=["id", "reason"]).to_pylist()
    kept = ds.dataset(str(tmp / "minhash"), exclude_invalid_files=True).to_table(
        columns=["id", "dup_cluster_size"]
    )
    clusters = {r["id"]: r["reason"].removeprefix(REASON_PREFIX) for r in removed}
    clusters |= {r["id"]: r["id"] for r in kept.to_pylist() if r["dup_cluster_size"] > 1}
    return {r["id"] for r in removed}, clusters, secs


def run_datatrove(src: Path, tmp: Path) -> tuple[set[str], Clusters, float]:
    import pyarrow.dataset as ds
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.hashing import HashConfig

    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, hash_config=HashConfig(precision=64))
    logs = tmp / "logs"

    def reader():
        return ParquetReader(str(src), glob_pattern="part-*.parquet")

    stages = [
        LocalPipelineExecutor(
            pipeline=[reader(), MinhashDedupSignature(output_folder=str(tmp / "sigs"), config=cfg)],
            tasks=2,
            workers=2,
            logging_dir=str(logs / "1"),
        ),
        LocalPipelineExecutor(
            pipeline=[
                MinhashDedupBuckets(
                    input_folder=str(tmp / "sigs"), output_folder=str(tmp / "buckets"), config=cfg
                )
            ],
            tasks=cfg.num_buckets,
            workers=2,
            logging_dir=str(logs / "2"),
        ),
        LocalPipelineExecutor(
            pipeline=[
                MinhashDedupCluster(
                    input_folder=str(tmp / "buckets"),
                    output_folder=str(tmp / "remove"),
                    config=cfg,
                    save_cluster_id=True,
                )
            ],
            tasks=1,
            logging_dir=str(logs / "3"),
        ),
        LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupFilter(
                    input_folder=str(tmp / "remove"),
                    exclusion_writer=ParquetWriter(str(tmp / "removed")),
                    load_cluster_ids=True,
                ),
                ParquetWriter(str(tmp / "kept")),
            ],
            tasks=2,
            workers=2,
            logging_dir=str(logs / "4"),
        ),
    ]
    t = time.perf_counter()
    for stage in stages:
        stage.run()
    secs = time.perf_counter() - t

    def rows(folder: str) -> list[dict]:
        table = ds.dataset(str(tmp / folder)).to_table(columns=["id", "metadata"])
        return [{"id": r["id"], "cluster": r["metadata"]["minhash_cluster_id"]} for r in table.to_pylist()]

    removed = rows("removed")
    # -1: not in a cluster; null: the shard had no duplicate at all (no cluster file to load)
    clusters = {r["id"]: str(r["cluster"]) for r in removed + rows("kept") if r["cluster"] not in (None, -1)}
    return {r["id"] for r in removed}, clusters, secs


def run_datasketch(docs: list[dict]) -> tuple[set[str], Clusters, float]:
    import pyarrow as pa
    from datasketch import MinHash, MinHashLSH

    from corpus.text.normalize import normalize_array

    def work() -> Clusters:
        words = [
            t.split()
            for t in normalize_array(pa.array([d["text"] for d in docs], pa.large_string())).to_pylist()
        ]
        lsh = MinHashLSH(num_perm=112, params=(14, 8))
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for d, w in zip(docs, words, strict=True):
            grams = {" ".join(w[i : i + 5]).encode() for i in range(max(1, len(w) - 4))}
            m = MinHash(num_perm=112, scheme="affine64")
            m.update_batch(grams)
            for other in lsh.query(m):
                a, b = find(d["id"]), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            lsh.insert(d["id"], m)
        labels = {x: find(x) for x in list(parent)}
        return labels | {root: root for root in labels.values()}

    clusters, secs = timed(work)
    return {x for x, root in clusters.items() if root != x}, clusters, secs


def overlap(a: set, b: set) -> str:
    union = a | b
    return f"{len(a & b) / len(union):.3f}" if union else "n/a"


PLANTED = ((0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))
"""Bands of planted Jaccard level for the found-pairs table (threshold 0.72 sits in the third)."""


def planted_pairs(docs: list[dict]) -> list[tuple[str, str, float]]:
    """(base id, variant id, planted Jaccard level) of every planted variant."""
    ids = {d["id"] for d in docs}
    out = []
    for d in docs:
        base, _, v = d["id"].partition("v")
        if v and base in ids:
            out.append((base, d["id"], d["level"]))
    return out


def found_share(clusters: Clusters, planted: list[tuple[str, str, float]], lo: float, hi: float) -> str:
    """Share of planted (base, variant) pairs with level in [lo, hi) put in one cluster."""
    pairs_in = [(a, b) for a, b, level in planted if lo <= level < hi]
    hit = sum(a in clusters and clusters.get(a) == clusters.get(b) for a, b in pairs_in)
    return f"{hit / len(pairs_in):.3f}" if pairs_in else "n/a"


def pairs(clusters: Clusters) -> set[tuple[str, str]]:
    """Every pair of documents that share a cluster (clusters here are small)."""
    members: dict[str, list[str]] = {}
    for doc, label in clusters.items():
        members.setdefault(label, []).append(doc)
    return {(a, b) for m in members.values() for a in m for b in m if a < b}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=42000)
    ap.add_argument("--variants", type=int, default=8000)
    ap.add_argument("--no-datasketch", action="store_true")
    args = ap.parse_args()

    from corpus.engine.spark import get_spark

    docs, secs = timed(lambda: build(args.base, args.variants))
    n = len(docs)
    print(
        f"{n:,} documents ({sum(len(d['text']) for d in docs) / 1e6:.1f} M characters), built in {secs:.0f} s"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-minhash-"))
    try:
        spark = get_spark("local[2]")
        committed = commit_input(spark, docs, tmp / "input")
        load = {}
        load["ours"] = os.getloadavg()
        ours = run_ours(spark, committed, tmp / "ours")
        spark.stop()
        load["datatrove"] = os.getloadavg()
        results = {
            "ours (local[2])": ours,
            "datatrove (2 tasks)": run_datatrove(tmp / "input" / "raw", tmp / "dt"),
        }
        if not args.no_datasketch:
            load["datasketch"] = os.getloadavg()
            results["datasketch (1 proc)"] = run_datasketch(docs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\n{'':22}{'docs/s':>8} {'seconds':>8} {'removed':>8} {'clustered':>9}  load avg at start (1/5/15 min)"
    )
    for (name, (removed, clusters, secs)), la in zip(results.items(), load.values(), strict=True):
        print(
            f"{name:22}{n / secs:8.0f} {secs:8.1f} {len(removed):8,} {len(clusters):9,}  {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}"
        )
    t_ours = ours[2]
    for name, (removed, clusters, secs) in results.items():
        if name.startswith("ours"):
            continue
        print(
            f"ours vs {name.split()[0]}: {secs / t_ours:.2f}x the speed; overlap (|A&B|/|A|B|) of removed ids "
            f"{overlap(ours[0], removed)}, of clustered ids {overlap(set(ours[1]), set(clusters))}, "
            f"of same-cluster pairs {overlap(pairs(ours[1]), pairs(clusters))}"
        )
    planted = planted_pairs(docs)
    print(
        f"\nplanted near-duplicate pairs found (same cluster), by planted Jaccard level ({len(planted):,} pairs)"
    )
    print(f"{'':22}" + "".join(f"{f'{lo:.1f}-{min(hi, 1.0):.1f}':>10}" for lo, hi in PLANTED))
    for name, (_, clusters, _) in results.items():
        print(f"{name:22}" + "".join(f"{found_share(clusters, planted, lo, hi):>10}" for lo, hi in PLANTED))


if __name__ == "__main__":
    main()
