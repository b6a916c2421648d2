"""The typed stage contract every stage module follows.

A stage module (``corpus/stages/<kind>.py``) holds three things and nothing else:

* ``Params`` — a :class:`StageParams` subclass (pydantic, unknown keys rejected) with the
  stage's parameters and their defaults;
* its per-document batch function(s): pure ``pa.RecordBatch -> pa.RecordBatch`` functions,
  importable and testable without Spark;
* ``run(ctx: StageContext, params: Params) -> StageOutput`` — the DataFrame logic.

Rows a stage drops are never discarded: the DataFrame a stage returns carries a string
column :data:`REASON` that is null for kept rows and names the rule for removed ones. The
engine writes kept rows (without the column) to ``<stage>/`` and removed ones (column
renamed ``reason``) to ``<stage>/_removed/`` and checks ``in == kept + removed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

REASON = "_reason"
"""Column a stage sets on rows it removes (null on kept rows)."""


class StageParams(BaseModel):
    """Base of every stage's parameters: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class StageContext:
    """What the runner hands a stage: Spark, its inputs and run-wide settings."""

    spark: SparkSession
    name: str
    seed: int
    inputs: dict[str, DataFrame]
    """Committed upstream datasets by stage name (kept rows only), in declared order."""
    base_dir: Path
    """Directory relative paths in params resolve against (the pipeline file's repo root)."""
    output_dir: str
    """The pipeline's output root (``<output>``); the stage's own folder is ``<output>/<name>``."""
    input_manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Upstream ``_manifest.json`` contents by stage name (e.g. for tokenizer hashes)."""

    @property
    def input(self) -> DataFrame:
        """The single upstream dataset; a clear error when the stage has none or several."""
        if len(self.inputs) != 1:
            raise ValueError(f"stage {self.name!r} expects exactly one input, got {list(self.inputs)}")
        return next(iter(self.inputs.values()))

    def resolve(self, path: str) -> str:
        """Resolve a user path from params: URIs and absolute paths as they are."""
        if "://" in path or Path(path).is_absolute():
            return path
        return str((self.base_dir / path).resolve())


@dataclass
class StageOutput:
    """A stage's result: every row it saw, kept or with a removal reason.

    ``rows`` must contain the :data:`REASON` column (null = kept) for ``balanced`` stages.
    Stages that change the unit of rows (tokenising into sequences, packing) set
    ``balanced=False`` and may omit it; their manifest then records rows in and out only.
    """

    rows: DataFrame
    balanced: bool = True
    rows_in: int | None = None
    """For source stages (no input dataset): how many records were read. Filters leave it None
    and the runner takes the input manifests' kept counts."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Extra manifest fields computed before writing (histograms, thresholds ...)."""
    after_write: Callable[[DataFrame], dict[str, Any]] | None = None
    """Called with the written kept rows (re-read from disk) for metrics that need a pass
    over the output (tokens per source ...); its dict is merged into ``metrics``."""
    sort_by: tuple[str, ...] = ("id",)
    """Columns kept rows are sorted by within each shard (deterministic, cheap to scan)."""
    shards: int | None = None
    """Fixed number of output shards (hash-partitioned); None lets the runner choose."""
    partition_by: tuple[str, ...] = ("id",)
    """Columns the runner hash-partitions kept rows by when it reshuffles into ``shards``."""
    write_options: dict[str, str] = field(default_factory=dict)
    """Extra Parquet writer options (e.g. ``{"parquet.block.size": str(32 << 20)}`` for
    row groups sized for streaming); Spark writer only."""
    writer: Literal["spark", "arrow"] = "spark"
    """``arrow``: shards written by pyarrow on the executors with pinned options, so the same
    rows give the same bytes on any master (Spark's footers vary between JVMs)."""
    row_group_bytes: int = 128 << 20
    """Arrow writer: uncompressed bytes per row group (cut by row, not by batch)."""
    keep_partitions: bool = False
    """Arrow writer: ``rows`` are already split and ordered deterministically (one partition
    per input shard, see :mod:`corpus.engine.shard_map`): partition i becomes shard i, with
    no shuffle or sort (``shards``, ``partition_by`` and ``sort_by`` are then unused)."""
