"""``corpus report``'s HTML page: one self-contained file (inline CSS, charts as SVG ``data:``
URIs, no script, nothing fetched), built from :mod:`corpus.report.collect`.

Panels appear only where their data exists. Every value inserted into the page goes through
``html.escape``; document samples are cut to a few hundred characters.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from corpus.report import charts, collect

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#212121;background:#fafafa}
header{background:#263238;color:#eceff1;padding:18px 32px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#b0bec5}main{max-width:1040px;margin:0 auto;padding:8px 32px 48px}
nav{margin:14px 0;font-size:13px}nav a{margin-right:12px;color:#1565c0;text-decoration:none}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:14px 20px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f5f5f5;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:10px 0}figure img{max-width:100%;height:auto;display:block}figcaption{font-size:12px;color:#616161}
.ok{color:#2e7d32}.bad{color:#c62828;font-weight:600}.muted{color:#757575;font-size:12px}
pre.doc{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;border-left:3px solid #cfd8dc;padding:6px 10px;margin:4px 0 10px;font-size:12px;max-height:14em;overflow:auto}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}.removed summary{color:#c62828}.kept summary{color:#2e7d32}
"""


def e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def n(v: int | float | None) -> str:
    if v is None:
        return ""
    return f"{v:,}" if isinstance(v, int) else f"{v:,.1f}"


def pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.2f} %"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "", numeric: Sequence[int] = ()
) -> str:
    """A table; ``rows`` cells are pre-escaped HTML strings or plain values (escaped here).
    A row may be ``(attrs, cells)`` to put ``data-*`` attributes on its ``<tr>``."""
    head = "".join(f"<th{_num(i, numeric)}>{e(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        attrs = ""
        if len(row) == 2 and isinstance(row[0], dict):
            attrs = "".join(f' data-{k}="{e(v)}"' for k, v in row[0].items())
            row = row[1]
        cells = []
        for i, c in enumerate(row):
            content = c.html if isinstance(c, Raw) else e(c)
            cells.append(f"<td{_num(i, numeric)}>{content}</td>")
        body.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    return f'<table class="{e(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _num(i: int, numeric: Sequence[int]) -> str:
    return ' class="n"' if i in numeric else ""


class Raw:
    """Pre-built HTML for a table cell (not escaped again)."""

    def __init__(self, html_: str) -> None:
        self.html = html_


def figure(name: str, uri: str, caption: str) -> str:
    return (
        f'<figure class="chart" data-chart="{e(name)}"><img alt="{e(caption)}" src="{uri}">'
        f"<figcaption>{e(caption)}</figcaption></figure>"
    )


def section(sid: str, title: str, body: str) -> tuple[str, str, str]:
    return (
        sid,
        title,
        f'<section id="{e(sid)}" data-panel="{e(sid.split("--")[0])}"><h2>{e(title)}</h2>{body}</section>',
    )


# --- panels ---


def funnel_panel(root: str, stages: list[collect.Stage]) -> str:
    names = [s.name for s in stages]
    kept = [s.manifest.get("rows_kept", 0) for s in stages]
    removed = [s.manifest.get("rows_removed", 0) for s in stages]
    rows = []
    for s in stages:
        m = s.manifest
        agree = s.kept == m.get("rows_kept", 0) and s.removed == m.get("rows_removed", 0)
        check = (
            Raw('<span class="ok">✓ equal</span>')
            if agree
            else Raw(f'<span class="bad">shards hold {s.kept:,} kept / {s.removed:,} removed</span>')
        )
        rows.append(
            (
                {"stage": s.name, "kind": s.kind},
                [
                    s.name,
                    s.kind,
                    n(s.rows_in),
                    n(m.get("rows_kept", 0)),
                    n(m.get("rows_removed", 0)),
                    f"{100 * m.get('rows_kept', 0) / s.rows_in:.1f}" if s.rows_in else "",
                    f"{s.seconds:.1f}",
                    f"{s.rows_in / s.seconds:,.0f}" if s.seconds > 0 else "",
                    check,
                ],
            )
        )
    body = figure("funnel", charts.funnel(names, kept, removed), f"{root}: kept and removed rows per stage")
    body += table(
        ["stage", "kind", "rows in", "kept", "removed", "kept %", "seconds", "rows/s", "shards (DuckDB)"],
        rows,
        cls="funnel",
        numeric=(2, 3, 4, 5, 6, 7),
    )
    body += (
        '<p class="muted">rows, reasons and seconds from each stage\'s <code>_manifest.json</code>; '
        "the last column counts the Parquet shards with DuckDB.</p>"
    )
    return body


def reasons_panel(stages: list[collect.Stage]) -> str:
    with_removed = [s for s in stages if s.manifest.get("removed_by_reason")]
    if not with_removed:
        return ""
    total: dict[str, int] = {}
    rows = []
    for s in with_removed:
        for reason, count in sorted(s.manifest["removed_by_reason"].items(), key=lambda kv: (-kv[1], kv[0])):
            total[reason] = total.get(reason, 0) + count
            shard = s.removed_by_reason.get(reason)
            check = (
                Raw('<span class="ok">✓</span>')
                if shard == count
                else Raw(f'<span class="bad">{n(shard)}</span>')
            )
            rows.append(
                (
                    {"stage": s.name, "reason": reason},
                    [s.name, reason, n(count), f"{100 * count / s.rows_in:.1f}" if s.rows_in else "", check],
                )
            )
    top = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    body = figure(
        "reasons",
        charts.hbar([k for k, _ in top], [v for _, v in top], "removed rows by reason (top 20)", "rows"),
        "rows removed per reason, all stages",
    )
    body += table(
        ["stage", "reason", "rows", "% of stage input", "_removed (DuckDB)"],
        rows,
        cls="reasons",
        numeric=(2, 3),
    )
    return body


def time_panel(stages: list[collect.Stage]) -> str:
    names = [s.name for s in stages]
    secs = [s.seconds for s in stages]
    rate = [s.rows_in / s.seconds if s.seconds > 0 else 0.0 for s in stages]
    total = sum(secs)
    body = figure(
        "time", charts.time_and_rate(names, secs, rate), "wall seconds and rows in per second, per stage"
    )
    body += f"<p>total {total:,.1f} s of stage time"
    masters = sorted({(s.manifest.get("engine") or {}).get("master", "") for s in stages} - {""})
    if masters:
        body += " on " + ", ".join(f"<code>{e(m)}</code>" for m in masters)
    return body + ".</p>"


def languages_panel(langs: dict[str, Any]) -> str:
    rows = langs["rows"]
    top = rows[:25]
    series = {f"{langs['first']}": [r[1] for r in top]}
    if langs["last"] != langs["first"]:
        series[langs["last"]] = [r[2] for r in top]
    body = figure(
        "languages",
        charts.grouped_bars([r[0] for r in top], series, "rows per language", "language", "rows"),
        f"rows per language after {langs['first']}"
        + (f" and after {langs['last']}" if len(series) > 1 else ""),
    )
    first, last = sum(r[1] for r in rows), sum(r[2] for r in rows)
    body += table(
        ["lang", f"rows after {langs['first']}", "%", f"rows after {langs['last']}", "%"],
        [
            (
                {"lang": r[0]},
                [
                    r[0],
                    n(r[1]),
                    f"{100 * r[1] / first:.1f}" if first else "",
                    n(r[2]),
                    f"{100 * r[2] / last:.1f}" if last else "",
                ],
            )
            for r in rows
        ],
        cls="languages",
        numeric=(1, 2, 3, 4),
    )
    return body


def clusters_panel(hists: dict[str, dict[str, int]]) -> str:
    bins = sorted({b for h in hists.values() for b in h}, key=lambda b: int(b.split("-")[0]))
    body = figure(
        "clusters",
        charts.grouped_bars(
            bins,
            {stage: [h.get(b, 0) for b in bins] for stage, h in hists.items()},
            "duplicate clusters by size",
            "documents per duplicate cluster",
            "clusters",
        ),
        "duplicate clusters by size, per dedup stage (from the manifests)",
    )
    body += table(
        ["stage", *bins, "clusters"],
        [[stage, *[n(h.get(b, 0)) for b in bins], n(sum(h.values()))] for stage, h in hists.items()],
        cls="clusters",
        numeric=tuple(range(1, len(bins) + 2)),
    )
    return body


def scores_panel(panels: list[dict[str, Any]]) -> str:
    body = ""
    for p in panels:
        lines = p["thresholds"] or [b["min"] for b in p["buckets"][1:]]
        what = "thresholds (manifest)" if p["thresholds"] else "lower boundaries (lowest score seen)"
        body += (
            f"<h3>{e(p['column'])} <span class='muted'>(in {e(p['stage'])}, {p['rows']:,} rows)</span></h3>"
        )
        body += figure(
            f"score-{p['column']}",
            charts.histogram(p["edges"], p["counts"], f"{p['column']} histogram", p["column"], lines=lines),
            f"{p['column']}: rows per score bin"
            + (
                f"; dashed: {what} of the {p['bucket_column']} buckets ({p['bucket_stage']})" if lines else ""
            ),
        )
        if p["buckets"]:
            total = sum(b["tokens"] for b in p["buckets"]) or 1
            body += table(
                ["bucket", "lowest score", "highest score", "rows", p["token_unit"], "share"],
                [
                    (
                        {"bucket": b["bucket"]},
                        [
                            b["bucket"],
                            f"{b['min']:.4g}",
                            f"{b['max']:.4g}",
                            n(b["rows"]),
                            n(b["tokens"]),
                            pct(b["tokens"] / total),
                        ],
                    )
                    for b in p["buckets"]
                ],
                cls="buckets",
                numeric=(1, 2, 3, 4, 5),
            )
    return body


def code_panel(tiers: dict[str, Any]) -> str:
    langs = sorted({r[0] for r in tiers["rows"]})
    tier_names = sorted({r[1] for r in tiers["rows"]})
    counts = {(r[0], r[1]): r[2] for r in tiers["rows"]}
    body = figure(
        "code-tiers",
        charts.grouped_bars(
            langs,
            {t: [counts.get((lang, t), 0) for lang in langs] for t in tier_names},
            f"code tiers per language ({tiers['stage']})",
            tiers["language_column"] or "",
            "rows",
        ),
        "rows per code tier and language",
    )
    body += table(["language", "code_tier", "rows"], tiers["rows"], cls="code-tiers", numeric=(2,))
    return body


def tokens_panel(panels: list[dict[str, Any]]) -> str:
    body = ""
    for p in panels:
        body += f"<h3>{e(p['stage'])} <span class='muted'>({e(p['type'])})</span></h3>"
        facts = [("rows", n(p["rows"])), ("tokens", n(p["tokens"]))]
        if p["type"] == "stream":
            facts += [
                ("seq_len", n(p["seq_len"])),
                ("packing", p["pack"] or ""),
                ("padding rate (rows)", pct(p["padding_rate"])),
                ("truncation rate (manifest)", pct(p["truncation_rate"])),
                ("tokens dropped (manifest)", n(p["tokens_dropped"])),
                (
                    "documents per row",
                    f"{p['pieces_per_row']:.2f}" if p["pieces_per_row"] is not None else "",
                ),
            ]
        body += table(["", "value"], facts, cls=f"token-facts-{p['stage']}", numeric=(1,))
        if p["lengths"]:
            edges = [b for b, _ in p["lengths"]] + [max(1, p["lengths"][-1][0] * 2)]
            labels = [
                f"{b:,}–{nxt - 1:,}" if nxt - 1 > b else f"{b:,}"
                for b, nxt in zip(edges, edges[1:], strict=False)
            ]
            body += figure(
                f"lengths-{p['stage']}",
                charts.grouped_bars(
                    labels,
                    {p["lengths_of"]: [c for _, c in p["lengths"]]},
                    f"{p['stage']}: {p['lengths_of']}",
                    "tokens (power-of-two bins)",
                    "count",
                ),
                f"{p['stage']}: {p['lengths_of']}, power-of-two bins",
            )
        share = p["share"]
        total = sum(t for _, _, t in share) or 1
        body += figure(
            f"share-{p['stage']}",
            charts.hbar(
                [g for g, _, _ in share],
                [t for _, _, t in share],
                f"{p['stage']}: tokens per source / bucket",
                "tokens",
                color=charts.ACCENT,
            ),
            f"{p['stage']}: document tokens per source and bucket (padding excluded)",
        )
        rows = []
        for g, r, t in share:
            plan = p["groups"].get(g) or {}
            rows.append(
                [
                    g,
                    n(r),
                    n(t),
                    pct(t / total),
                    f"{plan['epochs_requested']:.3g}" if "epochs_requested" in plan else "",
                    f"{plan['epochs_realised']:.3g}" if "epochs_realised" in plan else "",
                    f"{plan['epochs_realised_tokens']:.3g}" if "epochs_realised_tokens" in plan else "",
                ]
            )
        body += table(
            [
                "source / bucket",
                "rows",
                "tokens",
                "share",
                "epochs planned",
                "realised (docs)",
                "realised (tokens)",
            ],
            rows,
            cls="token-share",
            numeric=(1, 2, 3, 4, 5, 6),
        )
    return body


def metrics_panel(metrics: dict[str, list[tuple[str, str]]]) -> str:
    body = ""
    for stage, items in metrics.items():
        body += f"<details><summary>{e(stage)}</summary>{table(['metric', 'value'], items, cls='metrics')}</details>"
    return body


def training_panel(run: dict[str, Any]) -> str:
    recs = run["records"]
    x = [r["tokens"] for r in recs]
    boundaries = [
        (prev["tokens"], cur["stage"])
        for prev, cur in zip(recs, recs[1:], strict=False)
        if cur["stage"] != prev["stage"]
    ]
    panels = [
        {
            "title": "loss (nats/token)",
            "series": {k: [r.get(k) for r in recs] for k in ("lm_loss", "mtp_loss") if k in recs[0]},
        },
        {"title": "learning rate", "series": {"lr": [r.get("lr") for r in recs]}},
    ]
    if "expert_load" in recs[0]:
        panels.append(
            {
                "title": "expert load, max / mean tokens per expert (1 = balanced)",
                "series": {
                    "mean over layers": [r["expert_load"] for r in recs],
                    "worst layer": [r.get("expert_load_worst") for r in recs],
                },
            }
        )
    body = figure(
        "training",
        charts.curves(panels, x, "tokens seen", boundaries),
        f"{run['dir']}: loss, learning rate and expert load per step",
    )
    stages: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        stages.setdefault(r["stage"], []).append(r)
    rows = []
    for name, rs in stages.items():
        secs = sum(r.get("step_s", 0.0) for r in rs)
        toks = sum(r.get("seq_len", 0) * r.get("batch_rows", 0) for r in rs)
        rows.append(
            [
                name,
                n(len(rs)),
                n(rs[-1]["tokens"]),
                f"{rs[0]['loss']:.4f}",
                f"{rs[-1]['loss']:.4f}",
                n(rs[-1].get("seq_len")),
                f"{toks / secs:,.0f}" if secs else "",
            ]
        )
    body += table(
        ["stage", "steps", "tokens seen", "first loss (total)", "last loss (total)", "seq_len", "tok/s"],
        rows,
        cls="training",
        numeric=(1, 2, 3, 4, 5, 6),
    )
    return body


def artifacts_panel(images: list[dict[str, Any]]) -> str:
    return "".join(
        figure(f"artifact-{i['stage']}-{i['file']}", i["uri"], f"{i['stage']}: {i['file']}") for i in images
    )


def samples_panel(samples: list[dict[str, Any]]) -> str:
    body = ""
    for s in samples:
        title = f"{s['stage']}: kept" if s["kept"] else f"{s['stage']}: {s['reason']}"
        docs = ""
        for r in s["rows"]:
            detail = r["reason"] if r["reason"] != s["reason"] else None  # e.g. duplicate_of:<id>
            head = " · ".join(e(v) for v in (r["id"], r["url"], detail) if v)
            text = (
                f'<pre class="doc">{e(r["text"])}</pre>'
                if r["text"] is not None
                else '<p class="muted">(no text column)</p>'
            )
            docs += f'<div class="sample"><div class="muted">{head}</div>{text}</div>'
        cls = "kept" if s["kept"] else "removed"
        body += (
            f'<details class="{cls}" data-stage="{e(s["stage"])}" data-reason="{e(s["reason"])}"'
            f"{' open' if s['kept'] else ''}><summary>{e(title)} ({len(s['rows'])})</summary>{docs}</details>"
        )
    return body


# --- the page ---


def build(roots: Sequence[str], train_dirs: Sequence[str] = ()) -> str:
    """The whole page for pipeline outputs ``roots`` and training runs ``train_dirs``.

    Raises UserError when a root has no committed stage or a run folder no metrics.jsonl."""
    con = collect.connect()
    sections: list[tuple[str, str, str]] = []
    summary = []
    for i, root in enumerate(roots):
        stages = collect.load_stages(con, root)
        sfx = f"--{i}" if len(roots) > 1 else ""
        label = f" — {root}" if len(roots) > 1 else ""
        pipeline = stages[-1].manifest.get("pipeline", "")
        summary.append(
            f"<p><code>{e(root)}</code>: pipeline <b>{e(pipeline)}</b>, {len(stages)} stages, "
            f"{n(stages[0].rows_in)} rows into {e(stages[0].name)} → {n(stages[-1].manifest.get('rows_kept', 0))} kept by {e(stages[-1].name)}</p>"
        )
        sections.append(section(f"funnel{sfx}", f"Funnel{label}", funnel_panel(root, stages)))
        if body := reasons_panel(stages):
            sections.append(section(f"reasons{sfx}", f"Removed by reason{label}", body))
        sections.append(section(f"time{sfx}", f"Wall time and throughput{label}", time_panel(stages)))
        if langs := collect.languages(con, stages):
            sections.append(section(f"languages{sfx}", f"Languages{label}", languages_panel(langs)))
        if hists := collect.cluster_histograms(stages):
            sections.append(section(f"clusters{sfx}", f"Duplicate clusters{label}", clusters_panel(hists)))
        if scores := collect.score_panels(con, stages):
            sections.append(
                section(f"scores{sfx}", f"Quality scores and buckets{label}", scores_panel(scores))
            )
        if tiers := collect.code_tiers(con, stages):
            sections.append(section(f"code{sfx}", f"Code tiers{label}", code_panel(tiers)))
        if toks := collect.token_panels(con, stages):
            sections.append(section(f"tokens{sfx}", f"Tokens{label}", tokens_panel(toks)))
        if images := collect.artifact_images(stages):
            sections.append(section(f"artifacts{sfx}", f"Artifact images{label}", artifacts_panel(images)))
        if metrics := collect.scalar_metrics(stages):
            sections.append(section(f"metrics{sfx}", f"Stage metrics{label}", metrics_panel(metrics)))
        if samples := collect.samples(con, stages):
            sections.append(section(f"samples{sfx}", f"Sample documents{label}", samples_panel(samples)))
    for j, run_dir in enumerate(train_dirs):
        sfx = f"--{j}" if len(train_dirs) > 1 else ""
        sections.append(
            section(f"training{sfx}", f"Training — {run_dir}", training_panel(collect.training(run_dir)))
        )
    nav = "".join(f'<a href="#{e(sid)}">{e(title)}</a>' for sid, title, _ in sections)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>corpus report: {e(', '.join(roots))}</title><style>{CSS}</style></head><body>"
        f"<header><h1>corpus report</h1>{''.join(summary)}<p>generated {e(now)}</p></header>"
        f"<main><nav>{nav}</nav>{''.join(body for _, _, body in sections)}</main></body></html>\n"
    )
