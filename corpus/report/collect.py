"""What the HTML report shows: numbers read from the committed manifests and, with DuckDB,
from the shards themselves (kept rows, ``_removed`` rows), for the panels whose data exists.

Every panel is keyed on what is on disk, never on a list of stage names: a stage adds a panel
when its manifest ``kind`` or its columns carry what the panel needs (``lang``, ``score_*`` /
``*_score``, ``bucket*``, ``code_tier``, ``n_tokens``, ``input_ids`` + ``doc_lens``,
``metrics.cluster_size_histogram``, ``metrics.groups`` ...). Nothing here starts Spark.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.engine import fs
from corpus.engine.manifest import MANIFEST, REMOVED, SHARD_RE, read_manifest
from corpus.errors import UserError

REASON_GROUP_SQL = "regexp_replace(reason, '^(.*_of):.*$', '\\1')"  # as corpus.inspect groups them
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")
NUMERIC += tuple("U" + t for t in NUMERIC[:5])
SCORE_RE = re.compile(r"^(score_.+|.+_score)$")
NOT_QUALITY = {"lang_score"}  # language-ID confidence, not a quality score
SAMPLE_CHARS = 600
SAMPLES_PER_REASON = 2
KEPT_SAMPLES = 3
SCORE_BINS = 30


@dataclass
class Stage:
    """One committed dataset: its manifest and DuckDB's view of its shards."""

    root: str
    folder: str
    manifest: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)  # kept rows: name -> DuckDB type
    kept: int = 0  # DuckDB count(*) over part-*.parquet
    removed: int = 0  # DuckDB count(*) over _removed/part-*.parquet
    removed_by_reason: dict[str, int] = field(default_factory=dict)  # DuckDB, grouped like inspect

    @property
    def name(self) -> str:
        return self.manifest["stage"]

    @property
    def kind(self) -> str:
        return self.manifest.get("kind", "")

    @property
    def metrics(self) -> dict[str, Any]:
        return self.manifest.get("metrics") or {}

    @property
    def seconds(self) -> float:
        return float(self.manifest.get("seconds") or 0.0)

    @property
    def rows_in(self) -> int:
        return int(self.manifest.get("rows_in") or 0)

    def numeric(self, col: str) -> bool:
        return self.columns.get(col, "").split("(")[0] in NUMERIC


def _q(path: str) -> str:
    return path.replace("'", "''")


def _shards(folder: str) -> str | None:
    """``read_parquet(...)`` of a folder's shards, or None when it holds none."""
    if not fs.exists(folder) or not any(SHARD_RE.match(n) for n in fs.listdir(folder)):
        return None
    return f"read_parquet('{_q(fs.join(folder, 'part-*.parquet'))}')"


def kept_sql(stage: Stage) -> str | None:
    return _shards(stage.folder)


def removed_sql(stage: Stage) -> str | None:
    return _shards(fs.join(stage.folder, REMOVED))


def _one(con, sql: str) -> tuple:
    """The first row of ``sql``."""
    return con.sql(sql).fetchall()[0]


def connect():
    import duckdb

    return duckdb.connect()


