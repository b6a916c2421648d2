"""``corpus report`` in the terminal: the funnel of a pipeline's output (rows kept per stage,
removals by reason, languages of the last stage, duplicate clusters by size per dedup stage)
as a table, and optionally the same as one PNG. The HTML page is :mod:`corpus.report.html`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from corpus.engine import fs
from corpus.engine.manifest import MANIFEST, read_manifest
from corpus.engine.progress import histogram_text
from corpus.errors import UserError


def committed_stages(output: str) -> list[dict[str, Any]]:
    """Manifests of the committed stages under ``output``, in the order they finished.

    Raises UserError when ``output`` is missing or holds no committed stage."""
    if not fs.exists(output):
        raise UserError(f"{output}: no such output folder")
    ms = [
        read_manifest(fs.join(output, n))
        for n in fs.listdir(output)
        if fs.exists(fs.join(output, n, MANIFEST))
    ]
    if not ms:
        raise UserError(f"{output}: no committed stage here")
    # finish times tie within a second (fused stages commit together): then pipeline order
    return sorted(
        (m for m in ms if m), key=lambda m: (m["finished"], m.get("pipeline", ""), m.get("index", -1))
    )


def funnel_table(manifests: list[dict[str, Any]]) -> Table:
    table = Table(title="funnel", title_justify="left")
    for col in ("stage", "kind", "rows in", "kept", "removed", "kept %"):
        # never cut a stage name or a count: on a narrow console the reasons wrap instead
        table.add_column(col, justify="right" if col not in ("stage", "kind") else "left", no_wrap=True)
    table.add_column("removed by reason", overflow="fold")
    for m in manifests:
        rows_in = m.get("rows_in") or 0
        reasons = ", ".join(
            f"{k} {v:,}" for k, v in sorted(m.get("removed_by_reason", {}).items(), key=lambda kv: -kv[1])
        )
        table.add_row(
            m["stage"],
            m["kind"],
            f"{rows_in:,}",
            f"{m['rows_kept']:,}",
            f"{m.get('rows_removed', 0):,}",
            f"{100 * m['rows_kept'] / rows_in:.1f}" if rows_in else "",
            reasons,
        )
    return table


def languages(output: str, stage: str) -> list[tuple[str, int]]:
    """``(lang, rows)`` of a stage's kept rows, when it has a ``lang`` column."""
    from corpus.inspect import connect

    con = connect(fs.join(output, stage))
    cols = {r[0] for r in con.sql("select column_name from (describe data)").fetchall()}
    if "lang" not in cols:
        return []
    return con.sql("select lang, count(*) from data group by 1 order by 2 desc").fetchall()


def cluster_histograms(manifests: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``stage -> {cluster size bin: clusters}`` for the dedup stages (minhash, semdedup, ...)."""
    return {
        m["stage"]: m["metrics"]["cluster_size_histogram"]
        for m in manifests
        if "cluster_size_histogram" in (m.get("metrics") or {})
    }


def _bin_start(label: str) -> int:
    return int(label.split("-")[0])


def plot(
    manifests: list[dict[str, Any]],
    langs: list[tuple[str, int]],
    png: str,
    clusters: dict[str, dict[str, int]] | None = None,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clusters = clusters or {}
    n = 2 + bool(langs) + bool(clusters)
    fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 4.5), layout="constrained")
    names = [m["stage"] for m in manifests]
    axes[0].bar(names, [m["rows_kept"] for m in manifests], color="tab:green", label="kept")
    axes[0].bar(
        names,
        [m.get("rows_removed", 0) for m in manifests],
        bottom=[m["rows_kept"] for m in manifests],
        color="tab:red",
        alpha=0.6,
        label="removed",
    )
    axes[0].set_title("rows per stage")
    axes[0].legend()
    axes[0].tick_params(axis="x", rotation=30)
    reasons: dict[str, int] = {}
    for m in manifests:
        for k, v in m.get("removed_by_reason", {}).items():
            reasons[k] = reasons.get(k, 0) + v
    top = sorted(reasons.items(), key=lambda kv: -kv[1])[:15]
    axes[1].barh([k for k, _ in top][::-1], [v for _, v in top][::-1], color="tab:red", alpha=0.7)
    axes[1].set_title("removed by reason (top 15)")
    if langs:
        axes[2].bar([lang for lang, _ in langs[:20]], [n for _, n in langs[:20]], color="tab:blue")
        axes[2].set_title(f"languages of {manifests[-1]['stage']}")
    if clusters:
        ax = axes[-1]
        bins = sorted({b for h in clusters.values() for b in h}, key=_bin_start)
        width = 0.8 / len(clusters)
        for i, (stage, hist) in enumerate(clusters.items()):
            ax.bar(
                [x + i * width for x in range(len(bins))], [hist.get(b, 0) for b in bins], width, label=stage
            )
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(bins))], bins)
        ax.set_xlabel("documents per duplicate cluster")
        ax.set_title("duplicate clusters by size")
        ax.legend()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def report(output: str, png: str | None, console: Console) -> None:
    """Print the funnel of ``output``; save the PNG to ``png`` when given."""
    manifests = committed_stages(output)
    console.print(funnel_table(manifests))
    langs = languages(output, manifests[-1]["stage"]) if manifests[-1]["rows_kept"] else []
    if langs:
        console.print(
            "languages of " + manifests[-1]["stage"] + ": " + ", ".join(f"{k} {v:,}" for k, v in langs)
        )
    clusters = cluster_histograms(manifests)
    for stage, hist in clusters.items():
        console.print(f"{stage}: duplicate clusters by size: {histogram_text(hist)}", highlight=False)
    if png:
        plot(manifests, langs, png, clusters)
        console.print(f"plot: {png}")
