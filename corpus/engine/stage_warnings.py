"""One-line warnings a stage records in ``metrics["warnings"]`` (printed in the run summary).

Why: a run that silently writes nothing is the worst outcome a user cannot see — "kept 0,
removed 0" reads like success. Three cases are caught where they happen:

* a stage that keeps zero rows of a non-empty input (the runner, any stage);
* a stream group whose tokens cannot fill one row (``stream``: a 4,096-token truncate stream
  over 177 tokens writes nothing);
* a filter that removes more than :data:`LANG_REMOVED_SHARE` of one language (``heuristics``),
  a sign that its rules do not fit that language rather than that the pages are bad.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WARNINGS = "warnings"
LANG_REMOVED_SHARE = 0.9
LANG_MIN_ROWS = 10
"""Languages with fewer input rows are not judged (one removed page is not a pattern)."""


def add(metrics: dict[str, Any], lines: list[str]) -> dict[str, Any]:
    """Append ``lines`` to ``metrics["warnings"]`` (created when missing); returns ``metrics``."""
    if lines:
        metrics.setdefault(WARNINGS, []).extend(lines)
    return metrics


def zero_output(
    stage: str, rows_in: int | None, rows_kept: int, removed_by_reason: Mapping[str, int]
) -> list[str]:
    """A warning when a stage kept no row of a non-empty input, naming its top removal reasons."""
    if not rows_in or rows_kept:
        return []
    top = sorted(removed_by_reason.items(), key=lambda kv: -kv[1])[:3]
    why = f"; removed: {', '.join(f'{k} {v:,}' for k, v in top)}" if top else " and removed none"
    return [f"{stage}: 0 rows written from {rows_in:,} input rows{why}"]


def unfilled_stream_groups(stage: str, groups: Mapping[str, Mapping[str, Any]], seq_len: int) -> list[str]:
    """A warning per stream group that had tokens to place but filled no row of ``seq_len``."""
    out = []
    for label, g in groups.items():
        if g.get("rows", 0) == 0 and g.get("doc_tokens", 0) > 0 and g.get("epochs_requested", 0) > 0:
            out.append(
                f"{stage}: group {label} has {g['doc_tokens']:,} tokens in {g.get('docs', 0):,} documents, "
                f"fewer than one row of seq_len {seq_len:,}: no row written, its tokens are dropped"
            )
    return out


def language_removal(
    stage: str, rows_in: Mapping[str, int], rows_kept: Mapping[str, int], share: float = LANG_REMOVED_SHARE
) -> list[str]:
    """A warning per language (with at least :data:`LANG_MIN_ROWS` rows) of which the stage
    removed more than ``share``."""
    out = []
    for lang, n in sorted(rows_in.items()):
        kept = rows_kept.get(lang, 0)
        if n >= LANG_MIN_ROWS and (n - kept) > share * n:
            out.append(
                f"{stage}: removed {100.0 * (n - kept) / n:.1f}% of language {lang} ({n - kept:,} of {n:,} rows); "
                "check its rules (per_lang) before trusting the output"
            )
    return out


def summary_lines(results: list[dict[str, Any]]) -> list[str]:
    """Every warning recorded by the stages of a run, for the run summary."""
    return [f"warning: {w}" for r in results for w in ((r.get("metrics") or {}).get(WARNINGS) or [])]