def load_stages(con, root: str) -> list[Stage]:
    """Committed datasets under ``root`` in pipeline order (each after its inputs), with DuckDB counts.

    Raises UserError when ``root`` does not exist or holds no committed dataset."""
    if not fs.exists(root):
        raise UserError(f"{root}: no such output folder")
    stages = []
    for name in fs.listdir(root):
        folder = fs.join(root, name)
        if not fs.exists(fs.join(folder, MANIFEST)):
            continue
        m = read_manifest(folder)
        if m:
            stages.append(Stage(root=root, folder=folder, manifest=m))
    if not stages:
        raise UserError(f"{root}: no committed stage here (no */{MANIFEST}); run a pipeline first")
    # pipeline order: a stage's position in its pipeline file (manifests since the fused
    # engine, whose stages commit together), else the finish time (which ties within a second)
    stages.sort(
        key=lambda s: (
            s.manifest.get("pipeline", ""),
            s.manifest.get("index", -1),
            s.manifest.get("finished", ""),
        )
    )
    stages = _after_inputs(stages)
    for s in stages:
        kept = kept_sql(s)
        if kept:
            s.columns = dict(
                con.sql(f"select column_name, column_type from (describe select * from {kept})").fetchall()
            )
            s.kept = _one(con, f"select count(*) from {kept}")[0]
        removed = removed_sql(s)
        if removed:
            rows = con.sql(
                f"select {REASON_GROUP_SQL} as r, count(*) from {removed} group by 1 order by 2 desc, 1"
            ).fetchall()
            s.removed_by_reason = {r: n for r, n in rows}
            s.removed = sum(s.removed_by_reason.values())
    return stages


# --- panels: each returns plain data (lists, dicts) or an empty value when its data is absent ---


def languages(con, stages: list[Stage]) -> dict[str, Any]:
    """Rows per ``lang`` in the first and the last dataset with a ``lang`` column:
    ``{"first": stage, "last": stage, "rows": [(lang, first_rows, last_rows)]}`` (most first)."""
    with_lang = [s for s in stages if "lang" in s.columns]
    if not with_lang:
        return {}
    first, last = with_lang[0], with_lang[-1]
    counts = {}
    for s in (first, last):
        counts[s.name] = dict(
            con.sql(f"select coalesce(lang, '(none)'), count(*) from {kept_sql(s)} group by 1").fetchall()
        )
    langs = sorted(counts[first.name], key=lambda k: (-counts[first.name][k], k))
    langs += sorted(set(counts[last.name]) - set(langs))
    return {
        "first": first.name,
        "last": last.name,
        "rows": [(k, counts[first.name].get(k, 0), counts[last.name].get(k, 0)) for k in langs],
    }


def cluster_histograms(stages: list[Stage]) -> dict[str, dict[str, int]]:
    """``stage -> {cluster size bin: clusters}`` from the manifests of dedup stages."""
    return {
        s.name: s.metrics["cluster_size_histogram"] for s in stages if "cluster_size_histogram" in s.metrics
    }


def _bucket_column(stage: Stage, score: str) -> str | None:
    """The bucket column that goes with a score column: ``bucket_<name>`` for ``score_<name>``
    (or ``<name>_bucket`` for ``<name>_score``), else a lone ``bucket`` column."""
    base = score[len("score_") :] if score.startswith("score_") else score[: -len("_score")]
    for cand in (f"bucket_{base}", f"{base}_bucket", "bucket"):
        if cand in stage.columns:
            return cand
    return None


