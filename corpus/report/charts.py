"""Charts for the HTML report: matplotlib figures saved as SVG and returned as ``data:`` URIs,
so the page needs no network and no script. Text stays text in the SVG (``svg.fonttype:
none``), and ids are salted per report so the files are reproducible."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

KEPT, REMOVED, ACCENT, MUTED = "#2e7d32", "#c62828", "#1565c0", "#9e9e9e"
WIDTH = 7.6  # inches; the page shows charts at up to 760 px wide


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "corpus-report",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
        }
    )
    return plt


def _uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    _plt().close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _height(n: int, per: float = 0.28, lo: float = 2.2, hi: float = 9.0) -> float:
    return min(hi, max(lo, 0.8 + per * n))


def funnel(names: Sequence[str], kept: Sequence[int], removed: Sequence[int]) -> str:
    """Horizontal stacked bars: kept and removed rows per stage, in pipeline order."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH, _height(len(names), 0.4)))
    y = list(range(len(names)))[::-1]
    ax.barh(y, kept, color=KEPT, label="kept")
    ax.barh(y, removed, left=kept, color=REMOVED, alpha=0.65, label="removed")
    for yi, k, r in zip(y, kept, removed, strict=True):
        ax.text(k + r, yi, f"  {k:,} kept" + (f" / {r:,} removed" if r else ""), va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel("rows")
    ax.set_xlim(0, max([k + r for k, r in zip(kept, removed, strict=True)] + [1]) * 1.35)
    ax.legend(loc="lower right", frameon=False)
    ax.set_title("rows in per stage: kept and removed")
    return _uri(fig)


def hbar(
    labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, color: str = REMOVED
) -> str:
    """Horizontal bars, first label on top, each bar labelled with its value."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH, _height(len(labels), lo=1.2)))
    y = list(range(len(labels)))[::-1]
    ax.barh(y, values, height=0.7, color=color, alpha=0.8)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {v:,.4g}" if isinstance(v, float) else f" {v:,}", va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, max(list(values) + [1]) * 1.18)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _uri(fig)


def time_and_rate(names: Sequence[str], seconds: Sequence[float], rate: Sequence[float]) -> str:
    """Two panels side by side: wall seconds and rows in per second, per stage."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, _height(len(names), 0.35)), sharey=True)
    y = list(range(len(names)))[::-1]
    a.barh(y, seconds, color=ACCENT)
    b.barh(y, rate, color=MUTED)
    for yi, s, r in zip(y, seconds, rate, strict=True):
        a.text(s, yi, f" {s:.1f}", va="center", fontsize=8)
        b.text(r, yi, f" {r:,.0f}", va="center", fontsize=8)
    a.set_yticks(y, names)
    a.set_xlim(0, max(list(seconds) + [1]) * 1.25)
    b.set_xlim(0, max(list(rate) + [1]) * 1.3)
    a.set_title("wall time (s)")
    b.set_title("rows in per second")
    return _uri(fig)


def grouped_bars(
    labels: Sequence[str], series: dict[str, Sequence[float]], title: str, xlabel: str, ylabel: str
) -> str:
    """Vertical bars, one colour per series, side by side per label; a log axis when the
    values span more than 30x (one language dominating a crawl would flatten the others)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    positive = [v for values in series.values() for v in values if v > 0]
    if positive and max(positive) > 30 * min(positive):
        ax.set_yscale("log")
        ylabel += " (log scale)"
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(labels))], values, width, label=name)
    ax.set_xticks(
        [x + 0.4 - width / 2 for x in range(len(labels))], labels, rotation=45 if len(labels) > 12 else 0
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside, never on a bar
    return _uri(fig)


def histogram(
    edges: Sequence[float], counts: Sequence[int], title: str, xlabel: str, lines: Sequence[float] = ()
) -> str:
    """Bars between consecutive ``edges``; dashed vertical ``lines`` (bucket boundaries)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    widths = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    ax.bar(
        edges[:-1], counts, widths, align="edge", color=ACCENT, alpha=0.8, edgecolor="white", linewidth=0.4
    )
    for x in lines:
        ax.axvline(x, color=REMOVED, ls="--", lw=0.9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    ax.set_title(title)
    return _uri(fig)


def curves(
    panels: Sequence[dict[str, Any]], x: Sequence[float], xlabel: str, boundaries: Sequence[tuple[float, str]]
) -> str:
    """Stacked line panels sharing ``x``: each ``{title, series: {label: ys}, log: bool}``;
    ``boundaries`` are ``(x, label)`` marks (training stage starts)."""
    plt = _plt()
    fig, axes = plt.subplots(len(panels), 1, figsize=(WIDTH, 2.3 * len(panels)), sharex=True, squeeze=False)
    for ax, p in zip(axes[:, 0], panels, strict=True):
        for label, ys in p["series"].items():
            ax.plot(x, ys, lw=1.2, label=label)
        if p.get("log"):
            ax.set_yscale("log")
        for bx, name in boundaries:
            ax.axvline(bx, color=MUTED, lw=0.8)
            ax.text(
                bx, 1.0, f" {name}", transform=ax.get_xaxis_transform(), va="top", fontsize=7, color="#616161"
            )
        ax.set_title(p["title"], loc="left")
        if len(p["series"]) > 1:
            ax.legend(frameon=False, fontsize=8)
    axes[-1, 0].set_xlabel(xlabel)
    return _uri(fig)
