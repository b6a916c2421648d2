"""Panels keyed on what is on disk, without Spark: committed datasets written here with pyarrow
and a manifest (as the runner commits them) carry score / bucket / code tier / token-stream
columns, and the report's numbers must equal what the test computes from the same arrays."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.engine.manifest import REMOVED, shard_entries, write_manifest
from corpus.report import collect
from corpus.report.html import build
from tests.engine.conftest import ROOT


def commit(
    root: Path, stage: str, kind: str, kept: pa.Table, removed: pa.Table | None = None, **extra
) -> Path:
    """A committed dataset: one kept shard, optionally one ``_removed`` shard, a manifest."""
    folder = root / stage
    folder.mkdir(parents=True)
    pq.write_table(kept, folder / "part-00000.parquet")
    by_reason: dict[str, int] = {}
    if removed is not None:
        (folder / REMOVED).mkdir()
        pq.write_table(removed, folder / REMOVED / "part-00000.parquet")
        by_reason = dict(Counter(removed.column("reason").to_pylist()))
    n_removed = removed.num_rows if removed is not None else 0
    write_manifest(
        str(folder),
        {
            "stage": stage,
            "kind": kind,
            "pipeline": "synthetic",
            "finished": f"2026-01-01T00:00:{len(list(root.iterdir())):02d}+00:00",
            "seconds": 2.0,
            "rows_in": kept.num_rows + n_removed,
            "rows_kept": kept.num_rows,
            "rows_removed": n_removed,
            "removed_by_reason": by_reason,
            "balanced": True,
            "engine": {"name": "spark", "master": "local[2]"},
            "shards": shard_entries(str(folder)),
            "removed_shards": shard_entries(str(folder / REMOVED)) if removed is not None else [],
            **extra,
        },
    )
    return folder


@pytest.fixture
def scored(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    """score -> bucket -> code tiers over 300 documents with seeded scores and token counts."""
    rng = np.random.default_rng(7)
    n = 300
    ids = [f"d{i:04d}" for i in range(n)]
    score = rng.beta(2, 5, n).astype(np.float64) * 5
    tokens = rng.integers(20, 2_000, n)
    lang = rng.choice(["python", "rust", "go"], n)
    tier = rng.choice(["high", "mid", "low"], n)
    text = [f"<b>doc {i}</b> & more" for i in range(n)]
    root = tmp_path / "out"
    root.mkdir()
    base = {"id": ids, "text": text, "source": ["web"] * n, "n_tokens": tokens.astype(np.int32)}
    commit(root, "score", "score", pa.table({**base, "score_quality": score}))
    edges = np.quantile(score, [0.25, 0.5, 0.75])
    bucket = np.searchsorted(edges, score, side="right")
    keep = bucket > 0  # the lowest bucket is dropped, as the mixture policy does
    bucket_table = pa.table(
        {
            **base,
            "score_quality": score,
            "bucket_quality": bucket.astype(np.int32),
            "language": lang,
            "code_tier": tier,
        }
    )
    commit(
        root,
        "bucket",
        "bucket",
        bucket_table.filter(pa.array(keep)),
        bucket_table.filter(pa.array(~keep))
        .select(["id", "text"])
        .append_column(
            "reason", pa.array([f"mixture:dropped_bucket:0 <{i}>" for i in range(int((~keep).sum()))])
        ),
        metrics={"thresholds": {"score_quality": {"thresholds": edges.tolist()}}, "frozen": False},
    )
    return root, {
        "score": score,
        "bucket": bucket,
        "tokens": tokens,
        "keep": keep,
        "lang": lang,
        "tier": tier,
    }


def test_score_histogram_and_bucket_boundaries_come_from_the_data(scored):
    root, a = scored
    con = collect.connect()
    stages = collect.load_stages(con, str(root))
    [panel] = collect.score_panels(con, stages)
    assert (panel["stage"], panel["column"], panel["rows"]) == ("score", "score_quality", len(a["score"]))
    assert sum(panel["counts"]) == len(a["score"])
    expected, _ = np.histogram(a["score"], bins=np.asarray(panel["edges"]))
    assert panel["counts"] == expected.tolist()
    # boundaries and token share of the kept buckets, read in the bucket stage
    assert (panel["bucket_stage"], panel["bucket_column"], panel["token_unit"]) == (
        "bucket",
        "bucket_quality",
        "tokens",
    )
    kept = a["keep"]
    for b in panel["buckets"]:
        members = kept & (a["bucket"] == int(b["bucket"]))
        assert b["min"] == pytest.approx(a["score"][members].min())
        assert b["max"] == pytest.approx(a["score"][members].max())
        assert (b["rows"], b["tokens"]) == (int(members.sum()), int(a["tokens"][members].sum()))
    assert [b["bucket"] for b in panel["buckets"]] == ["1", "2", "3"]
    assert panel["thresholds"] == pytest.approx(edges := np.quantile(a["score"], [0.25, 0.5, 0.75]))
    for b in panel["buckets"]:  # every bucket's scores lie above its lower threshold
        assert b["min"] >= edges[int(b["bucket"]) - 1]


def test_code_tiers_per_language(scored):
    root, a = scored
    con = collect.connect()
    tiers = collect.code_tiers(con, collect.load_stages(con, str(root)))
    expected = Counter(zip(a["lang"][a["keep"]].tolist(), a["tier"][a["keep"]].tolist(), strict=True))
    assert tiers["language_column"] == "language"
    assert {(lang, t): c for lang, t, c in tiers["rows"]} == dict(expected)


def test_token_stream_padding_lengths_and_share(tmp_path):
    rng = np.random.default_rng(3)
    seq_len, rows = 64, []
    for _ in range(40):
        pad = int(rng.choice([0, 0, 9]))
        cuts = sorted(
            rng.choice(np.arange(1, seq_len - pad), size=int(rng.integers(0, 3)), replace=False).tolist()
        )
        docs = [b - a for a, b in zip([0, *cuts], [*cuts, seq_len - pad], strict=True)] + (
            [pad] if pad else []
        )
        rows.append(
            {"input_ids": [1] * seq_len, "doc_lens": docs, "pad_len": pad, "source": "web", "bucket": None}
        )
    root = tmp_path / "tokens"
    root.mkdir()
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("input_ids", pa.list_(pa.int32())),
                ("doc_lens", pa.list_(pa.int32())),
                ("pad_len", pa.int32()),
                ("source", pa.string()),
                ("bucket", pa.string()),
            ]
        ),
    )
    groups = {"web": {"epochs_requested": 2.0, "epochs_realised": 1.98, "epochs_realised_tokens": 1.97}}
    commit(
        root,
        "pretrain",
        "stream",
        table,
        metrics={"seq_len": seq_len, "pack": "best_fit", "truncation_rate": 0.0, "groups": groups},
    )
    con = collect.connect()
    [p] = collect.token_panels(con, collect.load_stages(con, str(root)))
    padding = sum(r["pad_len"] for r in rows)
    assert (p["rows"], p["tokens"], p["padding"]) == (40, 40 * seq_len, padding)
    assert p["padding_rate"] == pytest.approx(padding / (40 * seq_len))
    pieces = [n for r in rows for n in (r["doc_lens"][:-1] if r["pad_len"] else r["doc_lens"])]
    assert sum(c for _, c in p["lengths"]) == len(pieces)
    assert dict(p["lengths"]) == dict(Counter(2 ** int(np.floor(np.log2(n))) for n in pieces))
    assert p["share"] == [("web", 40, 40 * seq_len - padding)]
    page = build([str(root)])
    assert "epochs planned" in page and ">2<" in page and ">1.98<" in page  # matched to the manifest group


def test_page_is_self_contained_and_escapes_documents(scored):
    root, _ = scored
    page = build([str(root)])
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "&lt;b&gt;doc" in page and "<b>doc" not in page  # sample text is escaped
    assert "mixture:dropped_bucket:0 &lt;0&gt;" in page  # the raw reason too
    panels = set(re.findall(r'data-panel="([^"]+)"', page))
    assert {"funnel", "reasons", "time", "scores", "code", "tokens", "metrics", "samples"} <= panels
    assert "languages" not in panels and "clusters" not in panels  # no lang column, no dedup stage


def test_artifact_images_are_inlined(scored):
    """A stage's committed image artifact (a mixture's token-share plot, say) shows up inlined."""
    import base64
    import hashlib

    root, _ = scored
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))  # only the bytes matter here: they must come back
    art = root / "mix" / "artifacts"
    art.mkdir(parents=True)
    (art / "share.png").write_bytes(png)
    table = pa.table({"id": ["a"], "text": ["x"]})
    pq.write_table(table, root / "mix" / "part-00000.parquet")
    entry = {"file": "artifacts/share.png", "bytes": len(png), "sha256": hashlib.sha256(png).hexdigest()}
    write_manifest(
        str(root / "mix"),
        {
            "stage": "mix",
            "kind": "mixture",
            "finished": "2026-01-01T00:01:00+00:00",
            "rows_in": 1,
            "rows_kept": 1,
            "shards": shard_entries(str(root / "mix")),
            "artifacts": [entry],
        },
    )
    page = build([str(root)])
    assert 'data-chart="artifact-mix-artifacts/share.png"' in page
    assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in page


def test_cli_one_line_errors(tmp_path):
    for args, needle in (
        ([str(tmp_path / "missing")], "no such output folder"),
        ([str(tmp_path)], "no committed stage here"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "corpus.cli", "report", *args], capture_output=True, text=True, cwd=ROOT
        )
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.slow
def test_training_curves_from_a_real_run(scored, tmp_path):
    """A tiny real `corpus train` run (three stages, a few steps) adds its loss / LR / expert-load
    panel; the per-stage table equals the run's metrics.jsonl."""
    import json

    from corpus.train.loop import train
    from tests.train.helpers import three_stage_config

    cfg = three_stage_config(tmp_path / "train", steps_per_stage=(1, 1, 1))
    train(cfg, tmp_path / "run", quiet=True)
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    root, _ = scored
    page = build([str(root)], [str(tmp_path / "run")])
    assert 'data-chart="training"' in page
    table = page[page.index('class="training"') :]
    for stage in dict.fromkeys(r["stage"] for r in records):
        rs = [r for r in records if r["stage"] == stage]
        assert f'<td>{stage}</td><td class="n">{len(rs)}</td>' in table
        assert f"{rs[-1]['loss']:.4f}" in table