def score_panels(con, stages: list[Stage]) -> list[dict[str, Any]]:
    """One panel per quality score column, read where the column first appears (every scored
    document): a histogram, and — where a later dataset buckets that score — the bucket
    thresholds from that stage's manifest (``metrics.thresholds[col].thresholds``, when it has
    them), the lowest and highest score seen in each bucket, and each bucket's rows and tokens.
    ``tokens`` counts ``n_tokens`` when the bucketed dataset has it, else characters of ``text``."""
    panels = []
    seen: set[str] = set()
    for s in stages:
        for col in s.columns:
            if col in seen or col in NOT_QUALITY or not SCORE_RE.match(col) or not s.numeric(col):
                continue
            seen.add(col)
            src = kept_sql(s)
            lo, hi, n = _one(con, f"select min({col}), max({col}), count({col}) from {src}")
            if not n:
                continue
            width = (hi - lo) / SCORE_BINS if hi > lo else 1.0
            bins = con.sql(
                f"select least(floor(({col} - {lo}) / {width}), {SCORE_BINS - 1})::int as b, count(*) "
                f"from {src} where {col} is not null group by 1 order by 1"
            ).fetchall()
            panel: dict[str, Any] = {
                "thresholds": None,
                "stage": s.name,
                "column": col,
                "rows": n,
                "min": lo,
                "max": hi,
                "edges": [lo + i * width for i in range(SCORE_BINS + 1)],
                "counts": [dict(bins).get(i, 0) for i in range(SCORE_BINS)],
                "buckets": [],
            }
            for b in stages[stages.index(s) :]:
                bcol = _bucket_column(b, col) if col in b.columns else None
                if bcol:
                    weight = (
                        "n_tokens"
                        if b.numeric("n_tokens")
                        else ("length(text)" if "text" in b.columns else "0")
                    )
                    panel["bucket_stage"], panel["bucket_column"] = b.name, bcol
                    # the bucket stage's manifest: metrics.thresholds.<score column>.thresholds
                    thr = ((b.metrics.get("thresholds") or {}).get(col) or {}).get("thresholds")
                    ok = isinstance(thr, list) and all(isinstance(x, (int, float)) for x in thr)
                    panel["thresholds"] = [float(x) for x in thr] if ok else None
                    panel["token_unit"] = "tokens" if weight == "n_tokens" else "characters"
                    panel["buckets"] = [
                        {"bucket": str(k), "min": a, "max": z, "rows": r, "tokens": int(t or 0)}
                        for k, a, z, r, t in con.sql(
                            f"select {bcol}, min({col}), max({col}), count(*), sum({weight}) from {kept_sql(b)} "
                            f"group by 1 order by 2"
                        ).fetchall()
                    ]
                    break
            panels.append(panel)
    return panels


def code_tiers(con, stages: list[Stage]) -> dict[str, Any]:
    """Rows per (language, ``code_tier``) in the last dataset with a ``code_tier`` column."""
    with_tier = [s for s in stages if "code_tier" in s.columns]
    if not with_tier:
        return {}
    s = with_tier[-1]
    lang = next((c for c in ("language", "lang", "code_language") if c in s.columns), None)
    key = lang or "'all'"
    rows = con.sql(
        f"select coalesce({key}::varchar, '(none)'), coalesce(code_tier::varchar, '(none)'), count(*) "
        f"from {kept_sql(s)} group by 1, 2 order by 1, 2"
    ).fetchall()
    return {"stage": s.name, "language_column": lang, "rows": rows}


def _log2_bins(con, expr: str, src: str, where: str = "true") -> list[tuple[int, int]]:
    """``[(lower bound, count)]`` of ``expr`` in power-of-two bins [2^k, 2^(k+1)); 0 in its own bin."""
    rows = con.sql(
        f"select case when v <= 0 then -1 else floor(log2(v))::int end as b, count(*) "
        f"from (select {expr} as v from {src} where {where}) group by 1 order by 1"
    ).fetchall()
    return [(0 if b < 0 else 2**b, n) for b, n in rows]


