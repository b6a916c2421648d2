"""The typed stage contract every stage module follows.

A stage module (``corpus/stages/<kind>.py``) holds three things and nothing else:

* ``Params`` — a :class:`StageParams` subclass (pydantic, unknown keys rejected) with the
  stage's parameters and their defaults;
* its per-document batch function(s): pure ``pa.RecordBatch -> pa.RecordBatch`` functions,
  importable and testable without Spark;
* ``run(ctx: StageContext, params: Params) -> StageOutput`` — the DataFrame logic;
* optionally ``INPUTS: dict[str, Role]`` — its inputs by role (default: one or more datasets
  under the role ``input``; a source stage declares ``{}``), and
  ``outside_files(params, base_dir) -> list[Outside]`` — files it reads from outside the
  output (globs, model folders, templates, tokenizers, git refs), fingerprinted by ``plan``;
  ``check_inputs(params, roles: set[str])`` — raises ValueError when params and the roles
  given do not fit together (checked by ``corpus validate``).

Stage modules must stay cheap to import (``corpus validate`` imports every stage of a
pipeline): Spark, torch, transformers, trafilatura, datatrove ... are imported inside functions.

A stage returns rows, artifacts (files written under ``ctx.artifacts_dir``: a classifier,
thresholds, a mixture, a tokenizer — committed by the same rename as the rows and listed with
sha256 in the manifest), or both.

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


@dataclass(frozen=True)
class Role:
    """One named input of a stage.

    ``kind``: ``dataset`` (committed rows, read as a DataFrame) or ``artifact`` (the files a
    stage committed under ``artifacts/``, or a plain folder such as ``classifiers/web_quality``).
    ``many``: the role takes a list of refs (their rows are read side by side, keyed by ref).
    """

    kind: Literal["dataset", "artifact"] = "dataset"
    required: bool = True
    many: bool = False
    help: str = ""


DEFAULT_INPUTS: dict[str, Role] = {"input": Role("dataset", required=False, many=True)}
"""Roles of a stage module that declares no ``INPUTS``: one or more datasets, today's list form."""


@dataclass(frozen=True)
class Outside:
    """A file a stage reads from outside the pipeline's output, fingerprinted into resume.

    ``kind``: ``file`` (content hash when small, else size + mtime), ``glob`` (the matches, with
    size + mtime of each), ``tree`` (every file under a folder: model folders), ``git`` (the
    commit ``ref`` resolves to in the repository at ``path``).
    """

    path: str
    kind: Literal["file", "glob", "tree", "git"] = "file"
    required: bool = True
    ref: str | None = None


