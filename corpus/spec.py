"""Pipeline YAML schema. Every error names the file, the stage (index and name) and the field.

A pipeline file::

    name: web
    output: out/web            # relative paths resolve against the working directory
    seed: 42
    spark: {master: "local[*]", conf: {spark.sql.shuffle.partitions: "16"}}
    stages:
      - kind: warc             # a registered stage kind (corpus/stages/__init__.py)
        name: warc             # optional, defaults to the kind; must be unique
        manifest: manifests/sample_web.txt   # the kind's own parameters, flat
      - kind: extract          # input defaults to the previous stage
      - kind: tokenize
        inputs: [out/web/exact_dedup]        # or stage names / committed dataset folders
      - kind: score
        inputs: {docs: heuristics, model: train_quality}   # by role (the kind's INPUTS)

``inputs`` is a list (refs bound to the kind's roles in declared order; a ``many`` role takes
the rest) or a mapping ``{role: ref or [refs]}``. A ref is a stage name of this pipeline or a
folder (contains ``/``): a committed dataset, or for an artifact role a plain folder.

Parameters are validated by the kind's own ``Params`` model, so unknown keys are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corpus import stages
from corpus.errors import UserError
from corpus.stages.base import Role, StageParams, roles_of

ENVELOPE_KEYS = {"kind", "name", "inputs"}
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class SpecError(UserError):
    """A mistake in a pipeline file: one line naming file, stage and field; exit code 2."""


class SparkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    master: str | None = None
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)


class PipelineHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    output: str
    seed: int = 0
    spark: SparkSpec = Field(default_factory=SparkSpec)
    stages: list[dict[str, Any]]


@dataclass(frozen=True)
class StageSpec:
    """One validated stage: its kind, unique name, inputs and typed params."""

    index: int
    kind: str
    name: str
    inputs: tuple[str, ...]
    """Every ref, in binding order (what ``plan`` checks and hashes)."""
    params: StageParams
    bindings: tuple[tuple[str, str], ...] = ()
    """``(role, ref)`` pairs; a ``many`` role appears once per ref."""
    roles: dict[str, Role] = field(default_factory=dict)
    """The kind's declared roles."""

    def role_kind(self, ref: str) -> str:
        """``dataset`` or ``artifact``: what ``ref`` is read as."""
        for role, r in self.bindings:
            if r == ref:
                return self.roles[role].kind
        return "dataset"


def is_dataset_path(ref: str) -> bool:
    """An ``inputs`` entry naming a committed dataset folder rather than a stage of this pipeline."""
    return "/" in ref or "\\" in ref


@dataclass(frozen=True)
class Pipeline:
    path: Path
    name: str
    output: str
    seed: int
    master: str | None
    spark_conf: dict[str, str]
    stages: tuple[StageSpec, ...] = field(default_factory=tuple)

    def stage(self, name: str) -> StageSpec:
        for s in self.stages:
            if s.name == name:
                return s
        raise SpecError(
            f"{self.path}: no stage named {name!r} (stages: {', '.join(s.name for s in self.stages)})"
        )