def token_panels(con, stages: list[Stage]) -> list[dict[str, Any]]:
    """Tokenized documents (``n_tokens``) and token streams (``input_ids`` + ``doc_lens``):
    length histograms, tokens per (source, bucket), and for streams the padding rate from the
    rows, the truncation rate and epochs requested vs realised from the manifest."""
    panels = []
    for s in stages:
        src = kept_sql(s)
        if not src:
            continue
        group_cols = [c for c in ("source", "bucket") if c in s.columns]
        group = ", ".join(f"{c}::varchar" for c in group_cols) or "'all'"
        if "input_ids" in s.columns and "doc_lens" in s.columns:
            pad = "coalesce(pad_len, 0)" if "pad_len" in s.columns else "0"
            rows, tokens, padding = _one(con, f"select count(*), sum(len(input_ids)), sum({pad}) from {src}")
            # doc_lens ends with the padding piece when pad_len > 0: leave it out of document pieces
            pieces = f"(select unnest(doc_lens[1:len(doc_lens) - ({pad} > 0)::int]) as n from {src})"
            panels.append(
                {
                    "stage": s.name,
                    "type": "stream",
                    "rows": rows,
                    "tokens": int(tokens or 0),
                    "padding": int(padding or 0),
                    "padding_rate": (padding or 0) / tokens if tokens else 0.0,
                    "truncation_rate": s.metrics.get("truncation_rate"),
                    "tokens_dropped": s.metrics.get("tokens_dropped"),
                    "seq_len": s.metrics.get("seq_len"),
                    "pack": s.metrics.get("pack"),
                    "lengths_of": "document piece lengths",
                    "lengths": _log2_bins(con, "n", pieces),
                    "pieces_per_row": _one(con, f"select avg(len(doc_lens) - ({pad} > 0)::int) from {src}")[
                        0
                    ],
                    "share": con.sql(
                        f"select {group}, count(*), sum(len(input_ids) - {pad}) from {src} group by all order by all"
                    ).fetchall(),
                    "groups": s.metrics.get("groups") or {},
                }
            )
        elif s.numeric("n_tokens"):
            panels.append(
                {
                    "stage": s.name,
                    "type": "documents",
                    "rows": s.kept,
                    "tokens": int(_one(con, f"select sum(n_tokens) from {src}")[0] or 0),
                    "lengths_of": "tokens per document",
                    "lengths": _log2_bins(con, "n_tokens", src),
                    "share": con.sql(
                        f"select {group}, count(*), sum(n_tokens) from {src} group by all order by all"
                    ).fetchall(),
                    "groups": {},
                }
            )
    for p in panels:  # one label per (source, bucket) group, as the stream manifest names them
        p["share"] = [
            ("/".join(str(v) for v in r[:-2] if v is not None) or "(none)", r[-2], int(r[-1] or 0))
            for r in p["share"]
        ]
    return panels


def samples(con, stages: list[Stage]) -> list[dict[str, Any]]:
    """A few kept rows of the last dataset, then a few removed rows per (stage, reason):
    ``{stage, reason, kept, rows: [{id, url, text}]}``, text cut to SAMPLE_CHARS characters."""
    out = []
    last = stages[-1] if stages else None
    if last is not None and kept_sql(last):
        rows = con.sql(
            f"select {_sample_fields(last.columns)} from {kept_sql(last)} order by 1 limit {KEPT_SAMPLES}"
        ).fetchall()
        out.append({"stage": last.name, "reason": "kept", "kept": True, "rows": [_sample(r) for r in rows]})
    for s in stages:
        removed = removed_sql(s)
        if not removed:
            continue
        cols = dict(
            con.sql(f"select column_name, column_type from (describe select * from {removed})").fetchall()
        )
        if "id" not in cols:
            continue
        # ids first (two columns), then the text of those rows only: a big _removed is never sorted with its text
        picks = con.sql(
            f"select id::varchar from (select id, row_number() over (partition by {REASON_GROUP_SQL} order by id) "
            f"as n from {removed}) where n <= {SAMPLES_PER_REASON}"
        ).fetchall()
        if not picks:
            continue
        ids = ", ".join(f"'{_q(i)}'" for (i,) in picks)
        rows = con.sql(
            f"select {REASON_GROUP_SQL} as g, {_sample_fields(cols)}, reason from {removed} "
            f"where id::varchar in ({ids}) order by g, i"
        ).fetchall()
        for reason in dict.fromkeys(r[0] for r in rows):
            out.append(
                {
                    "stage": s.name,
                    "reason": reason,
                    "kept": False,
                    "rows": [_sample(r[1:]) for r in rows if r[0] == reason],
                }
            )
    return out