class StageParams(BaseModel):
    """Base of every stage's parameters: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Binding:
    """One input ref bound to a role: ``path`` is the dataset or artifact folder it names;
    ``manifest`` its committed manifest (None for a plain artifact folder)."""

    role: str
    ref: str
    kind: Literal["dataset", "artifact"]
    path: str
    manifest: dict[str, Any] | None = None


@dataclass
class StageContext:
    """What the runner hands a stage: Spark, its inputs by role and run-wide settings."""

    spark: SparkSession
    name: str
    seed: int
    inputs: dict[str, DataFrame]
    """Dataset inputs (kept rows), keyed by role; a ``many`` role (the default ``input``) is
    keyed by each ref instead, in declared order."""
    base_dir: Path
    """Directory relative paths in params resolve against (the pipeline file's repo root)."""
    output_dir: str
    """The pipeline's output root (``<output>``); the stage's own folder is ``<output>/<name>``."""
    input_manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Committed manifests of the dataset inputs, keyed like :attr:`inputs` (an artifact
    role's manifest is in :attr:`bindings`)."""
    input_paths: dict[str, str] = field(default_factory=dict)
    """Dataset folders, keyed like :attr:`inputs`."""
    bindings: list[Binding] = field(default_factory=list)
    artifacts_dir: str = ""
    """Where this stage writes artifact files: inside its temporary folder, committed with it."""
    cache_dir: str = ""
    """``<output>/_cache/<stage>/``: paid or slow work kept across killed runs; never committed."""
    collected: list[dict[str, Any]] | None = None
    """The rows of the stage's :class:`Collect` over its committed input, when the pass that
    wrote the input computed them (None: the stage computes them itself)."""
    planning: bool = False
    """True while the runner plans a fused pass: ``inputs`` are empty stand-ins for rows not
    written yet. A stage whose ``run`` must see its input's rows (thresholds over all of them)
    raises :class:`RowsNeeded` and runs once its input is committed."""

    @property
    def input(self) -> DataFrame:
        """The single upstream dataset; a clear error when the stage has none or several."""
        if len(self.inputs) != 1:
            raise ValueError(f"stage {self.name!r} expects exactly one input, got {list(self.inputs)}")
        return next(iter(self.inputs.values()))

    def has(self, role: str) -> bool:
        """Whether an (optional) role was given."""
        return any(b.role == role for b in self.bindings)

    def artifact(self, role: str) -> str:
        """Folder holding the files of artifact role ``role``: ``<dataset>/artifacts`` for a
        committed stage, the folder itself for a plain folder. KeyError when not given."""
        for b in self.bindings:
            if b.role == role:
                return artifact_folder(b.path, b.manifest)
        raise KeyError(f"stage {self.name!r} has no input with role {role!r}")

    def resolve(self, path: str) -> str:
        """Resolve a user path from params: URIs and absolute paths as they are."""
        if "://" in path or Path(path).is_absolute():
            return path
        return str((self.base_dir / path).resolve())


ARTIFACTS = "artifacts"
"""Sub-folder of a committed stage holding its artifact files (same as the manifest module's)."""


def artifact_folder(path: str, manifest: dict[str, Any] | None) -> str:
    """The artifact files of a committed dataset (``<path>/artifacts``) or a plain folder."""
    if manifest is None:
        return path
    return path.rstrip("/") + "/" + ARTIFACTS


def roles_of(module: Any) -> dict[str, Role]:
    """A stage module's declared roles (``INPUTS``), or the default list-form role."""
    return getattr(module, "INPUTS", DEFAULT_INPUTS)


@dataclass(frozen=True)
class Collect:
    """A stage-wide sum a stage needs before its own pass: ``fn(batch, params)`` on every row
    group of its input gives a few rows of ``schema`` (Spark DDL), summed by the stage."""

    fn: Callable[[Any, Any], Any]
    params: Any
    schema: str


class RowsNeeded(Exception):
    """Raised by a stage's ``run`` when :attr:`StageContext.planning`: it cannot join a fused pass.

    With ``collect``, the pass that writes its input applies it to each row group it commits
    (:mod:`corpus.engine.pieces`), and the stage finds the rows in
    :attr:`StageContext.collected` instead of reading its input once more for them."""

    def __init__(self, message: str, collect: Collect | None = None) -> None:
        super().__init__(message)
        self.collect = collect


@dataclass
class StageOutput:
    """A stage's result: every row it saw, kept or with a removal reason.

    ``rows`` must contain the :data:`REASON` column (null = kept) for ``balanced`` stages.
    Stages that change the unit of rows (tokenising into sequences, packing) set
    ``balanced=False`` and may omit it; their manifest then records rows in and out only.
    """

    rows: DataFrame | None
    """None for an artifact-only stage (its files are under ``ctx.artifacts_dir``)."""
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
    row_group_bytes: int = 128 << 20
    """Uncompressed bytes per Parquet row group (cut by row, not by batch)."""
    retry_column: str | None = None
    """Kept rows with a non-null value in this column failed transiently (an HTTP error ...):
    the manifest counts them as ``transient_failures`` and the next run reruns the stage."""
    document: Any = None
    """Set by :func:`corpus.engine.arrow_map.document_stage`: the per-document map behind
    ``rows`` (a ``DocumentMap``), which the runner may apply to the input's shards itself."""
    source: Any = None
    """Set by :func:`corpus.engine.arrow_map.source_stage`: the work units and reader behind
    ``rows`` (a ``SourceMap``), which the runner reads itself, one task per unit."""
    keep_partitions: bool = False
    """``rows`` are already split and ordered deterministically (one partition
    per input shard, see :mod:`corpus.engine.shard_map`): partition i becomes shard i, with
    no shuffle or sort (``shards``, ``partition_by`` and ``sort_by`` are then unused)."""