def _loc(parts: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _first_error(err: ValidationError) -> tuple[str, str]:
    e = err.errors()[0]
    msg = e["msg"]
    if e["type"] == "extra_forbidden":
        msg = "unknown field"
    elif e["type"] == "missing":
        msg = "required field is missing"
    return _loc(tuple(e["loc"])), msg


def load_pipeline(path: str | Path) -> Pipeline:
    """Parse and validate a pipeline file; raises :class:`SpecError` with one clear line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{path}: cannot read: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError(f"{path}: invalid YAML{where}: {problem}") from None
    return load_pipeline_dict(raw, path)


def load_pipeline_dict(raw: Any, path: str | Path = "<pipeline>") -> Pipeline:
    """Validate an already-parsed pipeline mapping (``path`` only labels the errors)."""
    path = Path(path)
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a pipeline must be a mapping with name, output and stages")
    try:
        header = PipelineHeader.model_validate(raw)
    except ValidationError as e:
        loc, msg = _first_error(e)
        raise SpecError(f"{path}: field {loc!r}: {msg}") from None
    if not header.stages:
        raise SpecError(f"{path}: field 'stages': at least one stage is required")

    specs: list[StageSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(header.stages):
        specs.append(_stage(path, i, entry, seen, specs))
    return Pipeline(
        path=path,
        name=header.name,
        output=header.output,
        seed=header.seed,
        master=header.spark.master,
        spark_conf={
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in header.spark.conf.items()
        },
        stages=tuple(specs),
    )


def _stage(path: Path, i: int, entry: Any, seen: set[str], before: list[StageSpec]) -> StageSpec:
    where = f"{path}: stage {i}"
    if not isinstance(entry, dict):
        raise SpecError(f"{where}: must be a mapping with a 'kind'")
    kind = entry.get("kind")
    if kind is None:
        raise SpecError(f"{where}: field 'kind': required field is missing")
    if kind not in stages.KINDS:
        raise SpecError(
            f"{where}: field 'kind': unknown stage kind {kind!r} (known: {', '.join(sorted(stages.KINDS))})"
        )
    name = entry.get("name", kind)
    where = f"{path}: stage {i} ({name})"
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SpecError(f"{where}: field 'name': must be letters, digits, '_', '-' or '.'")
    if name in seen:
        raise SpecError(f"{where}: field 'name': duplicate stage name {name!r}")
    seen.add(name)

    module = stages.load(kind)
    roles = roles_of(module)
    bindings = _bind(where, entry.get("inputs"), roles, before)
    params_raw = {k: v for k, v in entry.items() if k not in ENVELOPE_KEYS}
    try:
        params = module.Params.model_validate(params_raw)
    except ValidationError as e:
        loc, msg = _first_error(e)
        raise SpecError(f"{where}: field {loc!r}: {msg}") from None
    check = getattr(module, "check_inputs", None)
    if check is not None:
        try:
            check(params, {role for role, _ in bindings})
        except ValueError as e:
            raise SpecError(f"{where}: field 'inputs': {e}") from None
    return StageSpec(
        index=i,
        kind=kind,
        name=name,
        inputs=tuple(ref for _, ref in bindings),
        params=params,
        bindings=tuple(bindings),
        roles=dict(roles),
    )


def _bind(where: str, raw: Any, roles: dict[str, Role], before: list[StageSpec]) -> list[tuple[str, str]]:
    """Bind ``inputs`` (list, mapping, string or absent) to the kind's roles; one-line errors."""
    names = {s.name for s in before}
    datasets = [r for r, role in roles.items() if role.kind == "dataset"]
    if raw is None:
        raw = {}
    if isinstance(raw, str):
        raw = [raw]
    pairs: list[tuple[str, str]] = []
    if isinstance(raw, list):
        if not all(isinstance(x, str) for x in raw):
            raise SpecError(f"{where}: field 'inputs': must be a list of stage names or dataset folders")
        order = list(roles)
        for k, ref in enumerate(raw):
            if k < len(order):
                pairs.append((order[k], ref))
            elif order and roles[order[-1]].many:
                pairs.append((order[-1], ref))
            else:
                raise SpecError(
                    f"{where}: field 'inputs': {len(raw)} inputs given, the kind takes "
                    f"{len(order)} ({', '.join(order) or 'none'})"
                )
    elif isinstance(raw, dict):
        for role, refs in raw.items():
            if role not in roles:
                raise SpecError(
                    f"{where}: field 'inputs.{role}': unknown role (roles: {', '.join(roles) or 'none'})"
                )
            refs = [refs] if isinstance(refs, str) else refs
            if not isinstance(refs, list) or not refs or not all(isinstance(x, str) for x in refs):
                raise SpecError(f"{where}: field 'inputs.{role}': must be a stage name or a folder")
            if len(refs) > 1 and not roles[role].many:
                raise SpecError(f"{where}: field 'inputs.{role}': takes one input, got {len(refs)}")
            pairs.extend((role, ref) for ref in refs)
    else:
        raise SpecError(f"{where}: field 'inputs': must be a list or a mapping of role to input")
    given = {role for role, _ in pairs}
    if isinstance(raw, dict) and before and len(datasets) == 1 and datasets[0] not in given:
        pairs.insert(0, (datasets[0], before[-1].name))  # the only dataset role: previous stage
        given.add(datasets[0])
    for role, spec in roles.items():
        if spec.required and role not in given:
            raise SpecError(f"{where}: field 'inputs.{role}': required {spec.kind} input is missing")
    for role, ref in pairs:
        if not is_dataset_path(ref) and ref not in names:
            label = "inputs" if isinstance(raw, list) else f"inputs.{role}"
            raise SpecError(f"{where}: field {label!r}: {ref!r} is not an earlier stage of this pipeline")
    _check_keys(where, pairs, roles)
    return pairs


def _check_keys(where: str, pairs: list[tuple[str, str]], roles: dict[str, Role]) -> None:
    """A stage sees its dataset inputs keyed by ref for a ``many`` role and by role name
    otherwise (:class:`corpus.stages.base.StageContext`), so a ref given twice, or a ref named
    like another dataset role of the kind, would shadow an input: refuse both."""
    seen: dict[str, str] = {}
    for role, ref in pairs:
        if roles[role].kind != "dataset":
            continue
        key = ref if roles[role].many else role
        if key in seen:
            other = seen[key]
            if other == role:
                why = f"{ref!r} is given twice"
            else:
                single, many = (role, other) if not roles[role].many else (other, role)
                why = f"{key!r} is both role {single!r} and an input of role {many!r}"
            raise SpecError(f"{where}: field 'inputs': {why}; rename the stage or drop the repeat")
        seen[key] = role
