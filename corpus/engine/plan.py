"""Plan a pipeline run: per stage, run or skip, and why.

A stage is skipped only when its committed manifest matches its config hash and every input's
manifest; the decision needs no Spark (``corpus run --dry-run`` and the no-op rerun use it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import corpus
from corpus.engine import fs
from corpus.engine.manifest import config_hash, manifest_sha256, read_manifest
from corpus.errors import UserError
from corpus.spec import Pipeline, StageSpec, is_dataset_path


@dataclass
class PlanItem:
    spec: StageSpec
    action: str  # "run" | "skip"
    why: str
    config_hash: str
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (ref, dataset path)


def stage_config_hash(pipeline: Pipeline, spec: StageSpec) -> str:
    return config_hash(
        {
            "kind": spec.kind,
            "params": spec.params.model_dump(mode="json"),
            "inputs": list(spec.inputs),
            "seed": pipeline.seed,
            "code_version": corpus.__version__,
        }
    )


def input_path(output: str, ref: str) -> str:
    return ref if is_dataset_path(ref) else fs.join(output, ref)


def plan(
    pipeline: Pipeline, output: str, only: list[str] | None = None, force: list[str] | None = None
) -> list[PlanItem]:
    """Decide per stage whether to run: not committed, config or an input changed, forced,
    or an upstream stage of this run reruns (its new manifest will differ)."""
    only, force = set(only or []), set(force or [])
    for name in only | force:
        pipeline.stage(name)  # raises SpecError for an unknown name
    items: list[PlanItem] = []
    rerun: set[str] = set()
    for spec in pipeline.stages:
        chash = stage_config_hash(pipeline, spec)
        inputs = [(ref, input_path(output, ref)) for ref in spec.inputs]
        if only and spec.name not in only:
            items.append(PlanItem(spec, "skip", "not selected (--only)", chash, inputs))
            continue
        committed = read_manifest(fs.join(output, spec.name))
        if spec.name in force:
            action, why = "run", "forced"
        elif committed is None:
            action, why = "run", "not committed"
        elif committed.get("config_hash") != chash:
            action, why = "run", "config changed"
        elif any(ref in rerun for ref in spec.inputs):
            action, why = "run", "an input reruns"
        elif _recorded_inputs(committed) != _current_inputs(inputs):
            action, why = "run", "an input changed"
        else:
            action, why = "skip", "committed and unchanged"
        if action == "run":
            rerun.add(spec.name)
            for ref, path in inputs:
                if ref not in rerun and read_manifest(path) is None:
                    raise UserError(f"stage {spec.name!r}: input {ref!r} has no committed dataset at {path}")
        items.append(PlanItem(spec, action, why, chash, inputs))
    return items


def _recorded_inputs(manifest: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i["manifest_sha256"] for i in manifest.get("inputs", [])}


def _current_inputs(inputs: list[tuple[str, str]]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for ref, path in inputs:
        out[ref] = manifest_sha256(path) if read_manifest(path) is not None else None
    return out


def check_writable(output: str) -> None:
    """Fail early with one line when the output folder cannot be written."""
    probe = fs.join(output, f".write-probe-{uuid.uuid4().hex}")
    try:
        fs.makedirs(output)
        fs.write_text_atomic(probe, "ok")
        fs.remove(probe)
    except OSError as e:
        raise UserError(f"output folder {output} is not writable: {e.strerror or e}") from None
