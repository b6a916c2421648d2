"""Plan a pipeline run: per stage, run or skip, and why.

A stage is skipped only when its committed manifest matches its config hash, the fingerprints
of the files it reads from outside the output (:mod:`corpus.engine.fingerprint`) and every
input's manifest, and it recorded no transient failures. The decision needs no Spark
(``corpus validate``, ``corpus run --dry-run`` and the no-op rerun use it).

Why strings: "not committed", "config changed", "input files changed: <path>", "an input
reruns", "an input changed", "forced", "N transient failures to retry", "committed and
unchanged"; a stage left out by ``--only`` is "not selected (--only)", or "out of date (<input>
changed)" when what it was built from is no longer what is committed (it is not rerun).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import corpus
from corpus.engine import fingerprint, fs
from corpus.engine.manifest import config_hash, manifest_sha256, read_manifest
from corpus.errors import UserError
from corpus.spec import Pipeline, StageSpec, is_dataset_path

OUT_OF_DATE = "out of date"


@dataclass
class PlanItem:
    spec: StageSpec
    action: str  # "run" | "skip"
    why: str
    config_hash: str
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (ref, dataset path)
    outside: list[dict[str, Any]] = field(default_factory=list)
    """Resolved outside files (:func:`corpus.engine.fingerprint.resolve`), for the manifest."""
    outside_fingerprint: str = ""

    @property
    def out_of_date(self) -> bool:
        return self.why.startswith(OUT_OF_DATE)


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
    pipeline: Pipeline,
    output: str,
    only: list[str] | None = None,
    force: list[str] | None = None,
    base_dir: Path | None = None,
) -> list[PlanItem]:
    """Decide per stage whether to run: not committed, config or outside files or an input
    changed, forced, an upstream stage of this run reruns (its new manifest will differ), or
    transient failures to retry. Raises :class:`UserError` for a missing outside file or
    input, before anything is written."""
    only, force = set(only or []), set(force or [])
    base_dir = base_dir or Path.cwd()
    for name in only | force:
        pipeline.stage(name)  # raises SpecError for an unknown name
    items: list[PlanItem] = []
    rerun: set[str] = set()
    stale: set[str] = set()
    for spec in pipeline.stages:
        chash = stage_config_hash(pipeline, spec)
        inputs = [(ref, input_path(output, ref)) for ref in spec.inputs]
        committed = read_manifest(fs.join(output, spec.name))
        if only and spec.name not in only:
            why = _staleness(committed, chash, inputs, rerun, stale) or "not selected (--only)"
            if why.startswith(OUT_OF_DATE):
                stale.add(spec.name)
            items.append(PlanItem(spec, "skip", why, chash, inputs))
            continue
        outside = fingerprint.resolve(pipeline, spec, base_dir)
        action, why = "run", ""
        if spec.name in force:
            why = "forced"
        elif committed is None:
            why = "not committed"
        elif committed.get("config_hash") != chash:
            why = "config changed"
        elif changed := fingerprint.first_change(committed.get("outside_files"), outside):
            why = f"input files changed: {changed}"
        elif any(ref in rerun for ref in spec.inputs):
            why = "an input reruns"
        elif _recorded_inputs(committed) != _current_inputs(inputs):
            why = "an input changed"
        elif failures := committed.get("transient_failures") or 0:
            why = f"{failures} transient failures to retry"
        else:
            action, why = "skip", "committed and unchanged"
        if action == "run":
            rerun.add(spec.name)
            for ref, path in inputs:
                if ref not in rerun and not _plain_artifact(spec, ref) and read_manifest(path) is None:
                    raise UserError(f"stage {spec.name!r}: input {ref!r} has no committed dataset at {path}")
        items.append(PlanItem(spec, action, why, chash, inputs, outside, fingerprint.combined(outside)))
    return items


def _staleness(
    committed: dict[str, Any] | None,
    chash: str,
    inputs: list[tuple[str, str]],
    rerun: set[str],
    stale: set[str],
) -> str | None:
    """Why a stage ``--only`` leaves out no longer matches what it was built from, or None."""
    if committed is None:
        return None
    if committed.get("config_hash") != chash:
        return f"{OUT_OF_DATE} (config changed)"
    for ref, _ in inputs:
        if ref in rerun:
            return f"{OUT_OF_DATE} ({ref} changed)"
        if ref in stale:
            return f"{OUT_OF_DATE} ({ref} is out of date)"
    recorded, current = _recorded_inputs(committed), _current_inputs(inputs)
    for ref in current:
        if recorded.get(ref) != current[ref]:
            return f"{OUT_OF_DATE} ({ref} changed)"
    return None


def _plain_artifact(spec: StageSpec, ref: str) -> bool:
    """``ref`` is a plain folder bound to an artifact role (fingerprinted as a tree, no manifest)."""
    return spec.role_kind(ref) == "artifact" and is_dataset_path(ref)


def _recorded_inputs(manifest: dict[str, Any]) -> dict[str, str]:
    return {i["name"]: i["manifest_sha256"] for i in manifest.get("inputs", [])}


def _current_inputs(inputs: list[tuple[str, str]]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for ref, path in inputs:
        out[ref] = manifest_sha256(path) if read_manifest(path) is not None else None
    return out


def skipped_result(item: PlanItem, output: str) -> dict[str, Any]:
    """A skipped stage's row of the run summary, from its committed manifest."""
    m = read_manifest(fs.join(output, item.spec.name)) or {}
    keys = ("rows_in", "rows_kept", "rows_removed", "removed_by_reason", "seconds", "timings", "metrics")
    return {
        **{k: m[k] for k in keys if k in m},
        "stage": item.spec.name,
        "status": OUT_OF_DATE if item.out_of_date else "skipped",
        "why": item.why,
    }


def check_writable(output: str) -> None:
    """Fail early with one line when the output folder cannot be written."""
    probe = fs.join(output, f".write-probe-{uuid.uuid4().hex}")
    try:
        fs.makedirs(output)
        fs.write_text_atomic(probe, "ok")
        fs.remove(probe)
    except OSError as e:
        raise UserError(f"output folder {output} is not writable: {e.strerror or e}") from None
