"""The mixture policy: which (source, bucket / level / score) group a document belongs to, and
its epochs in each pre-training phase.

Rules are tried in order; the first that matches names the document's group. A rule matches
on any of ``source`` (one or a list), ``buckets`` (inclusive ``[lo, hi]`` on the bucket
column), ``levels`` (names in the level column) and ``score`` (``column >= min`` and/or
``column < below``); conditions it does not set always hold. A rule whose column is missing
from the data matches nothing (reported as a warning by the stage). Rows no rule matches get
the ``default`` group. A group with 0 epochs in every phase is dropped (the stage sends its
rows to ``_removed``).

Default (GLM-4.5 / Nemotron-CC, epochs ours): web buckets 0-3 dropped; math & science web
pages (``score_math_sci >= 0.5``, the shipped classifier's 0/1-label scale) 2 epochs in phase
1 and 3 in phase 2; web levels up-sampled with quality, the top (buckets 16-19) 3.5 epochs
(GLM-4.5: "more than 3.2"); multilingual documents of high educational utility
(``score_edu_multilingual >= 0.5``, the shipped head's 0-1 scale; use 3, FineWeb-Edu's
threshold, with a head trained on 0-5 annotations) 2 epochs; phase 2 halves general
web and up-samples ``code``, ``code_web`` and ``math_sci``. Code (``code``, ``code_web``)
tiered by the ``code_tier`` stage (``bucket`` 0 / 1 / 2 = ``quality_level`` low / medium /
high, :data:`corpus.code.tier.LEVELS`): low excluded, medium 1 / 2.5 epochs, high up-sampled
2 / 4 (GLM-4.5: high up-sampled, low excluded; epochs ours); untiered code 1 / 2.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

PHASES = ("phase1", "phase2")
CODE_SOURCES = ("code", "code_web")
"""Sources tiered by the code policy (``code_low`` / ``code_medium`` / ``code_high``)."""


class ScoreCond(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str
    min: float | None = None
    below: float | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    group: str = Field(description="group name (the stream's bucket label)")
    source: str | list[str] | None = None
    buckets: tuple[int, int] | None = None
    levels: list[str] | None = None
    score: ScoreCond | None = None
    epochs: dict[str, float]

    def columns(self, bucket_column: str, level_column: str) -> list[str]:
        """Columns this rule reads besides ``source``."""
        return [
            c
            for c, used in (
                (bucket_column, self.buckets is not None),
                (level_column, self.levels is not None),
                (self.score.column if self.score else "", self.score is not None),
            )
            if used
        ]


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    phases: list[str] = list(PHASES)
    bucket_column: str = "bucket"
    level_column: str = "quality_level"
    rules: list[Rule]
    default: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(PHASES, 1.0))
    default_group: str = "other"

    @model_validator(mode="after")
    def _check(self) -> Policy:
        names = [r.group for r in self.rules] + [self.default_group]
        for r in [*self.rules, Rule(group=self.default_group, epochs=self.default)]:
            if set(r.epochs) != set(self.phases):
                raise ValueError(f"group {r.group!r}: epochs must give exactly the phases {self.phases}")
            if any(e < 0 for e in r.epochs.values()):
                raise ValueError(f"group {r.group!r}: epochs must be >= 0")
        for g in set(names):
            same = [r for r in self.rules if r.group == g]
            if len({tuple(sorted(r.epochs.items())) for r in same}) > 1:
                raise ValueError(f"group {g!r} is named by rules with different epochs")
        return self

    def epochs_of(self, group: str) -> dict[str, float]:
        for r in self.rules:
            if r.group == group:
                return dict(r.epochs)
        return dict(self.default)

    def groups(self) -> list[str]:
        return list(dict.fromkeys([r.group for r in self.rules] + [self.default_group]))


def default_policy() -> Policy:
    """The issue's defaults (see the module docstring)."""

    def e(p1: float, p2: float) -> dict[str, float]:
        return {"phase1": p1, "phase2": p2}

    return Policy(
        rules=[
            Rule(group="low", source="web", buckets=(0, 3), epochs=e(0, 0)),
            Rule(
                group="math_sci",
                source="web",
                score=ScoreCond(column="score_math_sci", min=0.5),
                epochs=e(2, 3),
            ),
            Rule(group="high", source="web", buckets=(16, 19), epochs=e(3.5, 2.0)),
            Rule(group="medium_high", source="web", buckets=(12, 15), epochs=e(2.0, 1.0)),
            Rule(group="medium", source="web", buckets=(8, 11), epochs=e(1.0, 0.5)),
            Rule(group="medium_low", source="web", buckets=(4, 7), epochs=e(0.5, 0.25)),
            Rule(
                group="high_utility",
                source="multilingual",
                score=ScoreCond(column="score_edu_multilingual", min=0.5),
                epochs=e(2.0, 1.5),
            ),
            Rule(group="math_sci", source="math_sci", epochs=e(2, 3)),
            # code tiers (code_tier stage: bucket 0 / 1 / 2 = low / medium / high per language)
            Rule(group="code_low", source=list(CODE_SOURCES), buckets=(0, 0), epochs=e(0, 0)),
            Rule(group="code_medium", source=list(CODE_SOURCES), buckets=(1, 1), epochs=e(1.0, 2.5)),
            Rule(group="code_high", source=list(CODE_SOURCES), buckets=(2, 2), epochs=e(2.0, 4.0)),
            Rule(group="code", source=list(CODE_SOURCES), epochs=e(1.0, 2.5)),  # not tiered
        ],
    )


def match(batch: pa.RecordBatch, policy: Policy) -> tuple[np.ndarray, list[str]]:
    """Index of the first matching rule per row (``len(rules)`` = the default group), and
    one warning per rule whose columns the batch lacks."""
    n = batch.num_rows
    names = set(batch.schema.names)
    out = np.full(n, len(policy.rules), dtype=np.int32)
    free = np.ones(n, dtype=bool)
    warnings = []
    source = np.array(batch.column("source").to_pylist(), dtype=object) if "source" in names else None

    def num(col: str) -> np.ndarray:
        return np.asarray(batch.column(col).to_numpy(zero_copy_only=False), dtype=np.float64)

    for i, r in enumerate(policy.rules):
        missing = [c for c in r.columns(policy.bucket_column, policy.level_column) if c not in names]
        if r.source is not None and source is None:
            missing.append("source")
        if missing:
            warnings.append(f"mixture rule {r.group!r}: column(s) {missing} absent, the rule matched nothing")
            continue
        ok = free.copy()
        if r.source is not None:
            ok &= np.isin(source, [r.source] if isinstance(r.source, str) else r.source)
        if r.buckets is not None:
            b = num(policy.bucket_column)  # null -> nan: never inside a range
            ok &= (b >= r.buckets[0]) & (b <= r.buckets[1])
        if r.levels is not None:
            ok &= np.isin(np.array(batch.column(policy.level_column).to_pylist(), dtype=object), r.levels)
        if r.score is not None:
            s = num(r.score.column)
            if r.score.min is not None:
                ok &= s >= r.score.min
            if r.score.below is not None:
                ok &= s < r.score.below
        out[ok] = i
        free &= ~ok
    return out, warnings


def describe(policy: Policy) -> dict[str, Any]:
    """The policy as plain JSON (for the mixture artifact)."""
    return policy.model_dump(mode="json")