def _sample_fields(cols: dict[str, str]) -> str:
    """``i, u, t``: id, a provenance column (url / path / repo) and the text's first characters."""
    url = next((c for c in ("url", "path", "repo") if c in cols), None)
    return ", ".join(
        [
            "id::varchar as i" if "id" in cols else "null::varchar as i",
            f"{url}::varchar as u" if url else "null::varchar as u",
            f"substr(text, 1, {SAMPLE_CHARS + 1}) as t" if "text" in cols else "null::varchar as t",
        ]
    )


def _sample(row: tuple) -> dict[str, Any]:
    """``(id, url, text[, reason])`` -> a sample dict, text cut to SAMPLE_CHARS characters."""
    i, u, t, *reason = row
    cut = t is not None and len(t) > SAMPLE_CHARS
    return {
        "id": i,
        "url": u,
        "text": (t[:SAMPLE_CHARS] + "…") if cut else t,
        "reason": reason[0] if reason else None,
    }


def scalar_metrics(stages: list[Stage]) -> dict[str, list[tuple[str, str]]]:
    """Each stage's scalar manifest metrics (numbers, short strings, short lists), for the
    stages the other panels do not cover in full."""
    out = {}
    for s in stages:
        items = []
        for k, v in sorted(s.metrics.items()):
            if isinstance(v, bool) or v is None or isinstance(v, (int, float, str)):
                items.append((k, _fmt(v)))
            elif isinstance(v, list) and len(v) <= 12 and all(not isinstance(x, (dict, list)) for x in v):
                items.append((k, ", ".join(_fmt(x) for x in v)))
        extra = {k: s.manifest[k] for k in ("transient_failures",) if k in s.manifest}
        items += [(k, _fmt(v)) for k, v in extra.items()]
        if s.manifest.get("artifacts"):
            items.append(("artifacts", ", ".join(a["file"] for a in s.manifest["artifacts"])))
        if items:
            out[s.name] = items
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    s = str(v)
    return s if len(s) <= 120 else s[:120] + "…"


IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
MAX_IMAGE_BYTES = 2_000_000


def artifact_images(stages: list[Stage]) -> list[dict[str, Any]]:
    """Images a stage committed as artifacts (e.g. a mixture's token-share plot), listed in its
    manifest: ``{stage, file, uri}`` with the bytes inlined as a ``data:`` URI (up to 2 MB)."""
    import base64

    out = []
    for s in stages:
        for a in s.manifest.get("artifacts") or []:
            mime = IMAGE_TYPES.get(Path(a["file"]).suffix.lower())
            if mime is None or a.get("bytes", 0) > MAX_IMAGE_BYTES:
                continue
            path = fs.join(s.folder, a["file"])
            if not fs.exists(path):
                continue
            with fs.open_binary(path) as f:
                data = f.read()
            out.append(
                {
                    "stage": s.name,
                    "file": a["file"],
                    "uri": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}",
                }
            )
    return out


def training(run_dir: str) -> dict[str, Any]:
    """A training run's ``metrics.jsonl`` (written by ``corpus train``): per-step records.

    Raises UserError when the folder has no metrics.jsonl."""
    from corpus.train.report import METRICS, read_metrics

    path = Path(run_dir)
    records = read_metrics(path)
    if not records:
        raise UserError(f"{run_dir}: no {METRICS} here (a `corpus train` run folder has one)")
    config = path / "config.json"
    return {
        "dir": run_dir,
        "records": records,
        "config": json.loads(config.read_text()) if config.is_file() else None,
    }


def _after_inputs(stages: list) -> list:
    """``stages`` (sorted by finish time, which ties within a second) reordered so each comes
    after the stages its manifest names as inputs: pipeline order, whatever the clock says."""
    names = {s.name for s in stages}
    placed: list = []
    done: set[str] = set()
    pending = list(stages)
    while pending:
        for s in pending:
            needs = {i.get("name") for i in s.manifest.get("inputs", [])} & names
            if needs <= done:
                break
        else:
            s = pending[0]  # a cycle cannot happen; keep going rather than loop
        pending.remove(s)
        placed.append(s)
        done.add(s.name)
    return placed
